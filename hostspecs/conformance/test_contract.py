"""The host contract, checked on the host named by ``--host-factory``.

Each assertion message says which hook broke which rule of :mod:`hostspecs.hookspecs`.
"""

from __future__ import annotations

import datetime as dt
import re
import threading

import attrs
import pytest

from hostspecs.conformance import samples
from hostspecs.conformance.contract import Contract
from segur_core.host import CursorError
from segur_core.model import Option, Question


def test_every_hook_of_the_contract_is_implemented(contract: Contract) -> None:
    missing = contract.missing_hooks()
    assert not missing, f"the host does not implement: {', '.join(missing)}"


def test_structure_identifies_the_pharmacy(contract: Contract) -> None:
    structure = contract.structure()
    assert re.fullmatch(r"\d{9}|2[AB]\d{7}", structure.finess), (
        f"host_structure: FINESS must be 9 characters, got {len(structure.finess)}"
    )
    assert structure.name.strip(), "host_structure: the structure has no name"


def test_practitioner_is_identified_by_rpps(contract: Contract) -> None:
    practitioner = contract.practitioner()
    assert re.fullmatch(r"\d{11}", practitioner.rpps), "host_practitioner: RPPS must be 11 digits"
    assert practitioner.profession, "host_practitioner: no profession code (TRE_G15)"


def test_saving_a_new_patient_assigns_an_identifier(contract: Contract) -> None:
    first = contract.save_patient(samples.patient())
    second = contract.save_patient(samples.patient(birth_name="AUTRE"))
    assert first.id, "host_save_patient: a patient saved with an empty id got no id"
    assert first.id != second.id, "host_save_patient: two new patients got the same id"


def test_a_saved_patient_reads_back_identical(contract: Contract) -> None:
    saved = contract.save_patient(samples.patient(qualified=True))
    assert contract.get_patient(saved.id) == saved, (
        "host_get_patient: the patient read back differs from the one saved"
        " (identity status, INS, attributes and traits must all be kept)"
    )


def test_saving_again_updates_the_patient(contract: Contract) -> None:
    saved = contract.save_patient(samples.patient())
    changed = attrs.evolve(saved, email="new@example.test")
    assert contract.save_patient(changed).id == saved.id, (
        "host_save_patient: saving a known patient must keep its id"
    )
    assert contract.get_patient(saved.id) == changed, (
        "host_save_patient: the update of a known patient was not kept"
    )


def test_unknown_patient_is_none(contract: Contract) -> None:
    assert contract.get_patient("no-such-patient") is None, (
        "host_get_patient: an unknown id must give None"
    )


def test_find_patients_matches_every_given_criterion(contract: Contract) -> None:
    alice = contract.save_patient(samples.patient(qualified=True))
    contract.save_patient(samples.patient(first_names=("BRUNO",)))
    contract.save_patient(samples.patient(birth_name="TIERS"))

    by_name = contract.find_patients(birth_name="conformite")
    assert len(by_name) == 2, (
        "host_find_patients: birth_name must match case-insensitively on the whole value"
    )
    both = contract.find_patients(birth_name="CONFORMITE", first_name="alice")
    assert [p.id for p in both] == [alice.id], (
        "host_find_patients: all given criteria must match (birth name AND first name)"
    )
    by_date = contract.find_patients(birth_date="1985-06-15", first_name="BRUNO")
    assert len(by_date) == 1, "host_find_patients: birth_date is YYYY-MM-DD"
    by_ins = contract.find_patients(ins_matricule=alice.identity.ins.matricule)
    assert [p.id for p in by_ins] == [alice.id], (
        "host_find_patients: ins_matricule must match the patient's current INS"
    )
    assert contract.find_patients(birth_name="PERSONNE") == [], (
        "host_find_patients: no match must give an empty list"
    )
    ids = [p.id for p in contract.find_patients(birth_name="CONFORMITE")]
    assert ids == sorted(ids), "host_find_patients: results must be ordered by id"


def _paged(contract: Contract, limit: int, between_pages=None) -> list[str]:
    """Every patient's id, page after page of ``limit``; ``between_pages(n)`` runs after
    page ``n``. Each page must hold at most ``limit`` patients and the pages must end."""
    if not contract.implements("host_patients_page"):
        pytest.skip("host_patients_page is optional: segur lists patients all at once")
    ids: list[str] = []
    cursor = None
    for number in range(1, 1000):
        page = contract.patients_page(cursor, limit)
        if number == 1 and len(page.patients) > limit and page.next_cursor is None:
            pytest.skip("the host gives every patient at once (an LGO without GET /patients)")
        assert len(page.patients) <= limit, (
            f"host_patients_page: {len(page.patients)} patients in a page of {limit}"
        )
        ids += [p.id for p in page.patients]
        if page.next_cursor is None:
            return ids
        assert page.next_cursor != cursor, "host_patients_page: the same cursor came back"
        cursor = page.next_cursor
        if between_pages is not None:
            between_pages(number)
    raise AssertionError("host_patients_page: the pages never end (next_cursor never None)")


