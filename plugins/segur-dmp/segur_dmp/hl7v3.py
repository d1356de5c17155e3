"""The DMP's non-XDS messages: TD0.2 (existence and authorisation test, HL7 v3
``PRPA_IN201307UV02``) and TD0.3 (``setAuthorization`` of the Habilitations service).

[UNCERTAIN] (reference ``xds-dmp.md`` §2): the real TD0.2 answer carries the
authorisation status (``VALIDE``/``EXPIRE``/``INTERDIT``/``NON_EXISTE``) in DMP-specific
elements described only in SEL-MP-037; here it is one ``dmp:authorization`` element
after the HL7 ``controlActProcess``, shared by the client and the sandbox.
"""

from __future__ import annotations

import datetime as dt
import uuid

import attrs
from lxml import etree

from segur_dmp.errors import MTOMError
from segur_dmp.ns import NS, OID

__all__ = [
    "AUTHORIZATIONS",
    "AccessStatus",
    "read_td02_request",
    "read_td02_response",
    "read_td03_request",
    "td02_request",
    "td02_response",
    "td03_request",
    "td03_response",
]

H = NS["hl7"]
DMP = "urn:si-dmp:v2"
AUTHORIZATIONS = ("VALIDE", "EXPIRE", "INTERDIT", "NON_EXISTE")
ADD, REMOVE = "AJOUT", "SUPPRESSION"  # removal value [UNCERTAIN]


def _h(tag: str) -> str:
    return f"{{{H}}}{tag}"


@attrs.frozen
class AccessStatus:
    """The answer of TD0.2: whether the patient has a DMP, whether it is closed, the
    pharmacy's authorisation status and its reason."""

    exists: bool
    closed: bool = False
    authorization: str = "NON_EXISTE"
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.exists and not self.closed and self.authorization == "VALIDE"


def td02_request(matricule: str, oid: str, *, sender: str) -> etree._Element:
    root = etree.Element(_h("PRPA_IN201307UV02"), nsmap={None: H}, ITSVersion="XML_1.0")
    etree.SubElement(root, _h("id"), root=str(uuid.uuid4()))
    etree.SubElement(
        root, _h("creationTime"), value=dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    )
    etree.SubElement(
        root, _h("interactionId"), root="2.16.840.1.113883.1.6", extension="PRPA_IN201307UV02"
    )
    etree.SubElement(root, _h("processingCode"), code="P")
    etree.SubElement(root, _h("processingModeCode"), code="T")
    etree.SubElement(root, _h("acceptAckCode"), code="AL")
    for role, ident in (("receiver", "1.2.250.1.213.4.1.4.2"), ("sender", sender)):
        r = etree.SubElement(root, _h(role), typeCode="RCV" if role == "receiver" else "SND")
        d = etree.SubElement(r, _h("device"), classCode="DEV", determinerCode="INSTANCE")
        etree.SubElement(d, _h("id"), root=ident)
    cap = etree.SubElement(root, _h("controlActProcess"), classCode="CACT", moodCode="EVN")
    etree.SubElement(
        cap,
        _h("reasonCode"),
        code="TEST_EXST",
        codeSystem=OID.DMP_REASON,
        displayName="Test d'existence de dossier",
    )
    qbp = etree.SubElement(cap, _h("queryByParameter"))
    etree.SubElement(qbp, _h("queryId"), root=str(uuid.uuid4()))
    etree.SubElement(qbp, _h("statusCode"), code="new")
    etree.SubElement(qbp, _h("responsePriorityCode"), code="I")
    plist = etree.SubElement(qbp, _h("parameterList"))
    pid = etree.SubElement(plist, _h("patientIdentifier"))
    etree.SubElement(pid, _h("value"), root=oid, extension=matricule)
    etree.SubElement(pid, _h("semanticsText")).text = "Patient.id"
    return root


def read_td02_request(root: etree._Element) -> tuple[str, str]:
    """``(matricule, oid)`` asked by a TD0.2 request."""
    if root.tag != _h("PRPA_IN201307UV02"):
        raise MTOMError("not a PRPA_IN201307UV02 request")
    reason = root.find(f"{_h('controlActProcess')}/{_h('reasonCode')}")
    if reason is None or reason.get("code") != "TEST_EXST":
        raise MTOMError("TD0.2 needs reasonCode TEST_EXST")
    value = root.find(
        f"{_h('controlActProcess')}/{_h('queryByParameter')}/{_h('parameterList')}/"
        f"{_h('patientIdentifier')}/{_h('value')}"
    )
    if value is None or not value.get("extension") or value.get("root") not in OID.INS_OIDS:
        raise MTOMError("TD0.2 needs a patient INS (root = an INS OID)")
    return value.get("extension", ""), value.get("root", "")


