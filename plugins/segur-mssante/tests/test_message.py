"""The MSSanté message parts: subject convention, X-MSS headers, PDF name, Mon Espace
Santé address, message ids and the built message (properties with hypothesis)."""

from __future__ import annotations

import datetime as dt
import email
from email.policy import default

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from segur_mssante.errors import MessageError
from segur_mssante.message import (
    Attachment,
    Outgoing,
    build_message,
    message_id,
    mss_headers,
    patient_address,
    pdf_name,
    subject,
)

from segur_core.model import INS

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
days = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))


def test_subject_convention():
    born = dt.date(1979, 3, 5)
    assert (
        subject("Note de vaccination", "Durand", "Claire", born)
        == "XDM/1.0/DDM+Note de vaccination DURAND Claire 05/03/1979"
    )
    assert subject("CR", "Durand", "Claire", born, replaces=True).startswith(
        "XDM/1.0/DDM+[Annule et remplace] CR DURAND"
    )


@settings(max_examples=300)
@given(text, text, text, st.one_of(st.none(), days), st.booleans())
def test_subject_is_one_line_with_the_prefix(label, family, given_name, born, replaces):
    value = subject(label, family, given_name, born, replaces=replaces)
    assert value.startswith("XDM/1.0/DDM+")
    assert not any(ch in value for ch in "\r\n\x00")
    assert ("[Annule et remplace]" in value) is replaces or "[Annule et remplace]" in label


def test_mss_headers():
    assert mss_headers(["87273-9"], qualified_ins=True, nil="DEV1") == [
        ("X-MSS-CODECDA", "87273-9"),
        ("X-MSS-INS", "O"),
        ("X-MSS-NIL", "DEV1"),
    ]
    assert mss_headers(["a", "b"], qualified_ins=False, nil="DEV1", end=True)[1:] == [
        ("X-MSS-INS", "N"),
        ("X-MSS-NIL", "DEV1"),
        ("X-MSS-MES", "FIN"),
    ]
    assert mss_headers([], qualified_ins=None, nil="DEV1") == [("X-MSS-NIL", "DEV1")]
    with pytest.raises(MessageError):
        mss_headers([], qualified_ins=None, nil="")
    with pytest.raises(MessageError):
        mss_headers([], qualified_ins=None, nil="a\r\nBcc: x@y.fr")


@settings(max_examples=300)
@given(st.lists(text, max_size=4), st.one_of(st.none(), st.booleans()), st.booleans())
def test_mss_headers_never_inject(codes, qualified, end):
    for name, value in mss_headers(codes, qualified_ins=qualified, nil="DEV1", end=end):
        assert name.startswith("X-MSS-") and not any(ch in value for ch in "\r\n\x00")


@settings(max_examples=300)
@given(days, text, text, text, text)
def test_pdf_name_is_safe(day, kind, family, given_name, record):
    name = pdf_name(day, kind, family, given_name, record)
    assert name.endswith(".pdf") and name.isascii() and "/" not in name
    assert name.startswith(day.strftime("%Y%m%d") + "_")
    assert len(name[:-4].split("_")) == 5


def test_patient_address_needs_a_qualified_ins():
    ins = INS("279035121518989", "1.2.250.1.213.1.4.10")
    assert patient_address(ins) == "279035121518989@patient.mssante.fr"
    with pytest.raises(MessageError, match="qualified"):
        patient_address(None)
    with pytest.raises(MessageError) as caught:
        patient_address(INS("27903512151898", "1.2.250.1.213.1.4.10"))
    assert "2790351215189" not in str(caught.value)


@given(st.text(max_size=20))
def test_patient_address_from_any_matricule_is_refused_or_exact(matricule):
    try:
        address = patient_address(INS(matricule, "1.2.250.1.213.1.4.8"))
    except MessageError:
        return
    assert address == f"{matricule}@patient.mssante.fr" and len(matricule) == 15


def test_message_ids_are_unique_and_bracketed():
    ids = {message_id("pharmacie.mssante.fr") for _ in range(100)}
    assert len(ids) == 100 and all(
        i.startswith("<") and i.endswith("@pharmacie.mssante.fr>") for i in ids
    )
    with pytest.raises(MessageError):
        message_id("bad domain\r\n")


body_text = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), include_characters="\n"
    ),
    max_size=200,
)


@settings(max_examples=100, deadline=None)
@given(body_text, text, st.booleans())
def test_built_message_parses_back(body, display, receipt):
    outgoing = Outgoing(
        message_id="<1@pharmacie.mssante.fr>",
        sender="app@pharmacie.mssante.fr",
        sender_name=display,
        recipients=("dr@medecin.mssante.fr",),
        subject="XDM/1.0/DDM+Note DURAND Claire 05/03/1979",
        text=body,
        attachments=(Attachment("IHE_XDM.ZIP", "application/zip", b"PK\x03\x04"),),
        headers=(("X-MSS-NIL", "DEV1"),),
        in_reply_to="<0@pharmacie.mssante.fr>",
        references=("<0@pharmacie.mssante.fr>",),
        read_receipt=receipt,
    )
    parsed = email.message_from_bytes(build_message(outgoing).as_bytes(), policy=default)
    assert parsed["Message-ID"] == "<1@pharmacie.mssante.fr>"
    assert parsed["In-Reply-To"] == parsed["References"] == "<0@pharmacie.mssante.fr>"
    assert (parsed["Disposition-Notification-To"] is not None) is receipt
    plain = parsed.get_body(("plain",))
    assert plain.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n").rstrip("\n") == body.rstrip("\n")
    (zipped,) = parsed.iter_attachments()
    assert zipped.get_filename() == "IHE_XDM.ZIP" and zipped.get_content() == b"PK\x03\x04"


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b", "x@y.fr\r\nBcc: z@w.fr"])
def test_bad_addresses_are_refused(bad):
    with pytest.raises(MessageError):
        build_message(
            Outgoing(
                message_id="<1@a.fr>", sender="a@a.fr", recipients=(bad,), subject="s", text="t"
            )
        )