def test_pages_cover_every_patient_exactly_once(contract: Contract) -> None:
    saved = [contract.save_patient(samples.patient(f"PAGE{n}")).id for n in range(7)]
    for limit in (1, 3, 7, 50):
        ids = _paged(contract, limit)
        assert len(ids) == len(set(ids)), (
            f"host_patients_page: a patient came twice in pages of {limit}"
        )
        assert sorted(ids) == sorted(saved), (
            f"host_patients_page: pages of {limit} must hold every patient"
        )


def test_pages_hold_every_patient_once_while_patients_are_added(contract: Contract) -> None:
    saved = [contract.save_patient(samples.patient(f"AVANT{n}")) for n in range(6)]
    added: list[str] = []

    def meanwhile(page: int) -> None:
        if page > 2:
            return
        for n in range(2):
            added.append(contract.save_patient(samples.patient(f"PENDANT{page}X{n}")).id)
        seen = saved[page - 1]  # one already listed is updated: it must not come again
        contract.save_patient(attrs.evolve(seen, email=f"p{page}@example.test"))

    ids = _paged(contract, 2, meanwhile)
    assert len(ids) == len(set(ids)), (
        "host_patients_page: a patient came twice while patients were added or updated"
        " (pages must go by a stable key, not by offset)"
    )
    missing = {p.id for p in saved} - set(ids)
    assert not missing, (
        f"host_patients_page: {len(missing)} patients present from the first page to the"
        " last were on no page while others were added (pages must go by a stable key)"
    )
    assert set(ids) <= {p.id for p in saved} | set(added)


def test_a_wrong_page_cursor_is_a_cursor_error(contract: Contract) -> None:
    contract.save_patient(samples.patient())
    _paged(contract, 1)  # skips a host without pages
    for wrong in ("!!not-a-cursor!!", "k1.", "\x00"):
        with pytest.raises(CursorError):
            contract.patients_page(wrong, 1)


def test_documents_are_stored_byte_for_byte(contract: Contract) -> None:
    owner = contract.save_patient(samples.patient())
    document = samples.document(owner.id, 1)
    contract.store_document(document)
    assert contract.get_document(document.id) == document, (
        "host_get_document: the document read back differs (content must be kept byte for byte)"
    )
    assert contract.get_document("1.2.3.unknown") is None, (
        "host_get_document: an unknown id must give None"
    )


def test_a_received_documents_kit_report_is_kept(contract: Contract) -> None:
    owner = contract.save_patient(samples.patient())
    document = samples.received_document(owner.id, 4)
    contract.store_document(document)
    assert contract.get_document(document.id) == document, (
        "host_get_document: a received document must read back with its check "
        "(HealthDocument.check: the CDA test kit's verdict and every issue)"
    )


def test_received_messages_are_kept_as_received(contract: Contract) -> None:
    owner = contract.save_patient(samples.patient())
    anonymous, identified = samples.message(1), samples.message(2, owner.id)
    for message in (anonymous, identified):
        contract.store_message(message)
        assert contract.get_message(message.id) == message, (
            "host_get_message: the message read back differs (content and parts byte for "
            "byte, sender, subject, text, patient)"
        )
    contract.store_message(anonymous)
    assert contract.get_message(anonymous.id) == anonymous, (
        "host_store_message: storing the same id again must keep one message, unchanged"
    )
    assert contract.get_message("mss:unknown") is None, (
        "host_get_message: an unknown id must give None"
    )


def test_storing_the_same_id_replaces(contract: Contract) -> None:
    owner = contract.save_patient(samples.patient())
    document = samples.document(owner.id, 1)
    contract.store_document(document)
    validated = attrs.evolve(document, status="validated")
    contract.store_document(validated)
    assert contract.list_documents(owner.id) == [validated], (
        "host_store_document: storing a known id must replace it, not add a second one"
    )


def test_documents_are_listed_oldest_first_per_patient(contract: Contract) -> None:
    owner = contract.save_patient(samples.patient())
    other = contract.save_patient(samples.patient(birth_name="AUTRE"))
    later = samples.document(owner.id, 2, created_at=samples.T0 + dt.timedelta(days=1))
    earlier = samples.document(owner.id, 1)
    contract.store_document(later)
    contract.store_document(earlier)
    contract.store_document(samples.document(other.id, 3))
    assert [d.id for d in contract.list_documents(owner.id)] == [earlier.id, later.id], (
        "host_list_documents: a patient's documents, oldest first, and only theirs"
    )


