"""Other plugins' parts of the portability export: segur-dmp's section (where each of the
patient's documents stands with the DMP) lands in the patient's archive, follows its
schema, and its fields are in the data dictionary, segur-portability unchanged."""

from __future__ import annotations

import json
import zipfile

import segur_dmp.plugin as dmp_plugin
import segur_portability.plugin as portability_plugin
from segur_portability.signing import signer_for, trust_for
from segur_portability.verify import verify_archive
from segur_portability.writer import export_archive

from segur_core.model import BirthDate, Identity, IdentityTraits, Patient
from segur_core.safezip import open_zip


def test_the_dmp_status_of_a_patients_documents_is_exported(make_segur_runtime, tmp_path):
    from segur_dmp.service import service_for

    runtime = make_segur_runtime(extra_plugins=[portability_plugin, dmp_plugin])
    patient = runtime.host.save_patient(
        Patient("", Identity(IdentityTraits("MARTIN", ("Léa",), "F", BirthDate(1990, 5, 1))))
    )
    status = service_for(runtime).status
    status.set("1.2.3^doc-1", patient.id, "in-dmp", delivery_id=7)
    status.set("1.2.3^doc-2", patient.id, "failed", delivery_id=8, detail="XDSRegistryError")

    result = export_archive(runtime, tmp_path, signer=signer_for(runtime), source_id="1.2.3")
    assert verify_archive(result.path, ca_pem_file=trust_for(runtime)).ok
    with zipfile.ZipFile(result.path) as top:
        french = top.read("DOCUMENTATION/DICO_FR.HTM").decode()
        with open_zip(top.read("PAT00001.ZIP")) as inner:
            rows = json.loads(inner.read("DATA/DMP.JSN"))
    assert {(r["document_id"], r["state"]) for r in rows} == {
        ("1.2.3^doc-1", "in-dmp"),
        ("1.2.3^doc-2", "failed"),
    }
    assert "Alimentation du DMP" in french and "<td>state</td>" in french