def td02_response(status: AccessStatus, matricule: str, oid: str) -> etree._Element:
    root = etree.Element(_h("PRPA_IN201308UV02"), nsmap={None: H, "dmp": DMP}, ITSVersion="XML_1.0")
    etree.SubElement(root, _h("id"), root=str(uuid.uuid4()))
    ack = etree.SubElement(root, _h("acknowledgement"))
    etree.SubElement(ack, _h("typeCode"), code="AA")
    cap = etree.SubElement(root, _h("controlActProcess"), classCode="CACT", moodCode="EVN")
    if status.exists:
        reg = etree.SubElement(
            etree.SubElement(cap, _h("subject"), typeCode="SUBJ"),
            _h("registrationEvent"),
            classCode="REG",
            moodCode="EVN",
        )
        etree.SubElement(reg, _h("statusCode"), code="terminated" if status.closed else "active")
        patient = etree.SubElement(etree.SubElement(reg, _h("subject1")), _h("patient"))
        etree.SubElement(patient, _h("id"), root=oid, extension=matricule)
    qa = etree.SubElement(cap, _h("queryAck"))
    etree.SubElement(qa, _h("queryResponseCode"), code="OK" if status.exists else "NF")
    etree.SubElement(
        root, f"{{{DMP}}}authorization", status=status.authorization, reason=status.reason
    )
    return root


def read_td02_response(root: etree._Element) -> AccessStatus:
    if root.tag != _h("PRPA_IN201308UV02"):
        raise MTOMError("TD0.2 answer is not a PRPA_IN201308UV02")
    ack = root.find(f"{_h('acknowledgement')}/{_h('typeCode')}")
    if ack is None or ack.get("code") != "AA":
        raise MTOMError("TD0.2 answer is not an accept acknowledgement")
    code = root.find(f"{_h('controlActProcess')}/{_h('queryAck')}/{_h('queryResponseCode')}")
    exists = code is not None and code.get("code") == "OK"
    reg = root.find(
        f"{_h('controlActProcess')}/{_h('subject')}/{_h('registrationEvent')}/{_h('statusCode')}"
    )
    closed = reg is not None and reg.get("code") != "active"
    auth = root.find(f"{{{DMP}}}authorization")
    value = auth.get("status", "NON_EXISTE") if auth is not None else "NON_EXISTE"
    if value not in AUTHORIZATIONS:
        raise MTOMError(f"unknown authorisation status {value[:30]!r}")
    return AccessStatus(exists, closed, value, auth.get("reason", "") if auth is not None else "")


def td03_request(matricule: str, oid: str, *, add: bool = True) -> etree._Element:
    hab = NS["hab"]
    root = etree.Element(f"{{{hab}}}setAuthorization", nsmap={"hab": hab})
    etree.SubElement(root, f"{{{hab}}}action").text = ADD if add else REMOVE
    etree.SubElement(root, f"{{{hab}}}patientINS", root=oid, extension=matricule)
    return root


def read_td03_request(root: etree._Element) -> tuple[str, str, bool]:
    hab = NS["hab"]
    if root.tag != f"{{{hab}}}setAuthorization":
        raise MTOMError("not a setAuthorization request")
    action = (root.findtext(f"{{{hab}}}action") or "").strip()
    ins = root.find(f"{{{hab}}}patientINS")
    if action not in (ADD, REMOVE) or ins is None or ins.get("root") not in OID.INS_OIDS:
        raise MTOMError("setAuthorization needs an action (AJOUT/SUPPRESSION) and an INS")
    return ins.get("extension", ""), ins.get("root", ""), action == ADD


def td03_response(ok: bool = True) -> etree._Element:
    hab = NS["hab"]
    root = etree.Element(f"{{{hab}}}setAuthorizationResponse", nsmap={"hab": hab})
    etree.SubElement(root, f"{{{hab}}}status").text = "OK" if ok else "KO"
    return root
