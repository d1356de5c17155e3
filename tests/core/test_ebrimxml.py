"""METADATA.XML written as text gives the bytes lxml gave.

``_lxml_metadata`` below is how :func:`segur_core.xdm.write_metadata` built the file
before (the ebRIM elements of :mod:`segur_core.xds.ebrim`, pretty printed by lxml): the
oracle. With the same fresh UUIDs (``uuid.uuid4`` drawn from one seeded sequence on both
sides), both writers must give the same bytes, or refuse with the same error, for the
metadata of every official XDM example, of every official CDA example, and for
adversarial values (quotes, ampersands, markup, white space, non-ASCII, characters XML
cannot carry, values at and over their ebRIM limits).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from segur_core import safezip
from segur_core.xdm import read_metadata, write_metadata
from segur_core.xds import ebrim, ebrimxml
from segur_core.xds.metadata import (
    Author,
    Code,
    DocumentEntry,
    SubmissionSet,
    entry_from_cda,
    new_urn,
)
from segur_core.xds.ns import NS, UUID

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
XDM = SHARED / "xdm"
EXAMPLES = SHARED / "cisis" / "TestContenuCDA-3-0" / "ExemplesCDA"


def _lxml_metadata(submission: SubmissionSet, entries: list[tuple[DocumentEntry, str]]) -> bytes:
    """The former writer: lxml elements, pretty printed."""
    lcm = NS["lcm"]
    root = etree.Element(f"{{{lcm}}}SubmitObjectsRequest", nsmap={"lcm": lcm, "rim": NS["rim"]})
    objects = etree.SubElement(root, ebrim.rim("RegistryObjectList"))
    objects.append(ebrim.submission_set_element(submission))
    objects.append(ebrim.submission_set_classification(submission))
    for entry, uri in entries:
        eo = ebrim.document_entry_element(entry)
        uri_slot = ebrim.slot(etree.Element("holder"), "URI", [uri])
        last_slot = max(i for i, child in enumerate(eo) if child.tag == ebrim.rim("Slot"))
        eo.insert(last_slot + 1, uri_slot)
        objects.append(eo)
        objects.append(
            ebrim.association(
                UUID.HAS_MEMBER,
                submission.entry_uuid,
                entry.entry_uuid,
                slots=[("SubmissionSetStatus", ["Original"])],
            )
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _seeded(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    draw = random.Random(seed)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=draw.getrandbits(128), version=4))
    # both writers draw their ids with new_urn: from the same sequence here
    for writer in (ebrim, ebrimxml):
        monkeypatch.setattr(writer, "new_urn", lambda: f"urn:uuid:{uuid.uuid4()}")


def test_new_urn_is_a_random_version_4_uuid_as_uuid4_writes_it():
    drawn = {new_urn() for _ in range(2000)}
    assert len(drawn) == 2000
    for urn in drawn:
        value = uuid.UUID(urn.removeprefix("urn:uuid:"))
        assert (value.version, value.variant) == (4, uuid.RFC_4122)
        assert urn == f"urn:uuid:{value}"


def _outcome(write: Callable[[], bytes]) -> tuple[str, object]:
    try:
        return "bytes", write()
    except Exception as exc:  # the same refusal on both sides: type and message
        return type(exc).__name__, str(exc)


def _same(
    monkeypatch: pytest.MonkeyPatch,
    submission: SubmissionSet,
    entries: list[tuple[DocumentEntry, str]],
) -> tuple[str, object]:
    _seeded(monkeypatch, 7)
    expected = _outcome(lambda: _lxml_metadata(submission, entries))
    _seeded(monkeypatch, 7)
    found = _outcome(lambda: write_metadata(submission, entries))
    assert found == expected
    return found


def _official() -> Iterator[str]:
    yield from (sorted(p.name for p in XDM.glob("*.zip")) if XDM.is_dir() else ["absent"])


@pytest.mark.parametrize("name", list(_official()))
def test_official_metadata_written_again_give_the_bytes_lxml_gave(name, monkeypatch):
    if not (XDM / name).is_file():
        pytest.skip(f"the official XDM archives are not in {XDM}")
    with safezip.open_zip(XDM / name) as archive:
        metadata = read_metadata(archive.read("IHE_XDM/SUBSET01/METADATA.XML"))
    kind, written = _same(monkeypatch, metadata.submission, list(metadata.entries))
    assert kind == "bytes"
    assert read_metadata(written) == metadata  # and it reads back as what was written


def _cdas() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.xml")) if EXAMPLES.is_dir() else ["absent"]


@pytest.mark.parametrize("name", _cdas())
def test_metadata_of_official_documents_give_the_bytes_lxml_gave(name, monkeypatch):
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip(f"the ANS CDA examples are not in {EXAMPLES}")
    entry = entry_from_cda(path.read_bytes(), patient_id="")
    submission = SubmissionSet(
        "2.25.1", "1.2.3", entry.patient_id, "20240101000000", Code("SA33", "1.2", "Ph"),
        authors=entry.authors, title=entry.title,
    )  # fmt: skip
    kind, _ = _same(monkeypatch, submission, [(entry, "DOC0001.XML"), (entry, "DOC0002.XML")])
    assert kind == "bytes"


# -- adversarial values ---------------------------------------------------------------------

_SPECIAL = ["&", "<", ">", '"', "'", "\t", "\n", "\r", "]]>", "é", "\u2028", "😀", "\x85",
            "\x01", "\x0b", "\x00", "\ufffe", "\uffff", "\ud800", "&amp;", " "]  # fmt: skip
_PIECE = st.one_of(
    st.sampled_from(_SPECIAL),
    st.text(st.characters(codec="utf-8"), max_size=4),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=2),
)
_TEXT = st.lists(_PIECE, max_size=5).map("".join)
_CLEAN = st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=6)


def _sized(limit: int) -> st.SearchStrategy[str]:
    """A value shorter than, at or over ``limit`` characters."""
    return st.builds(
        lambda char, n: char * n,
        st.sampled_from(["a", "&", "é"]),
        st.integers(limit - 1, limit + 1),
    )


@st.composite
def submissions(draw: st.DrawFn) -> tuple[SubmissionSet, list[tuple[DocumentEntry, str]]]:
    """A submission set and one to three entries whose values come from a small pool:
    clean ones, hostile ones, some at or over their ebRIM limits."""
    pool = draw(
        st.lists(st.one_of(_CLEAN, _TEXT, _sized(256), _sized(1024)), min_size=1, max_size=6)
    )
    pick = st.sampled_from([*pool, "x"])

    def value() -> str:
        return draw(pick)

    def optional() -> str | None:
        return draw(st.one_of(st.none(), pick))

    def several(most: int = 2) -> list[str]:
        return draw(st.lists(pick, max_size=most))

    def code() -> Code:
        return Code(value(), value(), value())

    def authors() -> list[Author]:
        return [
            Author(optional(), several(), several(), several())
            for _ in range(draw(st.integers(0, 2)))
        ]

    entries = []
    for _ in range(draw(st.integers(1, 3))):
        entry = DocumentEntry(
            unique_id=value(), patient_id=value(), class_code=code(), type_code=code(),
            format_code=code(), confidentiality=[code() for _ in several()],
            healthcare_facility=code(), practice_setting=code(), creation_time=value(),
            title=value(), hash=value(), size=draw(st.integers(0, 10**9)), language=value(),
            mime_type=value(), authors=authors(), legal_authenticator=optional(),
            service_start=optional(), service_stop=optional(), source_patient_id=optional(),
            source_patient_info=several(3), entry_uuid=value(), status=value(),
            repository_id=optional(), version=value(), lid=optional(),
            event_codes=[code() for _ in several()],
        )  # fmt: skip
        entries.append((entry, value()))
    submission = SubmissionSet(
        unique_id=value(), source_id=value(), patient_id=value(), submission_time=value(),
        content_type=code(), authors=authors(), title=optional(), entry_uuid=value(),
    )  # fmt: skip
    return submission, entries


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(submissions())
def test_any_metadata_give_the_bytes_or_the_refusal_lxml_gave(monkeypatch, case):
    submission, entries = case
    _same(monkeypatch, submission, entries)


@pytest.mark.parametrize(
    ("title", "refusal"),
    [
        ("a\x01b", "ValueError"),
        ("a\ud800", "UnicodeEncodeError"),
        ("a" * 1025, "MetadataLimitError"),
        ('« l\'été » & <b> "x"\r\n\t', "bytes"),
    ],
)
def test_hostile_titles_are_refused_or_escaped_as_before(monkeypatch, title, refusal):
    code = Code("c", "s", "d")
    entry = DocumentEntry(
        "1.2^3", "P^^^&1.2&ISO^NH", code, code, code, (code,), code, code, "2024", title
    )
    submission = SubmissionSet("2.25.1", "1.2.3", "P", "2024", code, title="t")
    kind, written = _same(monkeypatch, submission, [(entry, "DOC0001.XML")])
    assert kind == refusal
    if kind == "bytes":
        (read,) = read_metadata(written).entries
        assert read[0].title == title  # character references keep every character
