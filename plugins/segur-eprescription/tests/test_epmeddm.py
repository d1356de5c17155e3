"""The kit's eP-MED-DM examples read into the model; hostile and mutated inputs refused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segur_eprescription.epmeddm import read_prescription
from segur_eprescription.errors import PrescriptionFormatError
from segur_eprescription.models import CIP13_OID, ProductKind

from .conftest import kit_example


def test_kit_examples_are_read(ep_med_dm: bytes) -> None:
    p = read_prescription(ep_med_dm)
    assert p.id == "01S2TBPZ2JCNZZYGHZ"
    assert p.prescriber.rpps == "801234567897"
    assert p.prescriber.structure_id == "1750512345"
    assert p.issued_at == dt.datetime(2023, 12, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert p.patient.ins is not None and p.patient.ins.oid == "1.2.250.1.213.1.4.10"
    assert p.patient.sex == "F"
    first = p.lines[0]
    # the CIP13 translation is the most precise code a pharmacy dispenses
    assert (first.product.kind, first.product.code) == (ProductKind.CIP13, "3400933516390")
    assert first.product.system == CIP13_OID
    assert first.product.substance == "paracetamol"
    assert first.renewals == 3
    assert not first.substitutable
    assert first.quantity is not None and first.quantity.value == 2
    assert (first.start, first.end, first.duration_days) == (
        dt.date(2023, 12, 1), dt.date(2023, 12, 6), 6,
    )  # fmt: skip
    assert first.dosage
    assert any(line.device for line in p.lines)
    core = p.to_core()
    assert core.id == p.id and len(core.items) == len(p.lines)
    assert "PAT-TROIS" not in repr(p) and "PIOU" not in repr(p)


def test_unstructured_dosage_is_the_narrative_cell() -> None:
    p = read_prescription(kit_example("eP-MED-DM_2024.01_PosoNonStruct.xml"))
    assert p.lines[0].dosage.startswith("1 à 2 comprimés 3 fois/j")
    # the second line is a magistral preparation: no product code
    assert p.lines[1].product.kind is ProductKind.SUBSTANCE or p.lines[1].product.code is None


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (b'extension="01S2TBPZ2JCNZZYGHZ"', b'extension="01s2"', "prescription id"),
        (b'root="1.2.250.1.215.500.1.1"', b'root="1.2.3"', "0 prescription ids"),
        (b'<repeatNumber value="3"/>', b'<repeatNumber value="trois"/>', "repeatNumber"),
        (b'code="57833-6" displayName', b'code="11488-4" displayName', "document type"),
        (b'<effectiveTime value="20231201093000+0100"/>', b'<effectiveTime value="20"/>', "timest"),
        (b'<quantity value="2" unit="30009000"/>', b'<quantity value="NaN"/>', "quantity"),
    ],
)
def test_mutations_are_typed_errors(old: bytes, new: bytes, says: str) -> None:
    data = kit_example("eP-MED-DM_2024.01_PosoNonStruct.xml")
    assert old in data
    with pytest.raises(PrescriptionFormatError, match=says):
        read_prescription(data.replace(old, new))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>',
        b"<a>" * 3000,
    ],
)
def test_hostile_inputs_are_typed_errors(data: bytes) -> None:
    with pytest.raises(PrescriptionFormatError):
        read_prescription(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_byte_mutation_reads_or_fails_typed(data: st.DataObject) -> None:
    original = kit_example("eP-MED-DM_2024.01_PosoStruct.xml")
    start = data.draw(st.integers(0, len(original) - 1))
    length = data.draw(st.integers(1, 40))
    junk = data.draw(st.binary(max_size=40))
    mutated = original[:start] + junk + original[start + length :]
    try:
        read_prescription(mutated)
    except PrescriptionFormatError as exc:
        assert exc.message
