"""Export → verify → import into an empty reference host gives the same data."""

from __future__ import annotations

import json
import zipfile

import segur_documents.plugin as documents_plugin
import segur_dp.plugin as dp_plugin
import segur_eprescription.plugin as eprescription_plugin
import segur_ins.plugin as ins_plugin
import segur_mssante.plugin as mss_plugin
import segur_portability.plugin as portability_plugin
from segur_dp.service import service_for as dp_service
from segur_eprescription.service import service_for as eprescription_service
from segur_portability.importer import import_archive
from segur_portability.manifest import read_manifest
from segur_portability.signing import signer_for, trust_for
from segur_portability.verify import verify_archive
from segur_portability.writer import export_archive

from segur_core.safezip import open_zip

from .conftest import fill

#: The sections they contribute.
NEW_SECTIONS = ("vaccins", "identhis", "idcheck", "insi", "epread", "epdisp", "dpconsul")
NEW_SECTIONS += ("dpdisp", "msssent", "mssrecv")
#: The plugins contributing sections of their own to the export.
CONTRIBUTORS = [documents_plugin, ins_plugin, eprescription_plugin, dp_plugin, mss_plugin]


def _snapshot(runtime, ids):
    host = runtime.host
    out = {}
    for pid in ids:
        out[pid] = (
            host.get_patient(pid),
            host.list_documents(pid),
            host.dispensations(pid),
            [host.consent(pid, purpose) for purpose in ("dmp-access", "dp")],
        )
    return out


def test_export_verify_import_gives_the_same_data(exported, make_runtime):
    runtime, ids, result = exported
    assert result.path.name.startswith("PA") and result.path.suffix == ".ZIP"
    assert (result.patients, result.documents) == (3, 3)
    assert (result.export_type, result.export_status) == ("MASSIF", "COMPLETE")
    assert result.path.stat().st_mode & 0o777 == 0o600
    report = verify_archive(result.path, ca_pem_file=str(runtime.test_pki().ca_bundle))
    assert report.ok, report.problems
    assert report.patients == 3 and "CN=" in (report.signer or "")

    target = make_runtime()
    assert target.host.find_patients() == []
    imported = import_archive(target, result.path)
    assert (imported.patients, imported.documents) == (3, 3)
    assert (imported.dispensations, imported.consents) == (2, 2)
    assert _snapshot(target, ids) == _snapshot(runtime, ids)

    again = import_archive(target, result.path)  # nothing twice
    assert (again.patients, again.skipped, again.documents) == (0, 3, 0)
    assert _snapshot(target, ids) == _snapshot(runtime, ids)


def test_archive_follows_the_pdlgc_layout(exported):
    _runtime, _ids, result = exported
    with zipfile.ZipFile(result.path) as top:
        names = set(top.namelist())
        manifest = read_manifest(top.read("MANIFEST.XML"))
        patient = top.read("PAT00001.ZIP")
        scanned = top.read("PAT00002.ZIP")
    assert {"README.TXT", "MANIFEST.XML", "SIGN.XML", "TRANSVERSE.ZIP"} <= names
    assert {"PAT00001.ZIP", "PAT00002.ZIP", "PAT00003.ZIP"} <= names
    assert {"DOCUMENTATION/DICO_FR.HTM", "DOCUMENTATION/DICO_EN.HTM"} <= names
    assert manifest.statistics == {"patients": 3, "documents": 3, "archives": 4}
    kinds = {e.name: e.type for e in manifest.entries}
    assert kinds["PAT00001.ZIP"] == "PATIENT" and kinds["TRANSVERSE.ZIP"] == "TRANSVERSE"
    with open_zip(patient) as inner:
        members = set(inner.names())
    assert {"README.TXT", "INDEX.HTM", "IHE_XDM/SUBSET01/METADATA.XML"} <= members
    assert {"IHE_XDM/SUBSET01/DOC0001.XML", "IHE_XDM/SUBSET01/DOC0002.XML"} <= members
    assert "PDF/DOC0002.PDF" in members  # the N1 document's PDF, as it carries it
    assert "PDF/DOC0001.PDF" in members  # the structured note's, kept when validated
    assert {"DATA/PATIENT.JSN", "DATA/DOCS.JSN", "DATA/DISPENS.JSN", "DATA/CONSENTS.JSN"} <= (
        members
    )
    with open_zip(scanned) as inner:
        assert "OTHER/DOC0001.PDF" in set(inner.names())  # no CDA: kept as is, outside XDM


