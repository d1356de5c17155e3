"""The XDS entries kept when documents come into being (:mod:`segur_portability.entries`)
and the export reading them instead of deriving each from its CDA header."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import zipfile
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_portability.entries import FOLDER, EntryStore, keep_entry

from segur_core.model import Origin
from segur_core.safezip import open_zip
from segur_core.xdm.metadata import read_metadata
from segur_core.xds import ENTRY_RULES, Code, DocumentEntry, entry_from_cda

_METADATA = "IHE_XDM/SUBSET01/METADATA.XML"


def _export(runtime, out: Path):
    from segur_portability.signing import signer_for
    from segur_portability.writer import export_archive

    return export_archive(runtime, out, signer=signer_for(runtime), source_id="1.2.3.999")


def _entries(result) -> list[DocumentEntry]:
    """The DocumentEntries of the first patient's archive, their entryUUID blanked."""
    with zipfile.ZipFile(result.path) as top, open_zip(top.read("PAT00001.ZIP")) as inner:
        metadata = read_metadata(inner.read(_METADATA))
    return [attrs.evolve(entry, entry_uuid="") for entry, _ in metadata.entries]


def _counts(runtime) -> tuple[int, int]:
    record = [r for r in runtime.journal.records() if r.action == "portability.export"][-1]
    return record.details["entries_kept"], record.details["entries_derived"]


def _cda(runtime, patient_id: str):
    return [d for d in runtime.host.list_documents(patient_id) if d.media_type == "text/xml"]


def _same(entry: DocumentEntry | None, content: bytes) -> bool:
    derived = entry_from_cda(content, patient_id="")
    return entry is not None and attrs.evolve(entry, entry_uuid="") == attrs.evolve(
        derived, entry_uuid=""
    )


def test_validating_or_receiving_a_document_keeps_its_entry(source):
    runtime, ids = source
    shutil.rmtree(Path(runtime.data_dir) / FOLDER)
    vaccination, entretien = _cda(runtime, ids[0])
    patient = runtime.host.get_patient(ids[0])
    store = EntryStore.of(runtime)

    runtime.document_validated(vaccination, patient)
    runtime.document_received(entretien, Origin(channel="mssante", sender="a@b.mssante.fr"))

    for document in (vaccination, entretien):
        key = hashlib.sha256(document.content).hexdigest()
        assert stat.S_IMODE(store.path(key).stat().st_mode) == 0o600
        assert _same(store.get(document.content, key), document.content)
    first = store.get(vaccination.content, hashlib.sha256(vaccination.content).hexdigest())
    again = store.get(vaccination.content, hashlib.sha256(vaccination.content).hexdigest())
    assert first is not None and again is not None
    assert first.entry_uuid != again.entry_uuid  # drawn afresh at each use


def test_a_document_that_is_no_cda_keeps_no_entry(source):
    runtime, ids = source
    scan = runtime.host.list_documents(ids[1])[0]  # a PDF
    assert keep_entry(runtime, scan) is None
    assert not (
        Path(runtime.data_dir) / FOLDER / hashlib.sha256(scan.content).hexdigest()[:2]
    ).exists()


def test_the_export_reads_the_kept_entries_and_writes_the_same_metadata(source, tmp_path: Path):
    runtime, _ = source  # the validated note has its entry kept, the received CR has not
    warm = _entries(_export(runtime, tmp_path / "warm"))
    assert _counts(runtime) == (1, 1)

    shutil.rmtree(Path(runtime.data_dir) / FOLDER)
    cold = _entries(_export(runtime, tmp_path / "cold"))
    assert _counts(runtime) == (0, 2)
    assert warm == cold
    assert len(cold) == 2


def _damage(store: EntryStore, key: str, how: str, other: DocumentEntry) -> None:
    path = store.path(key)
    kept = json.loads(path.read_bytes())
    if how == "rules":
        kept["rules"] = ENTRY_RULES + 1
    elif how == "another document's":
        kept = json.loads(store.encode(other))
    elif how == "a field missing":
        del kept["entry"]["type_code"]
    elif how == "a field of the wrong type":
        kept["entry"]["authors"] = "x"
    if how == "not JSON":
        path.write_bytes(b"{not json")
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(json.dumps(kept).encode())


@pytest.mark.parametrize(
    "how",
    ["rules", "another document's", "a field missing", "a field of the wrong type",
     "not JSON", "empty"],
)  # fmt: skip
def test_an_entry_that_does_not_fit_is_derived_again(source, tmp_path: Path, how: str):
    runtime, ids = source
    vaccination, entretien = _cda(runtime, ids[0])
    store = EntryStore.of(runtime)
    key = hashlib.sha256(vaccination.content).hexdigest()
    expected = _entries(_export(runtime, tmp_path / "before"))

    _damage(store, key, how, entry_from_cda(entretien.content, patient_id=""))

    assert store.get(vaccination.content, key) is None
    assert _entries(_export(runtime, tmp_path / "after")) == expected
    assert _counts(runtime) == (0, 2)


_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.binary(max_size=200),
    title=_texts,
    display=_texts,
    authors=st.integers(0, 3),
    stop=st.none() | st.just("20241002120000"),
    info=st.lists(_texts, max_size=3),
)
def test_any_entry_is_kept_and_read_back_as_it_was(
    source, content, title, display, authors, stop, info
):
    runtime, ids = source
    vaccination = _cda(runtime, ids[0])[0]
    base = entry_from_cda(vaccination.content, patient_id="")
    entry = attrs.evolve(
        base,
        title=title,
        type_code=Code(base.type_code.code, base.type_code.scheme, display),
        authors=base.authors[:1] * authors,
        service_stop=stop,
        source_patient_info=tuple(info),
        size=len(content),
        hash=hashlib.sha1(content).hexdigest(),
    )
    store = EntryStore(Path(runtime.data_dir) / "hypothesis-entries")
    key = hashlib.sha256(content).hexdigest()

    store.put(key, entry)

    back = store.get(content, key)
    assert back is not None
    assert attrs.evolve(back, entry_uuid=entry.entry_uuid) == entry
    assert store.get(content + b"!", key) is None  # not about these bytes


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kept=st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    ).map(lambda value: json.dumps({"rules": ENTRY_RULES, "entry": value}).encode())
)
def test_whatever_a_kept_file_holds_it_is_an_entry_or_none_never_an_exception(tmp_path, kept):
    store = EntryStore(tmp_path / FOLDER)
    content = b"<ClinicalDocument/>"
    key = hashlib.sha256(content).hexdigest()
    store.path(key).parent.mkdir(parents=True, exist_ok=True)
    store.path(key).write_bytes(kept)

    assert store.get(content, key) is None  # nothing here is this document's entry
