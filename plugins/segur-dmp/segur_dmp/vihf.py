"""The VIHF: the SAML 2.0 assertion a DMP client puts in ``wsse:Security`` (reference
``xds-dmp.md`` §3).

INDIRECTE mode (structure certificate) signs the assertion with the core's
:class:`~segur_core.wire.KeySigner` (``signxml``): enveloped signature right after
``Issuer``, exclusive C14N, RSA-SHA256 (ECDSA-SHA256 for EC keys).
The ANS example adds ``InclusiveNamespaces PrefixList="ds saml #default xsi"`` to the
SignedInfo canonicalisation; signxml's schema check refuses it there, and every namespace
the assertion uses is visibly used, so plain exclusive C14N keeps the signature verifiable.

DIRECTE mode (CPS card) is an extension point: a :class:`VIHFSigner` whose ``mode`` is
``DIRECTE`` (the kit does not sign the assertion then; authentication comes from TLS with the card).
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Protocol, runtime_checkable

import attrs
from cryptography import x509
from lxml import etree

from segur_core.errors import TLSConfigError
from segur_core.model import INS, Practitioner, Structure, hidden
from segur_core.wire.signing import KeySigner
from segur_core.xds.metadata import cx
from segur_dmp.errors import VIHFError
from segur_dmp.ns import NS, OID

__all__ = [
    "ACCESS_MODES",
    "AUTH_MODES",
    "LPS",
    "CPSSigner",
    "StructureSigner",
    "VIHFClaims",
    "VIHFSigner",
    "build_vihf",
    "read_vihf",
    "verify_vihf",
]

SAML = NS["saml"]
HL7 = NS["hl7"]
XSI = NS["xsi"]
ACCESS_MODES = {
    "normal": "Accès normal",
    "bris_de_glace": "Accès en bris de glace",
    "centre_15": "Accès par un centre de régulation médicale",
}
AUTH_MODES = ("DIRECTE", "INDIRECTE", "INDIRECTE_RENFORCEE")
VIHF_VERSION = "3.0"
#: TRE_G05 (sous-section du tableau CNOP) display names for pharmacists.
CNOP_SECTIONS = {
    "A": "Pharmacien titulaire d'officine",
    "D": "Pharmacien adjoint, remplaçant ou gérant",
    "DA": "Pharmacien adjoint",
    "G": "Pharmacien biologiste",
    "H": "Pharmacien d'établissement de santé",
}
PROFESSIONS = {"21": "Pharmacien", "10": "Médecin", "60": "Infirmier", "69": "Infirmier"}
REQUIRED = (
    "VIHF_Version",
    "Authentification_Mode",
    "Identifiant_Structure",
    "Secteur_Activite",
    "urn:oasis:names:tc:xspa:1.0:subject:subject-id",
    "urn:oasis:names:tc:xacml:2.0:subject:role",
    "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse",
    "Ressource_URN",
    "LPS_Nom",
    "LPS_Version",
)


@attrs.frozen
class LPS:
    """The software identity the VIHF carries (``LPS_*`` attributes)."""

    name: str = "segur"
    version: str = "0.1"
    homologation_id: str = "SEGUR-SANDBOX"
    id: str | None = None


@runtime_checkable
class VIHFSigner(Protocol):
    """Who vouches for the VIHF: ``mode`` (``INDIRECTE``/``DIRECTE``), ``issuer`` (RFC
    2253 DN of the certificate) and ``sign_vihf(assertion)`` returning the assertion,
    signed when the mode requires it."""

    mode: str

    @property
    def issuer(self) -> str: ...

    def sign_vihf(self, assertion: etree._Element) -> etree._Element: ...


class StructureSigner(KeySigner):
    """INDIRECTE mode: the structure's signing certificate ("ORG SIGN") signs the VIHF
    (and the XAdES submission set): a :class:`~segur_core.wire.KeySigner` from PEM files."""

    mode = "INDIRECTE"

    @classmethod
    def from_files(cls, key_path: str, cert_path: str) -> StructureSigner:
        try:
            signer = cls.from_pem_files(key_path, cert_path)
        except TLSConfigError as exc:
            raise VIHFError(f"cannot load the VIHF signing key or certificate: {exc}") from None
        assert isinstance(signer, StructureSigner)
        return signer

    def sign_vihf(self, assertion: etree._Element) -> etree._Element:
        return self.sign(assertion, reference_uri="#" + assertion.get("ID", ""), id_attribute="ID")


class CPSSigner:
    """DIRECTE mode (CPS card): the assertion is not signed; TLS with the card
    authenticates the professional. Subclass to add a card-based signature."""

    mode = "DIRECTE"

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def sign_vihf(self, assertion: etree._Element) -> etree._Element:
        return assertion


def _s(tag: str) -> str:
    return f"{{{SAML}}}{tag}"


def _attribute(stmt: etree._Element, name: str, *values: str | etree._Element) -> None:
    attr = etree.SubElement(stmt, _s("Attribute"), Name=name)
    for value in values:
        av = etree.SubElement(attr, _s("AttributeValue"))
        if isinstance(value, str):
            av.text = value
        else:
            av.append(value)


def _ce(tag: str, code: str, system: str, system_name: str, display: str) -> etree._Element:
    el = etree.Element(f"{{{HL7}}}{tag}", nsmap={None: HL7, "xsi": XSI})
    el.set(f"{{{XSI}}}type", "CE")
    el.set("code", code)
    el.set("codeSystem", system)
    el.set("codeSystemName", system_name)
    el.set("displayName", display)
    return el


def build_vihf(
    *,
    signer: VIHFSigner,
    structure: Structure,
    practitioner: Practitioner,
    patient_ins: INS | None,
    lps: LPS,
    access_mode: str = "normal",
    now: dt.datetime | None = None,
    lifetime: dt.timedelta = dt.timedelta(minutes=5),
) -> etree._Element:
    """Build (and sign through ``signer``) the VIHF for one request.

    ``patient_ins`` is the patient's qualified INS (``resource-id``); ``None`` only for
    requests that concern no patient.
    """
    if access_mode not in ACCESS_MODES:
        raise VIHFError(f"unknown access mode {access_mode!r}", hint="use 'normal'")
    if signer.mode not in AUTH_MODES:
        raise VIHFError(f"unknown authentication mode {signer.mode!r}")
    now = now or dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assertion = etree.Element(
        _s("Assertion"),
        nsmap={"saml": SAML, "xsi": XSI},
        ID=f"_{uuid.uuid4()}",
        IssueInstant=stamp,
        Version="2.0",
    )
    issuer = etree.SubElement(
        assertion, _s("Issuer"), Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
    )
    issuer.text = signer.issuer
    if signer.mode != "DIRECTE":
        etree.SubElement(
            assertion, f"{{{NS['ds']}}}Signature", Id="placeholder", nsmap={"ds": NS["ds"]}
        )
    subject = etree.SubElement(assertion, _s("Subject"))
    etree.SubElement(subject, _s("NameID")).text = practitioner.idnps
    etree.SubElement(
        assertion,
        _s("Conditions"),
        NotBefore=stamp,
        NotOnOrAfter=(now + lifetime).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    authn = etree.SubElement(assertion, _s("AuthnStatement"), AuthnInstant=stamp)
    ctx = etree.SubElement(authn, _s("AuthnContext"))
    etree.SubElement(ctx, _s("AuthnContextClassRef")).text = (
        "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"
        if signer.mode == "DIRECTE"
        else "urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient"
    )
    stmt = etree.SubElement(assertion, _s("AttributeStatement"))
    _attribute(stmt, "VIHF_Version", VIHF_VERSION)
    _attribute(stmt, "Authentification_Mode", signer.mode)
    _attribute(stmt, "Identifiant_Structure", structure.idnst)
    _attribute(stmt, "Secteur_Activite", f"{structure.activity_sector}^{OID.ACTIVITY_SECTOR}")
    _attribute(
        stmt,
        "urn:oasis:names:tc:xspa:1.0:subject:subject-id",
        f"{practitioner.given_name} {practitioner.family_name}",
    )
    roles = [
        _ce(
            "Role",
            practitioner.profession,
            OID.G15_PROFESSION,
            "TRE_G15-ProfessionSante",
            PROFESSIONS.get(practitioner.profession, practitioner.profession),
        )
    ]
    if practitioner.profession == "21":
        section = _cnop_section(practitioner.specialty)
        roles.append(
            _ce(
                "Role",
                section,
                OID.G05_CNOP,
                "TRE_G05-SousSectionTableauCNOP",
                CNOP_SECTIONS[section],
            )
        )
    _attribute(stmt, "urn:oasis:names:tc:xacml:2.0:subject:role", *roles)
    _attribute(
        stmt,
        "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse",
        _ce(
            "PurposeOfUse",
            access_mode,
            OID.ACCESS_MODE,
            "mode acces VIHF 2.0",
            ACCESS_MODES[access_mode],
        ),
    )
    _attribute(stmt, "Ressource_URN", "urn:dmp")
    if patient_ins is not None:
        _attribute(
            stmt,
            "urn:oasis:names:tc:xacml:2.0:resource:resource-id",
            cx(patient_ins.matricule, patient_ins.oid),
        )
    if lps.id:
        _attribute(stmt, "LPS_ID", lps.id)
    _attribute(stmt, "LPS_Nom", lps.name)
    _attribute(stmt, "LPS_Version", lps.version)
    _attribute(stmt, "LPS_ID_HOMOLOGATION_DMP", lps.homologation_id)
    return signer.sign_vihf(assertion)


def _cnop_section(specialty: str | None) -> str:
    """``G15_21/A`` → ``A``; a pharmacist without a known section is refused."""
    section = (specialty or "").rsplit("/", 1)[-1] if specialty and "/" in specialty else ""
    if section not in CNOP_SECTIONS:
        raise VIHFError(
            "the pharmacist's CNOP section (titulaire A, adjoint D/DA...) is unknown",
            hint="set the practitioner's specialty (G15_21/A titulaire, G15_21/DA adjoint)",
        )
    return section


def practitioner_problems(practitioner: Practitioner) -> list[str]:
    """What keeps this practitioner from signing a VIHF the DMP accepts, each naming
    the field (empty when nothing does)."""
    problems = []
    if practitioner.profession == "21":
        try:
            _cnop_section(practitioner.specialty)
        except VIHFError:
            problems.append(
                f"host_practitioner: specialty {practitioner.specialty!r} names no CNOP "
                f"section ({', '.join(f'G15_21/{s}' for s in CNOP_SECTIONS)}): the DMP "
                "refuses a pharmacist's VIHF without it"
            )
    for field in ("family_name", "given_name"):
        if not (getattr(practitioner, field) or "").strip():
            problems.append(f"host_practitioner: {field} is empty (the VIHF subject-id)")
    return problems


@attrs.frozen
class VIHFClaims:
    """What a VIHF asserts, as read back (by the sandbox, or in tests)."""

    issuer: str
    subject: str
    attributes: dict[str, tuple[str, ...]] = attrs.field(repr=hidden)  # the patient's INS
    roles: tuple[tuple[str, str], ...]
    purpose: str
    not_on_or_after: str | None
    signed: bool

    def get(self, name: str) -> str | None:
        values = self.attributes.get(name, ())
        return values[0] if values else None

    @property
    def resource_id(self) -> str | None:
        return self.get("urn:oasis:names:tc:xacml:2.0:resource:resource-id")

    @property
    def structure_id(self) -> str | None:
        return self.get("Identifiant_Structure")

    @property
    def mode(self) -> str | None:
        return self.get("Authentification_Mode")


def read_vihf(assertion: etree._Element) -> VIHFClaims:
    """Read a VIHF's claims and check that every mandatory attribute is there."""
    if assertion.tag != _s("Assertion") or assertion.get("Version") != "2.0":
        raise VIHFError("the security header holds no SAML 2.0 assertion")
    attrs_: dict[str, tuple[str, ...]] = {}
    roles: list[tuple[str, str]] = []
    purpose = ""
    for attr in assertion.iterfind(f"{_s('AttributeStatement')}/{_s('Attribute')}"):
        name = attr.get("Name", "")
        values = []
        for av in attr.iterfind(_s("AttributeValue")):
            if len(av):
                child = av[0]
                values.append(child.get("code", ""))
                if child.tag == f"{{{HL7}}}Role":
                    roles.append((child.get("code", ""), child.get("codeSystem", "")))
                elif child.tag == f"{{{HL7}}}PurposeOfUse":
                    purpose = child.get("code", "")
            else:
                values.append((av.text or "").strip())
        attrs_[name] = tuple(values)
    missing = [n for n in REQUIRED if not attrs_.get(n)]
    if missing:
        raise VIHFError(f"VIHF attributes missing: {', '.join(missing)}")
    cond = assertion.find(_s("Conditions"))
    return VIHFClaims(
        issuer=(assertion.findtext(_s("Issuer")) or "").strip(),
        subject=(assertion.findtext(f"{_s('Subject')}/{_s('NameID')}") or "").strip(),
        attributes=attrs_,
        roles=tuple(roles),
        purpose=purpose,
        not_on_or_after=cond.get("NotOnOrAfter") if cond is not None else None,
        signed=assertion.find(f"{{{NS['ds']}}}Signature") is not None,
    )