def test_dispensations_newest_first_since_inclusive(contract: Contract) -> None:
    owner = contract.save_patient(samples.patient())
    other = contract.save_patient(samples.patient(birth_name="AUTRE"))
    for hours in (0, 5, 10):
        contract.record_dispensation(samples.dispensation(owner.id, hours))
    contract.record_dispensation(samples.dispensation(other.id, 7))
    history = contract.dispensations(owner.id)
    assert [d.dispensed_at for d in history] == sorted(
        (d.dispensed_at for d in history), reverse=True
    ) and len(history) == 3, "host_dispensations: a patient's dispensations, newest first"
    since = samples.T0 + dt.timedelta(hours=5)
    recent = contract.dispensations(owner.id, since)
    assert [d.dispensed_at for d in recent] == [
        samples.T0 + dt.timedelta(hours=10),
        since,
    ], "host_dispensations: `since` keeps dispensations at or after that instant"


def test_latest_consent_wins(contract: Contract) -> None:
    owner = contract.save_patient(samples.patient())
    assert contract.consent(owner.id, "dmp-access") is None, (
        "host_consent: no record must give None"
    )
    contract.record_consent(samples.consent(owner.id, True, 0))
    contract.record_consent(samples.consent(owner.id, False, 5))
    latest = contract.consent(owner.id, "dmp-access")
    assert latest is not None and latest.granted is False, (
        "host_consent: the latest record must win"
    )
    assert contract.consent(owner.id, "other-purpose") is None, (
        "host_consent: records are per purpose"
    )


def test_consent_history_keeps_every_record_in_order(contract: Contract) -> None:
    if not contract.implements("host_consents"):
        pytest.skip("host_consents is optional: the export has the latest record per purpose")
    owner = contract.save_patient(samples.patient())
    other = contract.save_patient(samples.patient())
    assert contract.consents(owner.id) in ([], None), "host_consents: no record, no history"
    recorded = [
        samples.consent(owner.id, True, 0),
        attrs.evolve(samples.consent(owner.id, False, 2), purpose="dp"),
        samples.consent(owner.id, False, 5),
    ]
    for consent in recorded:
        contract.record_consent(consent)
    contract.record_consent(samples.consent(other.id, True, 1))
    history = contract.consents(owner.id)
    if history is None:
        pytest.skip("host_consents: the host keeps no history at hand")
    assert history == recorded, (
        "host_consents: every record of the patient, every purpose, in the order recorded"
    )
    for purpose in ("dmp-access", "dp"):
        assert [c for c in history if c.purpose == purpose][-1] == contract.consent(
            owner.id, purpose
        ), "host_consents: the last record of a purpose is what host_consent returns"


def test_decide_answers_one_of_the_options(contract: Contract) -> None:
    question = Question(
        kind="conformance.choose",
        prompt="Which identity?",
        options=(Option("a", "first"), Option("b", "second")),
        default="b",
    )
    answer = contract.decide(question)
    assert answer.key in {"a", "b"}, "host_decide: the answer must be one of the option keys"


def test_concurrent_saves_get_distinct_ids(contract: Contract) -> None:
    ids: list[str] = []
    errors: list[BaseException] = []

    def save(n: int) -> None:
        try:
            for i in range(10):
                ids.append(contract.save_patient(samples.patient(f"FIL{n}X{i}")).id)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, f"host_save_patient: failed under concurrent use: {errors[0]!r}"
    assert len(set(ids)) == 40, "host_save_patient: concurrent saves must get distinct ids"


@pytest.mark.parametrize("status", ["PROV", "RECUP", "VALI", "QUAL"])
def test_every_identity_status_is_kept(contract: Contract, status: str) -> None:
    base = samples.patient(qualified=True)
    patient = attrs.evolve(base, identity=attrs.evolve(base.identity, status=status))
    saved = contract.save_patient(patient)
    assert contract.get_patient(saved.id).identity.status == status, (
        f"host_get_patient: identity status {status} was not kept"
    )


def test_the_installed_plugins_get_what_they_need(host_under_test, tmp_path) -> None:
    from segur_core.runtime import create_runtime

    with create_runtime(host=host_under_test, data_dir=tmp_path / "segur") as runtime:
        problems = runtime.host_problems()
    assert not problems, "the host lacks what installed plugins need:\n" + "\n".join(
        f"  segur-{plugin}: {problem}" for plugin, problem in problems
    )
