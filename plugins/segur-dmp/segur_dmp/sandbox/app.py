"""The sandbox DMP: an XDS.b registry + repository and the DMP patient/authorisation
services, as a starlette app behind mutual TLS.

Every request is checked like the real service would: SOAP 1.2 framing (MTOM for the XDS
bindings, parsed by the same strict parser as the client), WS-Addressing headers, the VIHF
(signature against the test CA, mandatory attributes, structure = TLS client certificate,
patient = request patient), the metadata against the kit's value sets, hashes and sizes,
the signed submission set, the patient's authorisation state and document ownership.
Registry problems are answered as ``RegistryErrorList`` entries; framing and security
problems as SOAP faults.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sqlite3
import threading
import urllib.parse
import uuid
from collections.abc import Callable

import attrs
from lxml import etree

from segur_core.errors import InputError
from segur_core.xds import hl7v2
from segur_core.xds.metadata import Code, DocumentEntry, SubmissionSet, cx
from segur_dmp import ebrim, hl7v3, soap
from segur_dmp.errors import RegistryErrorItem, VIHFError
from segur_dmp.mtom import Attachment, build_mtom, cid_href, parse_content_type, parse_mtom
from segur_dmp.ns import ACTION, NS, UUID
from segur_dmp.sandbox.store import Registry, StoredDocument
from segur_dmp.sandbox.valuesets import ValueSets
from segur_dmp.vihf import CNOP_SECTIONS, VIHFClaims, read_vihf, verify_vihf
from segur_dmp.xades import verify_submission_signature

__all__ = ["REPOSITORY_ID", "DMPApp"]

REPOSITORY_ID = "1.2.250.1.213.1.1.9.2"
SIGNATURE_CLASS = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"
_SERVICES = {
    "/registry": ({ACTION.ITI18, ACTION.ITI57}, True),
    "/repository": ({ACTION.ITI41, ACTION.ITI43}, True),
    "/patients": ({ACTION.TD02}, False),
    "/habilitations": ({ACTION.TD03}, False),
}
_RESPONSES = {
    ACTION.ITI18: ACTION.ITI18_RESPONSE, ACTION.ITI41: ACTION.ITI41_RESPONSE,
    ACTION.ITI43: ACTION.ITI43_RESPONSE, ACTION.ITI57: ACTION.ITI57_RESPONSE,
    ACTION.TD02: ACTION.TD02_RESPONSE, ACTION.TD03: ACTION.TD03_RESPONSE,
}  # fmt: skip


class Fault(Exception):
    """A SOAP fault to answer (``Sender`` → HTTP 400, ``Receiver`` → 500)."""

    def __init__(self, reason: str, *, code: str = "Sender", subcode: str | None = None):
        super().__init__(reason)
        self.reason, self.code, self.subcode = reason, code, subcode


class Refusal(Exception):
    """Registry errors to answer in a ``RegistryErrorList`` (HTTP 200, status Failure)."""

    def __init__(self, *errors: RegistryErrorItem):
        super().__init__(errors[0].code)
        self.errors = errors


def _err(code: str, context: str, location: str = "") -> RegistryErrorItem:
    return RegistryErrorItem(code, context, "error", location)


# ebRS 3.0 rim.xsd maxLength of the attributes a submission fills (a schema-validating
# registry refuses more)
_ATTRIBUTE_LIMITS = {
    (ebrim.rim("LocalizedString"), "value"): hl7v2.FREE_FORM_TEXT,
    (ebrim.rim("Classification"), "nodeRepresentation"): hl7v2.LONG_NAME,
    (ebrim.rim("ExternalIdentifier"), "value"): hl7v2.LONG_NAME,
    (ebrim.rim("ExtrinsicObject"), "mimeType"): hl7v2.LONG_NAME,
    (ebrim.rim("Slot"), "name"): hl7v2.LONG_NAME,
    (ebrim.rim("VersionInfo"), "versionName"): 16,
}
_HL7V2_SLOTS = frozenset(
    {"authorPerson", "authorInstitution", "authorRole", "authorSpecialty",
     "legalAuthenticator", "sourcePatientInfo"}
)  # fmt: skip


def _metadata_limits(objects: etree._Element) -> list[RegistryErrorItem]:
    """What a registry validating the submission against rim.xsd, and reading its HL7 v2
    slots, refuses: lengths over the ebRIM limits, malformed HL7 v2 values."""
    errors = []
    for el in objects.iter(ebrim.rim("Value")):
        if len(el.text or "") > hl7v2.LONG_NAME:
            name = el.getparent().getparent().get("name", "")
            errors.append(_err("XDSRegistryMetadataError", f"slot {name} value longer than 256"))
    for el in objects.iter():
        for (tag, attribute), limit in _ATTRIBUTE_LIMITS.items():
            if el.tag == tag and len(el.get(attribute, "")) > limit:
                local = etree.QName(tag).localname
                errors.append(
                    _err("XDSRegistryMetadataError", f"{local}/@{attribute} longer than {limit}")
                )
    for el in objects.iter(ebrim.rim("Slot")):
        name = el.get("name", "")
        if name not in _HL7V2_SLOTS:
            continue
        for value in el.iterfind(f"{ebrim.rim('ValueList')}/{ebrim.rim('Value')}"):
            errors += [
                _err("XDSRegistryMetadataError", problem)
                for problem in hl7v2.problems(name, value.text or "")
                if "longer than" not in problem  # already said
            ]
    return errors


def _submission_set(objects: etree._Element) -> SubmissionSet:
    """The one SubmissionSet of a submission (ITI-41, ITI-57) whose metadata is within
    the registry's limits; a :class:`Refusal` otherwise."""
    if errors := _metadata_limits(objects):
        raise Refusal(*errors)
    packages = objects.findall(ebrim.rim("RegistryPackage"))
    if len(packages) != 1:
        raise Refusal(_err("XDSRegistryMetadataError", "exactly one SubmissionSet expected"))
    return ebrim.read_submission_set(packages[0])