def verify_vihf(
    assertion: etree._Element, *, ca_pem_file: str
) -> tuple[VIHFClaims, x509.Certificate]:
    """Verify a signed VIHF against a CA bundle and return its claims and signer
    certificate. Raises :class:`VIHFError` on any signature or chain failure."""
    from signxml import SignatureConfiguration, XMLVerifier
    from signxml.exceptions import InvalidInput, InvalidSignature

    claims = read_vihf(assertion)
    if not claims.signed:
        raise VIHFError("the VIHF is not signed (INDIRECTE mode requires a signature)")
    doc = etree.fromstring(etree.tostring(assertion))
    try:
        result = XMLVerifier().verify(
            doc,
            ca_pem_file=ca_pem_file,
            id_attribute="ID",
            expect_config=SignatureConfiguration(require_x509=True),
        )
    except (InvalidSignature, InvalidInput) as exc:
        raise VIHFError(f"the VIHF signature is invalid: {exc}") from None
    except Exception as exc:  # signxml surfaces chain errors as various types
        raise VIHFError(f"the VIHF signature cannot be verified: {exc}") from None
    if result.signed_xml is None or result.signed_xml.get("ID") != assertion.get("ID"):
        raise VIHFError("the VIHF signature does not cover the assertion")
    cert_b64 = result.signature_xml.findtext(f".//{{{NS['ds']}}}X509Certificate") or ""
    cert = x509.load_der_x509_certificate(base64.b64decode("".join(cert_b64.split())))
    return claims, cert