def _section(archive_path, member, section):
    with zipfile.ZipFile(archive_path) as top, open_zip(top.read(member)) as inner:
        names = set(inner.names())
        file = f"DATA/{section.upper()}.JSN"
        return json.loads(inner.read(file)) if file in names else None


def test_the_plugins_sections_survive_verify_and_a_fresh_import(
    make_segur_runtime, built_documents, tmp_path
):
    """Every contributing plugin's section is in the archive, follows the schema shipped
    with it (verify) and is documented; an informational one (derived from restored data,
    or a history kept in the archive only) says so, and the one derived from restored
    documents comes out the same from the host it was imported into."""
    plugins = [portability_plugin, *CONTRIBUTORS]
    source = make_segur_runtime(extra_plugins=plugins)
    ids = fill(source, built_documents)
    checked = ins_plugin.service(source).check_document(source.host.get_patient(ids[1]), "PA")
    erx = eprescription_service(source)
    reported = erx.dispense(erx.fetch("SBX000000000000001"), build_document=False).report
    dp = dp_service(source)
    dp.create(ids[0])  # the consent recorded by fill
    out = export_archive(source, tmp_path / "one", signer=signer_for(source), source_id="1.2.3")
    assert verify_archive(out.path, ca_pem_file=trust_for(source)).ok
    vaccinations = _section(out.path, "PAT00001.ZIP", "vaccins")
    assert [(v["lot"], v["given"]) for v in vaccinations] == [("4456672", True)]
    assert _section(out.path, "PAT00002.ZIP", "vaccins") == []  # none: a negative answer
    [check] = _section(out.path, "PAT00002.ZIP", "idcheck")
    assert (check["document"], check["to_status"]) == ("PA", str(checked.identity.status))
    assert _section(out.path, "PAT00003.ZIP", "identhis") == []
    [dispensed] = _section(out.path, "PAT00001.ZIP", "epdisp")  # the sandbox's patient
    assert (dispensed["report"], dispensed["delivery"]) == (reported.report_id, "pending")
    [opened] = _section(out.path, "PAT00001.ZIP", "dpconsul")
    assert (opened["action"], opened["dossier"]) == ("create", "refused")  # fill: refuses
    with zipfile.ZipFile(out.path) as top:
        english = top.read("DOCUMENTATION/DICO_EN.HTM").decode()
        french = top.read("DOCUMENTATION/DICO_FR.HTM").decode()
        schemas = {n for n in top.namelist() if n.startswith("DOCUMENTATION/SCHEMAS/")}
    for name in NEW_SECTIONS:
        assert f"DOCUMENTATION/SCHEMAS/{name.upper()}.JSN" in schemas
    assert "<td>lot</td><td>string</td>" in english
    assert "segur import does not restore it" in english
    assert "segur import ne le restaure pas" in french

    target = make_segur_runtime(extra_plugins=plugins)
    import_archive(target, out.path)
    again = export_archive(target, tmp_path / "two", signer=signer_for(target), source_id="1.2.3")
    assert _section(again.path, "PAT00001.ZIP", "vaccins") == vaccinations
    # the identity is imported (PATIENT.JSN), its history stays in the first archive
    assert target.host.get_patient(ids[1]) == checked
    assert _section(again.path, "PAT00002.ZIP", "idcheck") == []
