"""The MSSanté directory: the extraction's header and rows, the incremental import, the
search (accents, prefixes, filters, ranking) and its safety against any user text."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from segur_mssante.directory import (
    COLUMNS,
    BadRow,
    Directory,
    DirectoryError,
    Entry,
    HeaderError,
    check_header,
    match_expression,
    parse_row,
    read_extraction,
)
from segur_mssante.directory.sample import HEADER, sample_rows, write_extraction

REFERENCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "mssante.md"


def _cells(kind="PER", address="a@x.mssante.fr", **fields) -> list[str]:
    cells = [""] * len(COLUMNS)
    cells[0], cells[1] = kind, address
    names = [field for _header, field in COLUMNS]
    for name, value in fields.items():
        cells[names.index(name)] = value
    return cells


def _line(cells) -> bytes:
    return "|".join(cells).encode() + b"\n"


@pytest.fixture
def store(tmp_path):
    with Directory(tmp_path / "data" / "mss-directory.sqlite") as directory:
        yield directory


def _import(store, tmp_path, rows, name="extraction.txt"):
    return store.import_file(write_extraction(tmp_path / name, iter(rows)))


# -- the file ------------------------------------------------------------------------------


def test_header_is_the_references_31_columns():
    if not REFERENCE.is_file():
        pytest.skip(f"the project reference is absent ({REFERENCE})")
    text = REFERENCE.read_text(encoding="utf-8")
    section = text[text.index("### 6.5") :]
    listed = re.search(r"`(Type de BAL \|[^`]+)`", section).group(1)
    names = [name.strip() for name in listed.split("|")]
    assert len(names) == len(COLUMNS) == 31
    # The reference spells the address block in words ("L2 complément localisation")
    # and says the real header suffixes it " structure BAL"; the file spells it
    # L2COMPLEMENTLOCALISATION... (seen in real-format fixtures): the first 20 match exactly.
    assert names[:20] == [header for header, _field in COLUMNS[:20]]
    assert all(header.endswith(" structure BAL") for header, _f in COLUMNS[20:])
    assert [h.removesuffix(" structure BAL") for h, _f in COLUMNS[28:]] == names[28:]
    check_header(HEADER.encode())


def test_header_variants_accepted():
    check_header(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")  # BOM, CRLF
    short = [h.removesuffix(" structure BAL") if i >= 20 else h for i, (h, _) in enumerate(COLUMNS)]
    check_header("|".join(short).encode())


@pytest.mark.parametrize(
    ("header", "column"),
    [
        (HEADER.replace("Nom d'exercice", "Nom"), 10),
        (HEADER.rsplit("|", 1)[0], 31),
        (HEADER + "|Extra", 32),
        (HEADER.replace("|", ";"), 1),
        ("Type de BAL|Adresse", 2),
    ],
)
def test_wrong_header_names_the_column(tmp_path, store, header, column):
    path = tmp_path / "bad.txt"
    path.write_text(header + "\n" + "|".join(_cells()) + "\n", encoding="utf-8")
    with pytest.raises(HeaderError) as caught:
        store.import_file(path)
    assert caught.value.column == column
    assert f"column {column}" in str(caught.value)
    assert len(store) == 0


def test_empty_and_unreadable_files(tmp_path, store):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(DirectoryError, match="empty"):
        store.import_file(tmp_path / "empty.txt")
    with pytest.raises(DirectoryError, match="cannot read"):
        store.import_file(tmp_path / "absent.txt")
    (tmp_path / "latin1.txt").write_bytes(HEADER.encode("latin-1"))
    with pytest.raises(HeaderError, match="UTF-8"):
        store.import_file(tmp_path / "latin1.txt")


def test_parse_row_reads_the_31_columns():
    cells = _cells(family_name="GUÉRIN", first_name="Hélène", pp_id="10001234567")
    entry = parse_row(_line(cells).replace(b"\n", b"\r\n"), 2)
    assert isinstance(entry, Entry) and entry.values() == tuple(cells)
    assert entry.family_name == "GUÉRIN" and entry.key == "a@x.mssante.fr"
    assert parse_row(b"PER|a@b", 7) == BadRow(7, "columns")
    assert parse_row(_line(cells).replace("Hélène".encode(), b"H\xe9l\xe8ne"), 8) == BadRow(
        8, "encoding"
    )
    assert parse_row(_line(_cells(address="")), 9) == BadRow(9, "address")


_cell = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="|\r\n"), max_size=12
)


@given(st.binary(max_size=400))
@settings(max_examples=300)
def test_parse_row_never_raises(data):
    row = parse_row(data, 5)
    assert isinstance(row, Entry | BadRow)
    if isinstance(row, Entry):
        assert len(row.values()) == 31 and row.mssante_address


_address = st.from_regex(r"[a-z0-9.]{1,20}@[a-z.]{1,9}", fullmatch=True)


@given(st.lists(_cell, min_size=31, max_size=31), _address)
@settings(max_examples=200)
def test_parse_row_round_trips(cells, address):
    cells[1] = address
    row = parse_row(_line(cells), 3)
    assert isinstance(row, Entry)
    assert row.values() == tuple(c.strip() for c in cells)


def test_read_extraction_counts_lines_and_skips_blank_ones():
    lines = [HEADER.encode() + b"\n", _line(_cells()), b"\n", b"bad\n", _line(_cells())]
    rows = list(read_extraction(iter(lines)))
    assert [type(r) for r in rows] == [Entry, BadRow, Entry]
    assert rows[1] == BadRow(4, "columns")


# -- import --------------------------------------------------------------------------------


def test_import_is_private_and_reports(tmp_path, store):
    report = _import(store, tmp_path, sample_rows(300))
    assert (report.rows, report.added, report.removed, report.bad_rows) == (300, 300, 0, 0)
    assert len(store) == 300 and store.imported_at
    assert store.path.stat().st_mode & 0o777 == 0o600
    store.check()
    again = _import(store, tmp_path, sample_rows(300))
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 300)


def test_incremental_update(tmp_path, store):
    rows = list(sample_rows(100))
    _import(store, tmp_path, rows)
    kept, gone = rows[:90], rows[90:]
    changed = [list(r) for r in kept[:5]]
    for cells in changed:
        cells[27] = "21000 DIJON"
    new = [_cells(address=f"nouveau.{i}@pharmacie.mssante.fr", organisation="PHARMACIE NEUVE")
           for i in range(7)]  # fmt: skip
    report = _import(store, tmp_path, changed + kept[5:] + new, "next.txt")
    assert (report.added, report.changed, report.removed, report.unchanged) == (7, 5, 10, 85)
    assert len(store) == 97
    assert store.get(gone[0][1]) is None
    assert store.get(changed[0][1].upper()).line6 == "21000 DIJON"
    assert store.search("neuve", limit=50) and len(store.search("neuve", limit=50)) == 7
    assert not store.search(gone[0][1])  # the index follows the table
    store.check()


def test_bad_rows_and_duplicates_are_counted_not_fatal(tmp_path, store):
    good = list(sample_rows(20))
    path = tmp_path / "mixed.txt"
    lines = [HEADER.encode()] + ["|".join(r).encode() for r in good]
    lines.insert(3, b"PER|too|few")
    lines.insert(6, "|".join(_cells(family_name="Hélène")).encode("latin-1"))
    lines.append("|".join([*good[0][:27], "99999 AILLEURS", *good[0][28:]]).encode())
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = store.import_file(path)
    assert report.bad_rows == 2 and report.bad_reasons == {"columns": 1, "encoding": 1}
    assert report.bad_lines == (4, 7)
    assert report.duplicates == 1 and report.added == 20 and len(store) == 20
    assert store.get(good[0][1]).line6 == good[0][27]  # the first row of an address kept


def test_a_file_without_good_rows_leaves_the_directory(tmp_path, store):
    _import(store, tmp_path, sample_rows(10))
    (tmp_path / "junk.txt").write_bytes(HEADER.encode() + b"\nPER|x\n")
    with pytest.raises(DirectoryError, match="left unchanged"):
        store.import_file(tmp_path / "junk.txt")
    assert len(store) == 10


def _zipped(tmp_path, members: dict[str, bytes], name="extraction.zip") -> Path:
    import zipfile

    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


def test_the_zipped_extraction_as_published_is_imported(tmp_path, store):
    text = write_extraction(tmp_path / "Extraction_Correspondance_MSSante.txt", sample_rows(300))
    zipped = _zipped(tmp_path, {text.name: text.read_bytes()})
    seen = []
    report = store.import_file(zipped, on_progress=lambda *a: seen.append(a))
    assert (report.rows, report.added, report.bad_rows) == (300, 300, 0)
    assert seen[-2] == ("read", text.stat().st_size, text.stat().st_size)  # uncompressed bytes
    again = store.import_file(text)  # the same rows from the .txt: nothing changes
    assert (again.added, again.changed, again.removed, again.unchanged) == (0, 0, 0, 300)
    store.check()


def test_a_zip_that_is_not_one_extraction_is_refused(tmp_path, store):
    from segur_core.errors import UnsafeZipError

    _import(store, tmp_path, sample_rows(10))
    two = _zipped(tmp_path, {"a.txt": HEADER.encode() + b"\n", "b.txt": b""}, "two.zip")
    with pytest.raises(DirectoryError, match=r"2 \.txt files"):
        store.import_file(two)
    with pytest.raises(DirectoryError, match=r"0 \.txt files"):
        store.import_file(_zipped(tmp_path, {"readme.pdf": b"%PDF"}, "none.zip"))
    with pytest.raises(UnsafeZipError):
        store.import_file(_zipped(tmp_path, {"../../x.txt": b"x"}, "evil.zip"))
    line = os.urandom(1 << 20).hex().encode()  # 2 MB without a line break
    endless = _zipped(tmp_path, {"x.txt": HEADER.encode() + b"\n" + line}, "long.zip")
    with pytest.raises(DirectoryError, match="longer than"):
        store.import_file(endless)
    assert len(store) == 10  # left as it was


# -- search --------------------------------------------------------------------------------


@pytest.fixture
def filled(tmp_path, store):
    rows = [
        _cells(address="helene.guerin@pharmacien.mssante.fr", family_name="GUÉRIN",
               first_name="Hélène", pp_id="10001234567", profession_code="21",
               profession_label="Pharmacien", organisation="PHARMACIE DU MARCHÉ",
               line6="69003 LYON"),
        _cells(address="eric.martin@medecin.mssante.fr", family_name="MARTIN",
               first_name="Éric", pp_id="10007654321", profession_code="10",
               profession_label="Médecin", specialty_label="Cardiologie",
               line6="75011 PARIS"),
        _cells(kind="ORG", address="officine@guerin-pharma.mssante.fr",
               organisation="PHARMACIE CENTRALE", line6="69003 LYON"),
        *sample_rows(200),
    ]  # fmt: skip
    _import(store, tmp_path, rows)
    return store


def test_search_finds_by_name_id_structure_town_profession(filled):
    assert filled.search("helene")[0].pp_id == "10001234567"
    assert filled.search("GUERIN hélène")[0].first_name == "Hélène"
    assert filled.search("gué")[0].family_name == "GUÉRIN"  # prefix, accents ignored
    assert filled.search("10007654321")[0].family_name == "MARTIN"
    assert filled.search("1000765")[0].family_name == "MARTIN"
    assert filled.search("marché")[0].organisation == "PHARMACIE DU MARCHÉ"
    assert filled.search("cardio martin")[0].first_name == "Éric"
    assert {e.line6 for e in filled.search("lyon", limit=1000)} == {"69003 LYON"}


def test_search_ranks_names_first(filled):
    # "guerin" is a name in one row and only in the address of the other
    found = filled.search("guerin", limit=1000)
    ours = [e.mssante_address for e in found if "guerin" in e.mssante_address.split("@")[1]]
    assert ours and found[0].family_name.startswith("GU")


def test_search_filters(filled):
    assert [e.kind for e in filled.search("guerin", kind="org")] == ["ORG"]
    assert all(e.profession_code == "10" for e in filled.search("paris", profession="10"))
    assert len(filled.search("lyon", limit=2)) == 2
    with pytest.raises(DirectoryError):
        filled.search("lyon", limit=0)


@pytest.mark.parametrize(
    "text", ['"', "AND", "NEAR(a b)", "-x", "a*", "^", ":", "col:x", "(", "x OR", "'", "", "  "]
)
def test_fts_syntax_is_plain_text(filled, text):
    assert isinstance(filled.search(text), list)


@given(st.text(max_size=40))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_text_is_a_safe_query(filled, text):
    expression = match_expression(text)
    assert expression is None or expression.count('"') % 2 == 0
    assert isinstance(filled.search(text), list)


def test_a_common_word_searched_as_its_terms_finds_the_same_rows(filled, monkeypatch):
    """A common prefix is searched as the whole terms it covers (faster for FTS5): the
    same rows as the prefix itself (bm25 then scores each term apart, so the order of
    equally good rows may differ)."""
    from segur_mssante.directory import store as store_module

    texts = ["pharmacie", "pharma lyon", "phar guérin", "cabinet", "méd par", "lyon 69"]
    before = {text: filled.search(text, limit=300) for text in texts}
    monkeypatch.setattr(store_module, "COMMON_WORD_ROWS", 3)  # every word is common here
    assert "OR" in filled._expression(["pharma"])
    for text in texts:
        after = filled.search(text, limit=300)
        assert sorted(map(repr, after)) == sorted(map(repr, before[text])), text
        assert {e.mssante_address for e in after} == {e.mssante_address for e in before[text]}
    assert filled.search("guérin")[0].family_name == "GUÉRIN"  # names still first


def test_an_address_typed_whole_is_that_mailbox(filled):
    (found,) = filled.search("Helene.Guerin@pharmacien.mssante.fr")
    assert found.pp_id == "10001234567"
    assert filled.search("helene.guerin@pharmacien.mssante.fr", kind="ORG") == []
    assert filled.search("guerin@")  # not an address: searched as words


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("\u0345")  # a combining mark that casefold turns into a letter (iota)
def test_fold_is_the_indexs_rule(text):
    from segur_mssante.directory.query import _slow_fold, fold

    assert fold(text) == _slow_fold(text)
