"""The counter's flow with the host over HTTP: card read → INSi → the patient created in
the LGO through its API → identity card → QUAL → a vaccination note built, validated and
stored in the LGO → fed to the DMP sandbox through the outbox → listed back. The LGO is
the reference LGO side on its own SQLite database; segur holds no patient of its own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hostspecs.http import HttpHost
from hostspecs.http.server import ReferenceLgo
from segur_core.model import BirthDate, CardReading, Consent, IdentityTraits


def test_card_to_dmp_with_the_host_over_http(make_segur_runtime, tmp_path: Path) -> None:
    from segur_dmp import service_for as dmp
    from segur_documents import DocumentService, Vaccination, Vaccine
    from segur_ins.service import service as ins

    with ReferenceLgo(tmp_path / "lgo", token="flow-token") as lgo:
        runtime = make_segur_runtime(
            config={
                "segur": {"host": "hostspecs.http:http_host"},
                "host": {"url": lgo.url, "token": "flow-token"},
                "documents": {"schematron": False},  # their own tests run the schematrons
            },
            plugins=["ins", "documents", "dmp"],
            autoload=True,
        )
        assert isinstance(runtime.host_object, HttpHost)
        traits = IdentityTraits(
            birth_name="ADRUN", first_names=("ZOE",), sex="F",
            birth_date=BirthDate(1975, 12, 31), birth_place="63220",
        )  # fmt: skip
        runtime.card_read(CardReading(source="vitale-card", traits=traits))
        (patient,) = runtime.host.find_patients(birth_name="ADRUN", birth_date="1975-12-31")
        assert lgo.host.host_get_patient(patient.id) == patient  # created in the LGO
        patient = ins(runtime).check_document(patient, "CN")
        assert lgo.host.host_get_patient(patient.id).identity.status == "QUAL"

        documents = DocumentService(runtime)
        vaccine = Vaccine(
            cis="68747507", label="VACCIN TETANIQUE PASTEUR", atc="J07AM",
            atc_label="vaccins tétaniques",
        )  # fmt: skip
        draft = documents.draft(
            patient,
            Vaccination(
                vaccine=vaccine, lot_number="4456672", administered_on=dt.date.today(),
                act="BOOSTER", dose_rank=3,
            ),
        )  # fmt: skip
        document = documents.validate(draft.document, patient)
        stored = lgo.host.host_get_document(document.id)
        assert stored is not None and stored.content == document.content
        assert str(stored.status) == "validated"

        assert runtime.outbox.run_until_idle(timeout=120)
        assert dmp(runtime).status.get(document.id).state == "in-dmp"
        runtime.host.record_consent(
            Consent(patient.id, "dmp-access", True, recorded_by=runtime.host.practitioner().rpps)
        )
        assert document.id in [entry.unique_id for entry in dmp(runtime).list(patient.id)]
        assert not (runtime.data_dir / "host.sqlite").exists()  # no reference host in segur
