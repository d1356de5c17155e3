"""The INSi sandbox's request handling, independent of the HTTP server.

:class:`InsiService` checks a request as the real service does, then answers:

1. the body is a SOAP 1.2 envelope with the action of a known operation, in the
   ``Content-Type`` (``action="…"``) or in ``wsa:Action``;
2. the headers and body validate against the official XSDs (when they are present),
   ``wsa:MessageID`` is there;
3. the caller is authorised: with a ``wsse:Security`` assertion (CPS mode) the assertion
   signature, certificate and validity are verified; without, the TLS client
   certificate's CN must be ``INSI-AUTO`` or ``INSI-MANU`` (else ``DESIR_560``);
4. the software authorisation number (``ContexteLPS/LPS/IDAM``) is known (else
   ``siram_100``/``desir_550``);
5. the search runs against the :class:`~segur_ins.sandbox.directory.Directory`.

Codes ``desir_550``, ``DESIR_560`` and ``insi_102`` (with subcodes ``siram_100`` and
``siram_40``) are the real ones (reference §6.8). The service's codes for a malformed
request are not public: the sandbox answers those with ``siram_10``/``insi_101``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from lxml import etree

from segur_core.errors import UnsafeXMLError
from segur_core.safexml import parse_xml
from segur_core.wire import soap
from segur_ins.insi.namespaces import NS, OPERATIONS
from segur_ins.insi.schemas import validate_part
from segur_ins.sandbox.directory import Directory
from segur_ins.sandbox.persons import Person

__all__ = ["ALLOWED_CNS", "InsiService", "SandboxFault"]

ALLOWED_CNS = frozenset({"INSI-AUTO", "INSI-MANU"})
_SOAP = NS["soap"]
_ACTION = re.compile(r'action="?([^";]+)"?')
_ACTIONS = {action: (operation, tag) for operation, (action, tag) in OPERATIONS.items()}


class SandboxFault(Exception):
    """A fault the sandbox answers (HTTP 500 with a SOAP 1.2 Fault)."""

    def __init__(
        self, subcode: str, code: str, reason: str, *, sender: bool = True, message_id=None
    ) -> None:
        super().__init__(reason)
        self.subcode, self.code, self.reason = subcode, code, reason
        self.sender, self.message_id = sender, message_id


def _invalid(reason: str, message_id: str | None = None) -> SandboxFault:
    return SandboxFault("siram_10", "insi_101", reason, message_id=message_id)


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    return (element.findtext(path, namespaces=NS) or "").strip()


class InsiService:
    """Answers INSi requests from a directory of persons."""

    def __init__(
        self,
        directory: Directory,
        *,
        software_ids: Iterable[str],
        trust_bundle: Path | None = None,
        validate: bool = True,
    ) -> None:
        self.directory = directory
        self.software_ids = set(software_ids)
        self.validate = validate
        self._trusted = _load_bundle(trust_bundle)
        self.requests = 0

    # -- entry point ---------------------------------------------------------------------

    def handle(
        self, body: bytes, content_type: str, peer: x509.Certificate | None
    ) -> tuple[int, bytes]:
        """``(HTTP status, SOAP envelope)`` for one request."""
        self.requests += 1
        try:
            return 200, self._answer(body, content_type, peer)
        except SandboxFault as fault:
            return 500, fault_envelope(fault)

    def _answer(self, body: bytes, content_type: str, peer: x509.Certificate | None) -> bytes:
        if not content_type.lower().startswith("application/soap+xml"):
            raise _invalid("Content-Type attendu : application/soap+xml (SOAP 1.2)")
        try:
            root = parse_xml(body)
        except UnsafeXMLError as exc:
            raise _invalid(f"Requête XML invalide : {exc.message}") from exc
        if root.tag != f"{{{_SOAP}}}Envelope":
            raise _invalid("Enveloppe SOAP 1.2 attendue")
        header = root.find(f"{{{_SOAP}}}Header")
        soap_body = root.find(f"{{{_SOAP}}}Body")
        if header is None or soap_body is None or len(soap_body) != 1:
            raise _invalid("Enveloppe sans Header ou sans Body unique")
        message_id = _text(header, "wsa:MessageID")
        if not message_id:
            raise _invalid("En-tête wsa:MessageID absent")
        match = _ACTION.search(content_type)
        action = match.group(1) if match else _text(header, "wsa:Action")
        if action not in _ACTIONS:
            raise _invalid("Action SOAP inconnue", message_id)
        operation, tag = _ACTIONS[action]
        request = soap_body[0]
        if request.tag != tag:
            raise _invalid("Corps de requête incompatible avec l'action", message_id)
        lps = header.find("ctxlps:ContexteLPS", NS)
        bam = header.find("ctxbam:ContexteBAM", NS)
        security = header.find("wsse:Security", NS)
        if lps is None or bam is None:
            raise _invalid("En-têtes ContexteLPS et ContexteBAM obligatoires", message_id)
        if self.validate:
            for part in (lps, bam, request, *(() if security is None else (security,))):
                problems = validate_part(part)
                if problems:
                    name = etree.QName(part).localname
                    raise _invalid(f"{name} non conforme au schéma : {problems[0]}", message_id)
        self._authorise(security, peer, message_id)
        if _text(lps, "ctxlps:LPS/ctxlps:IDAM") not in self.software_ids:
            raise SandboxFault(
                "siram_100",
                "desir_550",
                "Numéro d'autorisation du logiciel inconnu",
                message_id=message_id,
            )
        if operation == "rechercherInsAvecTraitsIdentite":
            found = self.directory.search_traits(
                _text(request, "recsans:NomNaissance"),
                [(e.text or "").strip() for e in request.findall("recsans:Prenom", NS)],
                _text(request, "recsans:Sexe") or None,
                _text(request, "recsans:DateNaissance"),
                _text(request, "recsans:LieuNaissance") or None,
            )
        else:
            found = self.directory.search_vitale(
                _text(request, "recvit:MatriculeIndividu/recvit:NumIdentifiant") or None,
                _text(request, "recvit:NomNaissance") or None,
                _text(request, "recvit:DateNaissance") or None,
            )
        return result_envelope(found, operation, message_id)

    # -- authorisation -------------------------------------------------------------------

    def _authorise(
        self, security: etree._Element | None, peer: x509.Certificate | None, message_id: str
    ) -> None:
        if security is not None and len(security):
            for assertion in security.findall("saml:Assertion", NS):
                self._verify_assertion(assertion, message_id)
            return
        cn = _cn(peer)
        if cn not in ALLOWED_CNS:
            raise SandboxFault(
                "siram_100", "DESIR_560", "Niveau d'accès insuffisant", message_id=message_id
            )

    def _verify_assertion(self, assertion: etree._Element, message_id: str) -> None:
        from signxml import InvalidInput, InvalidSignature, XMLVerifier

        def refuse(why: str) -> SandboxFault:
            return SandboxFault(
                "siram_100", "DESIR_560", f"Assertion PS refusée : {why}", message_id=message_id
            )

        cert_text = _text(assertion, "ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate")
        if not cert_text:
            raise refuse("certificat absent")
        try:
            import base64

            cert = x509.load_der_x509_certificate(base64.b64decode("".join(cert_text.split())))
        except ValueError as exc:
            raise refuse("certificat illisible") from exc
        if not self._issued_by_trusted(cert):
            raise refuse("certificat non reconnu")
        if _text(assertion, "saml:Issuer") != cert.subject.rfc4514_string():
            raise refuse("émetteur différent du certificat")
        name_id = assertion.find("saml:Subject/saml:NameID", NS)
        if name_id is None or name_id.get("NameQualifier") != "CPS" or not name_id.text:
            raise refuse("NameID CPS absent")
        conditions = assertion.find("saml:Conditions", NS)
        now = dt.datetime.now(dt.UTC)
        try:
            not_after = conditions.get("NotOnOrAfter") if conditions is not None else None
            if not_after:
                end = dt.datetime.fromisoformat(not_after.replace("Z", "+00:00"))
                if end <= now:
                    raise refuse("assertion expirée")
        except ValueError as exc:
            raise refuse("dates de validité illisibles") from exc
        document = etree.fromstring(etree.tostring(assertion))
        try:
            XMLVerifier().verify(document, x509_cert=cert, id_attribute="ID")
        except (InvalidSignature, InvalidInput) as exc:
            raise refuse("signature invalide") from exc

    def _issued_by_trusted(self, cert: x509.Certificate) -> bool:
        for ca in self._trusted:
            if ca.subject != cert.issuer:
                continue
            try:
                cert.verify_directly_issued_by(ca)
            except (ValueError, TypeError, Exception):
                continue
            return True
        return False


def _load_bundle(path: Path | None) -> list[x509.Certificate]:
    if path is None:
        return []
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


def _cn(cert: x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


# -- answers ---------------------------------------------------------------------------------


def _el(parent, ns: str, local: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{local}")
    if text is not None:
        element.text = text
    return element


def _ins(parent, local: str, number: str, key: str, oid: str, start=None, end=None) -> None:
    res = NS["resultat"]
    element = _el(parent, res, local)
    ident = _el(element, res, "IdIndividu")
    _el(ident, res, "NumIdentifiant", number)
    _el(ident, res, "Cle", key)
    _el(element, res, "OID", oid)
    if start:
        _el(element, res, "DateDeb", start)
    if end:
        _el(element, res, "DateFin", end)


_LABELS = {"00": "OK", "01": "Aucune identite trouvee", "02": "Plusieurs identites trouvees"}


def resultat(found: list[Person]) -> etree._Element:
    """The ``RESULTAT`` element for the persons a search found."""
    res = NS["resultat"]
    code = "00" if len(found) == 1 else "01" if not found else "02"
    root = etree.Element(
        f"{{{res}}}RESULTAT",
        nsmap={None: res, "ns2": NS["recsans"], "ns3": NS["recvit"]},
    )
    cr = _el(root, res, "CR")
    _el(cr, res, "CodeCR", code)
    _el(cr, res, "LibelleCR", _LABELS[code])
    if code == "00":
        person = found[0]
        individu = _el(root, res, "INDIVIDU")
        _ins(individu, "INSACTIF", person.matricule, person.key, person.oid)
        for number, key, start, end in person.history:
            _ins(individu, "INSHISTO", number, key, person.oid, start, end)
        tiq = _el(individu, res, "TIQ")
        _el(tiq, res, "NomNaissance", person.birth_name)
        _el(tiq, res, "ListePrenom", person.first_names)
        _el(tiq, res, "Sexe", person.sex)
        _el(tiq, res, "DateNaissance", person.birth_date)
        _el(tiq, res, "LieuNaissance", person.birth_place)
    return root


def result_envelope(found: list[Person], operation: str, message_id: str | None) -> bytes:
    """The SOAP answer of a search."""
    action = OPERATIONS[operation][0] + "Response"
    headers = soap.addressing(action=action, relates_to=message_id, must_understand=False)
    return soap.build_envelope(resultat(found), headers)


def fault_envelope(fault: SandboxFault) -> bytes:
    """The SOAP 1.2 fault answer (``severite="fatal"``, as the service really sends)."""
    siram = {"siram": NS["siram"]}
    erreur = etree.Element(f"{{{NS['siram']}}}Erreur", nsmap=siram)
    erreur.set("code", fault.code)
    erreur.set("severite", "fatal")
    if fault.message_id:
        erreur.set("messageID", fault.message_id)
    erreur.text = fault.reason
    return soap.build_fault(
        "Sender" if fault.sender else "Receiver",
        fault.reason,
        subcode=f"siram:{fault.subcode}",
        subcode_nsmap=siram,
        lang="fr",
        detail=erreur,
        headers=soap.addressing(relates_to=fault.message_id),
    )
