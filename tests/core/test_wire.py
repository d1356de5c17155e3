"""segur_core.wire: SOAP envelopes and faults round-trip, garbage is a typed error, the
call settings a worker process receives pickle."""

from __future__ import annotations

import contextlib
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from segur_core.config import Config, structure_table
from segur_core.errors import ConfigError, InputError
from segur_core.wire import soap
from segur_core.wire.errors import certificate_failure
from segur_core.wire.http import CallLimits
from segur_core.wire.tls import TlsSettings


def _body() -> etree._Element:
    body = etree.Element("{urn:example}Ask", nsmap={"ex": "urn:example"})
    body.text = "ça & <that>"
    return body


def test_an_envelope_reads_back_its_addressing_and_security():
    token = etree.Element("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion", ID="_1")
    headers = soap.addressing(action="urn:act", message_id="urn:uuid:1", to="https://x/p")
    data = soap.build_envelope(_body(), [*headers, soap.security([token])])
    envelope = soap.parse_envelope(data)
    assert (envelope.action, envelope.message_id, envelope.to) == (
        "urn:act", "urn:uuid:1", "https://x/p"
    )  # fmt: skip
    assert envelope.relates_to is None and envelope.fault is None
    assert envelope.body.text == "ça & <that>"
    assert envelope.security()[0].get("ID") == "_1"


def test_the_text_envelope_is_the_tree_envelope():
    body = etree.tostring(_body(), encoding="unicode")
    header = '<wsa:MessageID xmlns:wsa="http://www.w3.org/2005/08/addressing">m</wsa:MessageID>'
    tree = soap.build_envelope(_body(), soap.addressing(message_id="m"))
    assert soap.envelope_text(header.replace(f' xmlns:wsa="{soap.WSA}"', ""), body) == tree


def test_a_fault_reads_back():
    detail = etree.Element("{urn:siram}Erreur", code="insi_102")
    data = soap.build_fault("Receiver", "try later", subcode="x:busy",
                            subcode_nsmap={"x": "urn:x"}, detail=detail)  # fmt: skip
    fault = soap.parse_envelope(data).fault
    assert fault is not None and fault.receiver
    assert (fault.code, fault.subcode, fault.reason) == ("soap:Receiver", "x:busy", "try later")
    assert fault.detail[0].get("code") == "insi_102"


@given(st.binary(max_size=300))
def test_garbage_is_a_typed_input_error(data):
    with contextlib.suppress(InputError):
        soap.parse_envelope(data)


@given(st.sampled_from(["a", "b", "c"]), st.integers(min_value=0, max_value=3))
def test_anything_that_is_not_one_body_element_is_refused(name, count):
    children = "".join(f"<{name}/>" for _ in range(count))
    data = f'<s:Envelope xmlns:s="{soap.SOAP12}"><s:Body>{children}</s:Body></s:Envelope>'
    try:
        envelope = soap.parse_envelope(data.encode())
    except InputError:
        assert count != 1
    else:
        assert count == 1 and envelope.body.tag == name


def test_what_a_worker_process_receives_pickles():
    settings = TlsSettings(Path("/ca.pem"), pkcs12=Path("/c.p12"), password="secret")
    limits = CallLimits(2.0, max_bytes=1024)
    assert pickle.loads(pickle.dumps((settings, limits))) == (settings, limits)
    assert "secret" not in repr(settings)
    assert limits.connect == 2.0 and CallLimits(30.0).connect == 5.0


def test_a_certificate_failure_is_found_deep_in_the_chain():
    import ssl

    root = ssl.SSLCertVerificationError("unable to get local issuer certificate")
    try:
        try:
            try:
                raise root
            except ssl.SSLError as exc:
                raise OSError("connect failed") from exc
        except OSError:
            raise RuntimeError("wrapped")  # noqa: B904 - an implicit __context__ link
    except RuntimeError as exc:
        assert certificate_failure(exc) is root
    assert certificate_failure(OSError("reset")) is None


@pytest.mark.parametrize(
    ("module", "table", "old", "new_table", "leaf"),
    [
        ("segur_ins.config:InsConfig", "ins", "ca_bundle", "ins.tls", "ca_bundle"),
        ("segur_dmp.config:DMPConfig", "dmp", "client_pkcs12", "dmp.tls", "client_pkcs12"),
        ("segur_vitale.config:VitaleConfig", "vitale", "apcv_ca_bundle",
         "vitale.apcv_tls", "ca_bundle"),
        ("segur_mssante.config:MSSConfig", "mss", "client_cert", "mss.tls", "client_cert"),
    ],
)  # fmt: skip
def test_a_tls_key_of_the_old_shape_names_its_new_place(module, table, old, new_table, leaf):
    import importlib

    path, _, name = module.partition(":")
    cls = getattr(importlib.import_module(path), name)
    with pytest.raises(ConfigError) as caught:
        structure_table(Config.from_dict({table: {old: "x"}}), table, cls)
    assert caught.value.key == f"{table}.{old}"
    assert f"[{new_table}]" in str(caught.value) and leaf in caught.value.hint
    sub = new_table.partition(".")[2]
    moved = structure_table(Config.from_dict({table: {sub: {leaf: "/x"}}}), table, cls)
    assert str(getattr(getattr(moved, sub), leaf)).endswith("x")