@attrs.define
class Request:
    claims: VIHFClaims
    structure: str
    attachments: dict[str, Attachment]
    mtom: bool

    def include(self, holder: etree._Element) -> bytes:
        inc = holder.find(f"{{{NS['xop']}}}Include")
        if inc is None or len(holder) != 1 or (holder.text or "").strip():
            raise Fault("documents must be sent as xop:Include MTOM parts, not inline base64")
        href = inc.get("href", "")
        cid = urllib.parse.unquote(href[4:]) if href.startswith("cid:") else ""
        if cid not in self.attachments:
            raise Fault(f"xop:Include references a missing part ({href[:60]})")
        return self.attachments[cid].data


class DMPApp:
    """The request handling of the sandbox DMP (framework-free; :meth:`asgi` wraps it).

    ``ca_bundle``: CA file the VIHF signatures must chain to. ``lose_reply_ratio``: after
    committing a feed, drop the answer (503) on that share of requests, to exercise
    idempotent retries (a reply lost on the way back).
    """

    def __init__(
        self,
        registry: Registry,
        *,
        ca_bundle: str,
        value_sets: ValueSets | None = None,
        peer_structure: Callable[[object], tuple[str | None, str | None]] | None = None,
        lose_reply_ratio: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.registry = registry
        self.ca_bundle = ca_bundle
        self.value_sets = value_sets if value_sets is not None else ValueSets()
        self.peer_structure = peer_structure
        self.lose_reply_ratio = lose_reply_ratio
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.calls: dict[str, int] = {}

    def reseed(self, seed: int | None) -> None:
        """Reseed the generator behind ``lose_reply_ratio`` (reproducible tests)."""
        self._random.seed(seed)

    # -- entry point -----------------------------------------------------------------------

    def handle(
        self, path: str, content_type: str, body: bytes, peer: object
    ) -> tuple[int, str, bytes]:
        """One HTTP POST: ``(status, content type, body)``."""
        service = _SERVICES.get(path)
        if service is None:
            return 404, "text/plain", b"unknown DMP service"
        actions, wants_mtom = service
        try:
            media, _ = parse_content_type(content_type)
            if wants_mtom and media != "multipart/related":
                raise Fault("this binding requires MTOM (multipart/related; application/xop+xml)")
            if media == "multipart/related":
                message = parse_mtom(content_type, body)
                root, attachments = message.root, dict(message.attachments)
            elif media == "application/soap+xml":
                root, attachments = body, {}
            else:
                raise Fault(f"unsupported content type {media!r}")
            env = soap.parse_envelope(root, raise_fault=False)
            if env.action not in actions:
                raise Fault(
                    f"action {env.action!r} is not offered at {path}",
                    subcode="wsa:ActionNotSupported",
                )
            if not env.message_id or not env.to:
                raise Fault(
                    "WS-Addressing MessageID and To are required",
                    subcode="wsa:MessingAddressingHeader",
                )
            claims = self._check_vihf(env)
            structure = claims.structure_id or ""
            tls_structure, tls_cn = (
                self.peer_structure(peer) if self.peer_structure else (None, None)
            )
            if claims.mode == "DIRECTE" and (
                self.peer_structure is None or tls_cn != claims.subject
            ):
                # no signature in DIRECTE mode: the CPS card's TLS certificate vouches for
                # the professional named in the VIHF
                raise Fault(
                    "DIRECTE mode needs the professional's own card certificate",
                    subcode="DMPInvalidVIHF",
                )
            if self.peer_structure is not None and tls_structure != structure:
                raise Fault(
                    "the VIHF structure is not the TLS client certificate's structure",
                    subcode="DMPInvalidVIHF",
                )
            req = Request(claims, structure, attachments, media == "multipart/related")
            with self._lock:
                self.calls[env.action] = self.calls.get(env.action, 0) + 1
            payload, lose = self._dispatch(env, req)
            status = 200
            if lose and self._random.random() < self.lose_reply_ratio:
                return 503, "text/plain", b"reply lost (sandbox fault injection)"
        except Fault as fault:
            return (
                400 if fault.code == "Sender" else 500,
                "application/soap+xml; charset=UTF-8",
                soap.build_fault(fault.code, fault.reason, subcode=fault.subcode),
            )
        except (InputError, VIHFError) as exc:
            return (
                400,
                "application/soap+xml; charset=UTF-8",
                soap.build_fault("Sender", str(exc)[:300], subcode=type(exc).__name__),
            )
        response_action = _RESPONSES[env.action]
        envelope = soap.build_envelope(
            response_action,
            "http://www.w3.org/2005/08/addressing/anonymous",
            payload[0],
            relates_to=env.message_id,
        )
        if req.mtom:
            ctype, out = build_mtom(envelope, payload[1], action=response_action)
            return status, ctype, out
        return status, f'application/soap+xml; charset=UTF-8; action="{response_action}"', envelope

    def _check_vihf(self, env: soap.Envelope) -> VIHFClaims:
        security = env.security()
        assertion = security.find(f"{{{NS['saml']}}}Assertion") if security is not None else None
        if assertion is None:
            raise Fault("no VIHF (saml:Assertion in wsse:Security)", subcode="DMPInvalidVIHF")
        claims = read_vihf(assertion)
        if claims.mode == "INDIRECTE":
            claims, cert = verify_vihf(assertion, ca_pem_file=self.ca_bundle)
            if cert.subject.rfc4514_string() != claims.issuer:
                raise VIHFError("the VIHF Issuer is not the signing certificate's subject")
        elif claims.mode != "DIRECTE":
            raise VIHFError(f"authentication mode {claims.mode!r} not accepted")
        if claims.not_on_or_after:
            limit = dt.datetime.strptime(claims.not_on_or_after, "%Y-%m-%dT%H:%M:%SZ")
            if limit.replace(tzinfo=dt.UTC) < dt.datetime.now(dt.UTC):
                raise VIHFError("the VIHF has expired")
        roles = dict(claims.roles)
        codes = [code for code, _ in claims.roles]
        if not codes or roles.get(codes[0]) != "1.2.250.1.71.1.2.7":
            raise VIHFError("the first VIHF role must be a TRE_G15 profession")
        if codes[0] == "21" and not any(
            c in CNOP_SECTIONS and s == "1.2.250.1.71.4.2.6" for c, s in claims.roles
        ):
            raise VIHFError("a pharmacist's VIHF needs the TRE_G05 CNOP section role")
        if claims.purpose not in ("normal", "bris_de_glace", "centre_15"):
            raise VIHFError("unknown VIHF access mode (purposeofuse)")
        sector, _, system = (claims.get("Secteur_Activite") or "").partition("^")
        if system != "1.2.250.1.71.4.2.4" or not self.value_sets.allows(
            "healthcareFacilityTypeCode", sector, system
        ):
            raise VIHFError("Secteur_Activite is not a TRE_R02 activity sector code")
        if claims.get("Ressource_URN") != "urn:dmp":
            raise VIHFError("Ressource_URN must be urn:dmp")
        return claims

    def _dispatch(
        self, env: soap.Envelope, req: Request
    ) -> tuple[tuple[etree._Element, list], bool]:
        action = env.action
        if action == ACTION.TD02:
            return (self._td02(env.body, req), []), False
        if action == ACTION.TD03:
            return (self._td03(env.body, req), []), False
        try:
            if action == ACTION.ITI41:
                return (self._iti41(env.body, req), []), True
            if action == ACTION.ITI18:
                return (self._iti18(env.body, req), []), False
            if action == ACTION.ITI43:
                return self._iti43(env.body, req), False
            return (self._iti57(env.body, req), []), False
        except Refusal as refusal:
            tag = {
                ACTION.ITI18: "query:AdhocQueryResponse",
                ACTION.ITI43: "xds:RetrieveDocumentSetResponse",
            }.get(action, "rs:RegistryResponse")
            if action == ACTION.ITI43:
                resp = etree.Element(
                    f"{{{NS['xds']}}}RetrieveDocumentSetResponse", nsmap={"xds": NS["xds"]}
                )
                resp.append(ebrim.registry_response(refusal.errors))
                return (resp, []), False
            return (ebrim.registry_response(refusal.errors, tag=tag), []), False

    # -- patient and authorisation ---------------------------------------------------------

    def _patient_of(self, req: Request, patient_id: str) -> None:
        if req.claims.resource_id != patient_id:
            raise Fault(
                "the VIHF resource-id is not the patient of the request", subcode="DMPInvalidVIHF"
            )

    def _td02(self, body: etree._Element, req: Request) -> etree._Element:
        matricule, oid = hl7v3.read_td02_request(body)
        pid = cx(matricule, oid)
        self._patient_of(req, pid)
        present, closed = self.registry.patient(pid)
        status, reason = self.registry.authorization(pid, req.structure)
        return hl7v3.td02_response(
            hl7v3.AccessStatus(present, closed, status, reason), matricule, oid
        )

    def _td03(self, body: etree._Element, req: Request) -> etree._Element:
        matricule, oid, add = hl7v3.read_td03_request(body)
        pid = cx(matricule, oid)
        self._patient_of(req, pid)
        present, closed = self.registry.patient(pid)
        current, _ = self.registry.authorization(pid, req.structure)
        if not present or closed or current == "INTERDIT":
            return hl7v3.td03_response(False)
        self.registry.set_authorization(pid, req.structure, "VALIDE" if add else "NON_EXISTE")
        return hl7v3.td03_response(True)

    def _require_access(self, req: Request, pid: str) -> None:
        present, closed = self.registry.patient(pid)
        if not present or closed:
            raise Refusal(_err("XDSUnknownPatientId", "the patient has no open DMP"))
        status, _ = self.registry.authorization(pid, req.structure)
        if status != "VALIDE":
            raise Refusal(_err("DMPAccessDenied", f"authorisation status {status}"))

    # -- ITI-41 ----------------------------------------------------------------------------

    def _iti41(self, body: etree._Element, req: Request) -> etree._Element:
        if body.tag != f"{{{NS['xds']}}}ProvideAndRegisterDocumentSetRequest":
            raise Fault("ITI-41 body must be xds:ProvideAndRegisterDocumentSetRequest")
        lst = body.find(f"{{{NS['lcm']}}}SubmitObjectsRequest/{ebrim.rim('RegistryObjectList')}")
        if lst is None:
            raise Fault("ITI-41 without lcm:SubmitObjectsRequest/rim:RegistryObjectList")
        ss = _submission_set(lst)
        if not any(
            c.get("classificationNode") == UUID.SUBMISSION_SET
            and c.get("classifiedObject") == ss.entry_uuid
            for c in lst.findall(ebrim.rim("Classification"))
        ):
            raise Refusal(_err("XDSRegistryMetadataError", "SubmissionSet classification missing"))
        self._patient_of(req, ss.patient_id)
        present, closed = self.registry.patient(ss.patient_id)
        if not present or closed:
            raise Refusal(_err("XDSUnknownPatientId", "the patient has no open DMP"))
        if not ss.unique_id or not ss.source_id or not ss.content_type.code:
            raise Refusal(
                _err(
                    "XDSRegistryMetadataError",
                    "SubmissionSet uniqueId, sourceId and contentTypeCode required",
                )
            )
        contents = {d.get("id"): req.include(d) for d in body.findall(f"{{{NS['xds']}}}Document")}
        errors: list[RegistryErrorItem] = []
        entries: list[tuple[DocumentEntry, bytes]] = []
        for eo in lst.findall(ebrim.rim("ExtrinsicObject")):
            entry = ebrim.read_document_entry(eo)
            content = contents.pop(entry.entry_uuid, None)
            if content is None:
                errors.append(
                    _err("XDSMissingDocument", "no xds:Document for an entry", entry.entry_uuid)
                )
                continue
            errors += self._check_entry(entry, content, ss.patient_id)
            entries.append((entry, content))
        if contents:
            errors.append(_err("XDSMissingDocumentMetadata", "xds:Document without metadata"))
        signatures = [e for e in entries if e[0].class_code.code == SIGNATURE_CLASS]
        documents = [e for e in entries if e[0].class_code.code != SIGNATURE_CLASS]
        if not documents:
            errors.append(_err("XDSRegistryMetadataError", "no document in the submission"))
        if len(signatures) != 1:
            errors.append(
                _err("XDSRegistryMetadataError", "the DMP requires exactly one signature document")
            )
        if errors:
            raise Refusal(*errors)
        sig_entry, sig_content = signatures[0]
        assocs = lst.findall(ebrim.rim("Association"))
        if not any(
            a.get("associationType") == UUID.SIGNS
            and a.get("sourceObject") == sig_entry.entry_uuid
            and a.get("targetObject") == ss.entry_uuid
            for a in assocs
        ):
            raise Refusal(_err("XDSRegistryMetadataError", "signs association missing"))
        members = {
            a.get("targetObject")
            for a in assocs
            if a.get("associationType") == UUID.HAS_MEMBER
            and a.get("sourceObject") == ss.entry_uuid
        }
        if any(e.entry_uuid not in members for e, _ in entries):
            raise Refusal(_err("XDSRegistryMetadataError", "HasMember association missing"))
        try:
            verify_submission_signature(
                sig_content, ca_pem_file=self.ca_bundle, submission_set_uid=ss.unique_id,
                documents={e.unique_id: c for e, c in documents},
            )  # fmt: skip
        except (VIHFError, InputError) as exc:
            raise Refusal(_err("DMPInvalidSignature", str(exc)[:200])) from None
        replaced = self._replaced(assocs, documents, ss.patient_id, req)
        duplicates = []
        for entry, content in entries:
            known = self.registry.find_by_unique_id(entry.unique_id)
            if known is not None:
                same = known.hash == hashlib.sha1(content).hexdigest()
                duplicates.append(
                    _err(
                        "XDSDuplicateUniqueIdInRegistry" if same else "XDSNonIdenticalHash",
                        f"uniqueId {entry.unique_id} is already in the registry",
                        entry.unique_id,
                    )
                )
        if duplicates:
            raise Refusal(*duplicates)
        stored = []
        for entry, content in entries:
            lid = f"urn:uuid:{uuid.uuid4()}"
            final = attrs.evolve(
                entry, entry_uuid=lid, lid=lid, repository_id=REPOSITORY_ID, status=UUID.APPROVED
            )
            stored.append(StoredDocument(
                lid=lid, unique_id=entry.unique_id, patient_id=ss.patient_id, entry_uuid=lid,
                status=UUID.APPROVED, version=entry.version or "1", owner=req.structure,
                hash=entry.hash, metadata=etree.tostring(ebrim.document_entry_element(final)),
                content=content, submission_uid=ss.unique_id,
                is_signature=entry.class_code.code == SIGNATURE_CLASS,
            ))  # fmt: skip
        try:
            self.registry.add_all(stored)
        except sqlite3.IntegrityError:  # a concurrent duplicate: answer like the registry does
            raise Refusal(
                _err("XDSDuplicateUniqueIdInRegistry", "uniqueId already registered")
            ) from None
        for old in replaced:
            entry = ebrim.read_document_entry(etree.fromstring(old.metadata))
            self.registry.update(
                old.lid,
                status=UUID.DEPRECATED,
                metadata=etree.tostring(
                    ebrim.document_entry_element(attrs.evolve(entry, status=UUID.DEPRECATED))
                ),
            )
        return ebrim.registry_response()

    def _replaced(
        self,
        assocs: list[etree._Element],
        documents: list[tuple[DocumentEntry, bytes]],
        patient_id: str,
        req: Request,
    ) -> list[StoredDocument]:
        """The versions the submission replaces (``RPLC`` associations), checked: an
        Approved document entry of the same patient, fed by the same structure."""
        sources = {e.entry_uuid for e, _ in documents}
        found = []
        for a in assocs:
            if a.get("associationType") != UUID.RPLC:
                continue
            if a.get("sourceObject") not in sources:
                raise Refusal(
                    _err("XDSRegistryMetadataError", "RPLC source is not a submitted document")
                )
            target = a.get("targetObject", "")
            old = next((d for d in self.registry.documents() if d.entry_uuid == target), None)
            if old is None or old.is_signature:
                raise Refusal(
                    _err("UnresolvedReferenceException", "RPLC target is not a document entry")
                )
            if old.patient_id != patient_id:
                raise Refusal(
                    _err("XDSPatientIdDoesNotMatch", "the replaced document is another patient's")
                )
            if old.status != UUID.APPROVED:
                raise Refusal(
                    _err("XDSRegistryMetadataError", "only an Approved document can be replaced")
                )
            self._own(old, req)
            found.append(old)
        return found

    def _check_entry(
        self, e: DocumentEntry, content: bytes, patient: str
    ) -> list[RegistryErrorItem]:
        errors = []
        loc = e.unique_id
        if e.patient_id != patient:
            errors.append(
                _err("XDSPatientIdDoesNotMatch", "entry and submission patients differ", loc)
            )
        if e.hash and e.hash.lower() != hashlib.sha1(content).hexdigest():
            errors.append(
                _err("XDSRepositoryMetadataError", "hash does not match the document", loc)
            )
        if e.size and e.size != len(content):
            errors.append(
                _err("XDSRepositoryMetadataError", "size does not match the document", loc)
            )
        if not e.creation_time or not e.language or not e.mime_type:
            errors.append(
                _err(
                    "XDSRegistryMetadataError",
                    "creationTime, languageCode and mimeType required",
                    loc,
                )
            )
        if e.class_code.code == SIGNATURE_CLASS:
            return errors
        checks: list[tuple[str, Code]] = [
            ("typeCode", e.type_code),
            ("healthcareFacilityTypeCode", e.healthcare_facility),
            ("practiceSettingCode", e.practice_setting),
            *(("confidentialityCode", c) for c in e.confidentiality),
        ]
        for name, code in checks:
            if not self.value_sets.allows(name, code.code, code.scheme):
                errors.append(
                    _err(
                        "XDSRegistryMetadataError",
                        f"{name} {code.code}@{code.scheme} is not in the value set",
                        loc,
                    )
                )
        if not 1 <= len(e.confidentiality) <= 4:
            errors.append(
                _err("XDSRegistryMetadataError", "1 to 4 confidentialityCode values", loc)
            )
        for author in e.authors:
            for spec in author.specialties:
                parts = spec.split("^")
                if len(parts) < 3 or not self.value_sets.allows(
                    "authorSpecialty", parts[0], parts[-1]
                ):
                    errors.append(
                        _err(
                            "XDSRegistryMetadataError",
                            f"authorSpecialty {parts[0]} is not in the value set",
                            loc,
                        )
                    )
        return errors

    # -- ITI-18 ----------------------------------------------------------------------------

    def _visible(self, doc: StoredDocument, req: Request, statuses: set[str]) -> bool:
        if doc.status not in statuses:
            return False
        entry = ebrim.read_document_entry(etree.fromstring(doc.metadata))
        return not (entry.masked and doc.owner != req.structure)

    def _iti18(self, body: etree._Element, req: Request) -> etree._Element:
        aq = body.find(ebrim.rim("AdhocQuery"))
        if body.tag != f"{{{NS['query']}}}AdhocQueryRequest" or aq is None:
            raise Fault("ITI-18 body must be query:AdhocQueryRequest with rim:AdhocQuery")
        slots = ebrim.slots_of(aq)
        qid = aq.get("id")
        if qid == UUID.FIND_DOCUMENTS:
            pid = _unquote((slots.get("$XDSDocumentEntryPatientId") or [""])[0])
            if not pid:
                raise Refusal(
                    _err("XDSStoredQueryParamNumber", "$XDSDocumentEntryPatientId required")
                )
            self._patient_of(req, pid)
            self._require_access(req, pid)
            statuses = set(_list((slots.get("$XDSDocumentEntryStatus") or ["()"])[0]))
            if not statuses:
                raise Refusal(_err("XDSStoredQueryParamNumber", "$XDSDocumentEntryStatus required"))
            docs = [d for d in self.registry.documents(pid) if self._visible(d, req, statuses)]
        elif qid == UUID.GET_DOCUMENTS:
            uids = _list((slots.get("$XDSDocumentEntryUniqueId") or ["()"])[0])
            docs = []
            for uid in uids:
                doc = self.registry.find_by_unique_id(uid)
                if doc is None:
                    continue
                self._patient_of(req, doc.patient_id)
                self._require_access(req, doc.patient_id)
                if self._visible(doc, req, {UUID.APPROVED, UUID.DELETED, UUID.ARCHIVED}):
                    docs.append(doc)
        else:
            raise Refusal(_err("XDSUnknownStoredQuery", f"stored query {qid!r} not supported"))
        resp = ebrim.registry_response(tag="query:AdhocQueryResponse")
        lst = etree.SubElement(resp, ebrim.rim("RegistryObjectList"), nsmap={"rim": NS["rim"]})
        for doc in docs:
            lst.append(etree.fromstring(doc.metadata))
        return resp

    # -- ITI-43 ----------------------------------------------------------------------------

    def _iti43(self, body: etree._Element, req: Request) -> tuple[etree._Element, list[Attachment]]:
        xds = NS["xds"]
        if body.tag != f"{{{xds}}}RetrieveDocumentSetRequest":
            raise Fault("ITI-43 body must be xds:RetrieveDocumentSetRequest")
        resp = etree.Element(
            f"{{{xds}}}RetrieveDocumentSetResponse", nsmap={"xds": xds, "xop": NS["xop"]}
        )
        rr = ebrim.registry_response()
        resp.append(rr)
        attachments = []
        errors = []
        for dr in body.findall(f"{{{xds}}}DocumentRequest"):
            repo = (dr.findtext(f"{{{xds}}}RepositoryUniqueId") or "").strip()
            uid = (dr.findtext(f"{{{xds}}}DocumentUniqueId") or "").strip()
            if repo != REPOSITORY_ID:
                errors.append(_err("XDSUnknownRepositoryId", "unknown repository", repo))
                continue
            doc = self.registry.find_by_unique_id(uid)
            if doc is not None:
                self._patient_of(req, doc.patient_id)
                self._require_access(req, doc.patient_id)
            if doc is None or not self._visible(doc, req, {UUID.APPROVED}):
                errors.append(_err("XDSDocumentUniqueIdError", "no such document", uid))
                continue
            out = etree.SubElement(resp, f"{{{xds}}}DocumentResponse")
            etree.SubElement(out, f"{{{xds}}}RepositoryUniqueId").text = repo
            etree.SubElement(out, f"{{{xds}}}DocumentUniqueId").text = uid
            etree.SubElement(out, f"{{{xds}}}mimeType").text = "text/xml"
            cid = f"doc.{uuid.uuid4().hex}@sandbox"
            holder = etree.SubElement(out, f"{{{xds}}}Document")
            etree.SubElement(holder, f"{{{NS['xop']}}}Include", href=cid_href(cid))
            attachments.append(Attachment(cid, doc.content, "text/xml"))
        if errors:
            resp.remove(rr)
            resp.insert(0, ebrim.registry_response(errors))
            if attachments:
                resp[0].set("status", UUID.PARTIAL)
        return resp, attachments

    # -- ITI-57 ----------------------------------------------------------------------------

    def _iti57(self, body: etree._Element, req: Request) -> etree._Element:
        lst = body.find(ebrim.rim("RegistryObjectList"))
        if body.tag != f"{{{NS['lcm']}}}SubmitObjectsRequest" or lst is None:
            raise Fault("ITI-57 body must be lcm:SubmitObjectsRequest")
        ss = _submission_set(lst)
        self._patient_of(req, ss.patient_id)
        assocs = lst.findall(ebrim.rim("Association"))
        for eo in lst.findall(ebrim.rim("ExtrinsicObject")):
            new = ebrim.read_document_entry(eo)
            current = self.registry.find_by_lid(new.lid or "")
            if current is None:
                raise Refusal(_err("XDSUnknownDocumentEntry", "no document with this lid"))
            self._own(current, req)
            previous = next(
                (
                    ebrim.slots_of(a).get("PreviousVersion", [""])[0]
                    for a in assocs
                    if a.get("targetObject") == new.entry_uuid
                ),
                "",
            )
            if previous != current.version:
                raise Refusal(
                    _err(
                        "XDSMetadataVersionError",
                        f"PreviousVersion {previous!r} is not the current version",
                    )
                )
            if errors := [
                e
                for e in self._check_entry(new, current.content, current.patient_id)
                if e.code == "XDSRegistryMetadataError"
            ]:
                raise Refusal(*errors)
            final = attrs.evolve(
                new,
                entry_uuid=new.entry_uuid,
                lid=current.lid,
                unique_id=current.unique_id,
                repository_id=REPOSITORY_ID,
            )
            self.registry.update(
                current.lid,
                version=new.version,
                entry_uuid=new.entry_uuid,
                metadata=etree.tostring(ebrim.document_entry_element(final)),
            )
        for a in assocs:
            if a.get("associationType") != UUID.UPDATE_AVAILABILITY:
                continue
            slots = ebrim.slots_of(a)
            current = self.registry.find_by_lid(a.get("targetObject", ""))
            if current is None:
                raise Refusal(_err("XDSUnknownDocumentEntry", "no document with this id"))
            self._own(current, req)
            new_status = (slots.get("NewStatus") or [""])[0]
            if (slots.get("OriginalStatus") or [""])[0] != current.status:
                raise Refusal(_err("XDSMetadataUpdateError", "OriginalStatus is not current"))
            if new_status not in (UUID.DELETED, UUID.ARCHIVED, UUID.APPROVED):
                raise Refusal(_err("XDSMetadataUpdateError", f"unknown status {new_status!r}"))
            entry = ebrim.read_document_entry(etree.fromstring(current.metadata))
            final = attrs.evolve(entry, status=new_status)
            self.registry.update(
                current.lid,
                status=new_status,
                metadata=etree.tostring(ebrim.document_entry_element(final)),
            )
        return ebrim.registry_response()

    def _own(self, doc: StoredDocument, req: Request) -> None:
        if doc.owner != req.structure:
            raise Refusal(_err("DMPNotOwner", "only the structure that fed it may change it"))


def _unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value


def _list(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("(") and value.endswith(")"):
        value = value[1:-1]
    return [_unquote(v) for v in value.split(",") if v.strip()]
