"""The export: what it selects, its dictionary, and what an interrupted one leaves."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from segur_portability.errors import ExportError
from segur_portability.signing import signer_for, trust_for
from segur_portability.verify import verify_archive
from segur_portability.writer import export_archive

from segur_core.safezip import open_zip


def _export(runtime, out, **kwargs):
    return export_archive(runtime, out, signer=signer_for(runtime), source_id="1.2.3", **kwargs)


def test_an_interrupted_export_leaves_no_archive(source, tmp_path):
    runtime, _ids = source

    def interrupt(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _export(runtime, tmp_path, progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_one_patient_is_a_unitary_export(source, tmp_path):
    runtime, ids = source
    result = _export(runtime, tmp_path, patient_ids=[ids[1]])
    assert (result.export_type, result.patients, result.documents) == ("UNITAIRE", 1, 1)
    with zipfile.ZipFile(result.path) as top:
        assert {n for n in top.namelist() if n.startswith("PAT")} == {"PAT00001.ZIP"}


def test_since_keeps_only_later_data_and_says_partial(source, tmp_path):
    runtime, ids = source
    result = _export(runtime, tmp_path, patient_ids=ids[:1], since=dt.datetime(2024, 10, 3))
    assert (result.export_type, result.export_status, result.documents) == (
        "UNITAIRE",
        "PARTIAL",
        0,
    )
    with zipfile.ZipFile(result.path) as top, open_zip(top.read("PAT00001.ZIP")) as inner:
        dispensations = json.loads(inner.read("DATA/DISPENS.JSN"))
    assert [d["label"] for d in dispensations] == ["PARACETAMOL 500 mg"]


def test_an_unknown_patient_is_refused_without_its_id(source, tmp_path):
    runtime, _ids = source
    with pytest.raises(ExportError) as caught:
        _export(runtime, tmp_path, patient_ids=["P999999"])
    assert "P999999" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_the_dictionary_tells_negative_from_not_filled_in(exported):
    _runtime, _ids, result = exported
    with zipfile.ZipFile(result.path) as top:
        french = top.read("DOCUMENTATION/DICO_FR.HTM").decode()
        english = top.read("DOCUMENTATION/DICO_EN.HTM").decode()
        schema = json.loads(top.read("DOCUMENTATION/SCHEMAS/CONSENTS.JSN"))
    assert "Non renseigné" in french and "Négatif" in french
    assert "Not filled in" in english and "Negative" in english
    # granted: a yes/no field whose negative is false; note: may be not filled in
    assert "<td>granted</td><td>boolean</td>" in english
    assert "<td>note</td><td>string</td><td>Note</td><td>null</td>" in english
    assert "<td>identity.attributes</td><td>array</td>" in english
    assert schema["items"]["properties"]["granted"]["type"] == "boolean"


def test_index_page_shows_the_data_and_links_the_documents(exported):
    _runtime, _ids, result = exported
    with zipfile.ZipFile(result.path) as top, open_zip(top.read("PAT00001.ZIP")) as inner:
        page = inner.read("INDEX.HTM").decode()
    assert 'href="IHE_XDM/SUBSET01/DOC0001.XML"' in page
    assert 'href="PDF/DOC0002.PDF"' in page
    assert "PARACETAMOL 500 mg" in page and "non renseigné" in page


def test_worker_processes_build_the_same_archives(source, tmp_path):
    runtime, _ids = source
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    alone = _export(runtime, tmp_path / "one", now=now)
    pooled = _export(runtime, tmp_path / "two", now=now, workers=2)
    assert (pooled.patients, pooled.documents) == (alone.patients, alone.documents)
    assert verify_archive(pooled.path, ca_pem_file=trust_for(runtime)).ok
    with zipfile.ZipFile(alone.path) as a, zipfile.ZipFile(pooled.path) as b:
        for name in ("PAT00001.ZIP", "PAT00002.ZIP", "PAT00003.ZIP"):
            with open_zip(a.read(name)) as x, open_zip(b.read(name)) as y:
                data = [n for n in x.names() if n.startswith(("DATA/", "IHE_XDM/", "PDF/"))]
                assert data == [n for n in y.names() if n.startswith(("DATA/", "IHE_XDM/", "PDF/"))]
                # METADATA.XML holds fresh entry UUIDs: everything else is the same bytes
                assert [x.read(n) for n in data if "METADATA" not in n] == [
                    y.read(n) for n in data if "METADATA" not in n
                ]


def test_an_interrupted_export_with_workers_leaves_no_archive(source, tmp_path):
    runtime, _ids = source

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _export(runtime, tmp_path, progress=interrupt, workers=2)
    assert list(tmp_path.iterdir()) == []


def test_each_document_parsed_once(built_documents, monkeypatch):
    """A patient's archive parses each CDA once: the document carrying a PDF gives its
    XDS metadata and its rendering from the same tree."""
    from collections import Counter

    import segur_portability.patient as patient

    from segur_core import cdaheader
    from segur_core.safexml import parse_xml
    from segur_core.xdm import Issuer

    parsed: Counter[bytes] = Counter()

    def counting(data, **kwargs):
        parsed[bytes(data)] += 1
        return parse_xml(data, **kwargs)

    import segur_portability.renderings as renderings

    for module in (patient, renderings, cdaheader):
        monkeypatch.setattr(module, "parse_xml", counting, raising=False)
    built = patient.build_archive(
        list(built_documents),
        [],
        issuer=Issuer(struct_id="1234567890", struct_name="Pharmacie"),
        source_id="1.2.3.999",
        title="Patient 00001",
    )
    assert built.documents == len(built_documents)
    assert any(b"nonXMLBody" in d.content for d in built_documents)
    assert {d.content: 1 for d in built_documents} == dict(parsed)
    with zipfile.ZipFile(io.BytesIO(built.data)) as archive:
        assert "PDF/DOC0002.PDF" in archive.namelist()


def test_with_segur_documents_each_patients_documents_are_read_once(
    make_segur_runtime, built_documents, tmp_path, monkeypatch
):
    """The export hands the documents it read to the sections (``documents``):
    segur-documents' vaccinations come from them, not from a second host read, and
    from the tree the header is read from (each CDA parsed once)."""
    from collections import Counter

    import segur_documents.plugin as documents_plugin
    import segur_portability.plugin as portability_plugin

    from segur_core import safexml

    from .conftest import fill

    runtime = make_segur_runtime(extra_plugins=[portability_plugin, documents_plugin])
    ids = fill(runtime, built_documents)
    listed: list[str] = []
    facade = type(runtime.host)
    real = facade.list_documents

    def list_documents(host, patient_id, *args, **kwargs):
        listed.append(patient_id)
        return real(host, patient_id, *args, **kwargs)

    monkeypatch.setattr(facade, "list_documents", list_documents)
    parsed: Counter[bytes] = Counter()
    parse = safexml._parse

    def counting(data, *args):
        parsed[bytes(data)] += 1
        return parse(data, *args)

    monkeypatch.setattr(safexml, "_parse", counting)
    result = _export(runtime, tmp_path)
    assert sorted(listed) == sorted(ids)
    vaccination, entretien = built_documents
    assert (parsed[vaccination.content], parsed[entretien.content]) == (1, 1)
    with zipfile.ZipFile(result.path) as top, open_zip(top.read("PAT00001.ZIP")) as inner:
        [vaccination] = json.loads(inner.read("DATA/VACCINS.JSN"))
    assert (vaccination["lot"], vaccination["given"]) == ("4456672", True)
