"""The DMP web-service client: one method per transaction, over SOAP 1.2 + WS-Addressing
and mutual TLS (the core's :class:`~segur_core.wire.HttpCaller`: ``timeout`` is the total
deadline of a call, an answer over 64 MB is refused while it streams), MTOM for the XDS
transactions. An untrusted server certificate is a permanent
:class:`~segur_core.wire.ServerCertificateError`.

It does the protocol only; the rules (qualified INS, access check first, journal) are in
:mod:`segur_dmp.service`.
"""

from __future__ import annotations

import datetime as dt
import ssl
import uuid
from collections.abc import Sequence

import attrs
from lxml import etree

from segur_core.model import INS, Practitioner, Structure
from segur_core.wire.errors import CallTimeout, ServiceUnreachable
from segur_core.wire.http import HTTPX_HEADERS, CallLimits, HttpCaller
from segur_core.xds import hl7v2
from segur_core.xds.metadata import (
    Author,
    Code,
    DocumentEntry,
    SubmissionSet,
    cx,
    new_oid,
    new_urn,
    xds_time,
)
from segur_dmp import ebrim, hl7v3, soap
from segur_dmp.errors import DMPTransportError, MTOMError, SOAPFault
from segur_dmp.mtom import (
    MAX_XML_BYTES,
    Attachment,
    build_mtom,
    cid_href,
    parse_content_type,
    parse_mtom,
)
from segur_dmp.ns import ACTION, NS, OID, UUID
from segur_dmp.vihf import LPS, StructureSigner, VIHFSigner, build_vihf
from segur_dmp.xades import sign_submission

__all__ = ["DMPClient", "Endpoints", "new_oid"]

#: The repository unique id of the DMP (what ITI-43 asks for). [UNCERTAIN] production value.
DMP_REPOSITORY = "1.2.250.1.213.1.1.9.2"


@attrs.frozen
class Endpoints:
    """Service URLs of one DMP environment (suffixes per DRIMbox; [UNCERTAIN] which are
    canonical, see the reference)."""

    base_url: str
    registry: str = "/registry"
    repository: str = "/repository"
    patients: str = "/patients"
    habilitations: str = "/habilitations"

    def url(self, service: str) -> str:
        return self.base_url.rstrip("/") + getattr(self, service)


@attrs.frozen
class Response:
    envelope: soap.Envelope
    attachments: dict[str, Attachment]

    def resolve(self, include: etree._Element) -> bytes:
        href = include.get("href", "")
        if not href.startswith("cid:"):
            raise MTOMError("xop:Include without a cid: href")
        import urllib.parse

        cid = urllib.parse.unquote(href[4:])
        if cid not in self.attachments:
            raise MTOMError("xop:Include references a missing part")
        return self.attachments[cid].data


class DMPClient:
    """Talks to the DMP (or its sandbox) for one structure and one practitioner."""

    def __init__(
        self,
        *,
        endpoints: Endpoints,
        ssl_context: ssl.SSLContext | None,
        signer: VIHFSigner,
        structure: Structure,
        practitioner: Practitioner,
        lps: LPS | None = None,
        source_id: str = "1.2.250.1.213.1.1.9.999",
        timeout: float = 15.0,
    ) -> None:
        self.endpoints = endpoints
        self.signer = signer
        self.structure = structure
        self.practitioner = practitioner
        self.lps = lps or LPS()
        self.source_id = source_id
        limits = CallLimits(timeout, max_bytes=MAX_XML_BYTES)
        self._http = HttpCaller(service="dmp", ssl_context=ssl_context, limits=limits,
                                tls_table="dmp.tls")  # fmt: skip

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DMPClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------

    def _vihf(self, ins: INS | None, access_mode: str = "normal") -> etree._Element:
        return build_vihf(
            signer=self.signer, structure=self.structure, practitioner=self.practitioner,
            patient_ins=ins, lps=self.lps, access_mode=access_mode,
        )  # fmt: skip

    def _call(
        self,
        service: str,
        action: str,
        body: etree._Element,
        *,
        ins: INS | None,
        attachments: Sequence[Attachment] = (),
        mtom: bool = True,
    ) -> Response:
        url = self.endpoints.url(service)
        envelope = soap.build_envelope(action, url, body, security=[self._vihf(ins)])
        if mtom:
            content_type, payload = build_mtom(envelope, attachments, action=action)
        else:
            content_type = f'application/soap+xml; charset=UTF-8; action="{action}"'
            payload = envelope
        try:
            reply = self._http.post(url, payload, {**HTTPX_HEADERS, "Content-Type": content_type})
        except CallTimeout:
            raise DMPTransportError(
                "the DMP did not answer in time", service="dmp", code="timeout"
            ) from None
        except ServiceUnreachable as exc:
            cause = type(exc.__cause__).__name__
            raise DMPTransportError(
                f"cannot reach the DMP ({cause})", service="dmp", code="unreachable"
            ) from None
        ctype = reply.content_type
        try:
            media, _ = parse_content_type(ctype)
        except MTOMError:
            media = ""
        if media not in ("multipart/related", "application/soap+xml"):
            if reply.status >= 500 or reply.status in (408, 429):
                raise DMPTransportError(
                    f"the DMP answered HTTP {reply.status}",
                    service="dmp",
                    code=str(reply.status),
                )
            raise SOAPFault(
                f"unexpected HTTP {reply.status} answer ({media or 'no type'})",
                service="dmp",
                code=str(reply.status),
                transient=False,
            )
        if media == "multipart/related":
            message = parse_mtom(ctype, reply.content)
            root, atts = message.root, dict(message.attachments)
        else:
            root, atts = reply.content, {}
        try:
            env = soap.parse_envelope(root)
        except SOAPFault as fault:
            if reply.status >= 500 and fault.transient:
                raise DMPTransportError(fault.message, service="dmp", code=fault.code) from None
            raise
        if reply.status >= 400:
            raise SOAPFault(
                f"HTTP {reply.status}",
                service="dmp",
                code=str(reply.status),
                transient=reply.status >= 500,
            )
        return Response(env, atts)

    # -- TD0.2 / TD0.3 ---------------------------------------------------------------------

    def test_access(self, ins: INS) -> hl7v3.AccessStatus:
        """TD0.2: does the patient have a DMP, and is this structure authorised?"""
        body = hl7v3.td02_request(ins.matricule, ins.oid, sender=self.source_id)
        resp = self._call("patients", ACTION.TD02, body, ins=ins, mtom=False)
        return hl7v3.read_td02_response(resp.envelope.body)

    def set_authorization(self, ins: INS, *, add: bool = True) -> None:
        """TD0.3: record (or remove) this structure's authorisation on the patient's DMP."""
        body = hl7v3.td03_request(ins.matricule, ins.oid, add=add)
        resp = self._call("habilitations", ACTION.TD03, body, ins=ins, mtom=False)
        status = resp.envelope.body.findtext(f"{{{NS['hab']}}}status")
        if (status or "").strip() != "OK":
            raise SOAPFault(
                "setAuthorization was refused", service="dmp", code="KO", transient=False
            )

    # -- ITI-41 ----------------------------------------------------------------------------

    def author(self) -> Author:
        p, s = self.practitioner, self.structure
        spec = p.specialty or f"G15_{p.profession}"
        return Author(
            person=hl7v2.xcn(p.idnps, p.family_name, p.given_name, OID.PS_IDNAT),
            institutions=(hl7v2.xon(s.name, s.idnst, OID.STRUCT_IDNAT),),
            specialties=(hl7v2.coded(spec, "", "1.2.250.1.213.1.1.4.5"),),
        )

    def provide_and_register(
        self,
        ins: INS,
        cda: bytes,
        entry: DocumentEntry,
        *,
        content_type: Code | None = None,
        replaces: str | None = None,
    ) -> SubmissionSet:
        """ITI-41 (TD2.1): feed one document with its signed submission set.

        ``replaces``: the entryUUID of the version the document replaces (an
        ``RPLC`` association from the new entry to it; the registry deprecates it)."""
        now = dt.datetime.now(dt.UTC)
        patient_cx = cx(ins.matricule, ins.oid)
        ss = SubmissionSet(
            unique_id=new_oid(),
            source_id=self.source_id,
            patient_id=patient_cx,
            submission_time=xds_time(now),
            # contentTypeCode is required by the DMP (JDV_J59); its values are [UNCERTAIN]
            # in the reference (J59 draws on TRE_R02 activity sectors): the structure's
            # sector (SA33 officine) unless the caller knows better.
            content_type=content_type
            or Code(self.structure.activity_sector, "1.2.250.1.71.4.2.4", "Pharmacie d'officine"),
            authors=(self.author(),),
        )
        signature = sign_submission(
            self._structure_signer(), submission_set_uid=ss.unique_id,
            documents=[(entry.unique_id, cda)], now=now,
        )  # fmt: skip
        sig_entry = signature_entry(entry, signature, self.author())
        body, attachments = _provide_request(
            ss, [(entry, cda, "Document01"), (sig_entry, signature, "Signature01")], replaces
        )
        resp = self._call("repository", ACTION.ITI41, body, ins=ins, attachments=attachments)
        ebrim.read_registry_response(resp.envelope.body)
        return ss

    def _structure_signer(self) -> StructureSigner:
        if isinstance(self.signer, StructureSigner):
            return self.signer
        raise SOAPFault(
            "feeding needs the structure signing certificate",
            service="dmp",
            code="no-signer",
            transient=False,
        )

    # -- ITI-18 ----------------------------------------------------------------------------

    def _query(self, ins: INS, query_id: str, slots: list[tuple[str, list[str]]]) -> list:
        req = etree.Element(
            f"{{{NS['query']}}}AdhocQueryRequest", nsmap={"query": NS["query"], "rim": NS["rim"]}
        )
        etree.SubElement(
            req,
            f"{{{NS['query']}}}ResponseOption",
            returnType="LeafClass",
            returnComposedObjects="true",
        )
        aq = etree.SubElement(req, ebrim.rim("AdhocQuery"), id=query_id)
        for name, values in slots:
            ebrim.slot(aq, name, values)
        resp = self._call("registry", ACTION.ITI18, req, ins=ins)
        ebrim.read_registry_response(resp.envelope.body)
        return [
            ebrim.read_document_entry(eo)
            for eo in resp.envelope.body.iter(ebrim.rim("ExtrinsicObject"))
            if eo.get("objectType") == UUID.DOCUMENT_ENTRY
        ]

    def find_documents(
        self, ins: INS, *, statuses: Sequence[str] = (UUID.APPROVED,)
    ) -> list[DocumentEntry]:
        """ITI-18 FindDocuments (TD3.1) for the patient."""
        status_list = "(" + ",".join(f"'{s}'" for s in statuses) + ")"
        return self._query(ins, UUID.FIND_DOCUMENTS, [
            ("$XDSDocumentEntryPatientId", [f"'{cx(ins.matricule, ins.oid)}'"]),
            ("$XDSDocumentEntryStatus", [status_list]),
        ])  # fmt: skip

    def get_documents(self, ins: INS, unique_ids: Sequence[str]) -> list[DocumentEntry]:
        """ITI-18 GetDocuments by unique id."""
        values = "(" + ",".join(f"'{u}'" for u in unique_ids) + ")"
        return self._query(ins, UUID.GET_DOCUMENTS, [("$XDSDocumentEntryUniqueId", [values])])

    # -- ITI-43 ----------------------------------------------------------------------------

    def retrieve(self, ins: INS, unique_id: str, repository_id: str = DMP_REPOSITORY) -> bytes:
        """ITI-43 (TD3.2): the bytes of one document."""
        xds = NS["xds"]
        req = etree.Element(f"{{{xds}}}RetrieveDocumentSetRequest", nsmap={"xds": xds})
        dr = etree.SubElement(req, f"{{{xds}}}DocumentRequest")
        etree.SubElement(dr, f"{{{xds}}}RepositoryUniqueId").text = repository_id
        etree.SubElement(dr, f"{{{xds}}}DocumentUniqueId").text = unique_id
        resp = self._call("repository", ACTION.ITI43, req, ins=ins)
        rr = resp.envelope.body.find(f"{{{NS['rs']}}}RegistryResponse")
        if rr is None:
            raise MTOMError("ITI-43 answer without a RegistryResponse")
        ebrim.read_registry_response(rr)
        for doc in resp.envelope.body.iter(f"{{{xds}}}DocumentResponse"):
            if (doc.findtext(f"{{{xds}}}DocumentUniqueId") or "").strip() == unique_id:
                holder = doc.find(f"{{{xds}}}Document")
                include = holder.find(f"{{{NS['xop']}}}Include") if holder is not None else None
                if include is None:
                    raise MTOMError("ITI-43 document is not an xop:Include (MTOM required)")
                return resp.resolve(include)
        raise MTOMError("ITI-43 answer does not hold the requested document")

    # -- ITI-57 ----------------------------------------------------------------------------

    def set_masked(self, ins: INS, entry: DocumentEntry, masked: bool) -> DocumentEntry:
        """ITI-57 (TD3.3a): a new metadata version masking (or unmasking) the document to
        health professionals (``MASQUE_PS``)."""
        codes = tuple(c for c in entry.confidentiality if c.code != "MASQUE_PS")
        if masked:
            codes += (Code("MASQUE_PS", "1.2.250.1.213.1.1.4.13", "Masqué aux professionnels"),)
        new = attrs.evolve(
            entry, confidentiality=codes, lid=entry.lid or entry.entry_uuid,
            entry_uuid=new_urn(), version=str(int(entry.version or "1") + 1),
        )  # fmt: skip
        ss = self._update_set(ins)
        objects = [ebrim.submission_set_element(ss), ebrim.submission_set_classification(ss),
                   ebrim.document_entry_element(new),
                   ebrim.association(UUID.HAS_MEMBER, ss.entry_uuid, new.entry_uuid, slots=[
                       ("SubmissionSetStatus", ["Original"]),
                       ("PreviousVersion", [entry.version or "1"])])]  # fmt: skip
        self._submit_update(ins, objects)
        return new

    def delete(self, ins: INS, entry: DocumentEntry) -> None:
        """ITI-57 (TD3.3c): mark the document deleted (UpdateAvailabilityStatus)."""
        ss = self._update_set(ins)
        change = ebrim.association(UUID.UPDATE_AVAILABILITY, ss.entry_uuid, entry.lid or
                                   entry.entry_uuid, slots=[
            ("OriginalStatus", [UUID.APPROVED]), ("NewStatus", [UUID.DELETED])])  # fmt: skip
        objects = [
            ebrim.submission_set_element(ss),
            ebrim.submission_set_classification(ss),
            change,
            ebrim.association(
                UUID.HAS_MEMBER,
                ss.entry_uuid,
                change.get("id"),
                slots=[("SubmissionSetStatus", ["Original"])],
            ),
        ]
        self._submit_update(ins, objects)

    def _update_set(self, ins: INS) -> SubmissionSet:
        return SubmissionSet(
            unique_id=new_oid(), source_id=self.source_id,
            patient_id=cx(ins.matricule, ins.oid),
            submission_time=xds_time(dt.datetime.now(dt.UTC)),
            content_type=Code(self.structure.activity_sector, "1.2.250.1.71.4.2.4",
                              "Pharmacie d'officine"),
            authors=(self.author(),),
        )  # fmt: skip

    def _submit_update(self, ins: INS, objects: list[etree._Element]) -> None:
        req = etree.Element(
            f"{{{NS['lcm']}}}SubmitObjectsRequest", nsmap={"lcm": NS["lcm"], "rim": NS["rim"]}
        )
        lst = etree.SubElement(req, ebrim.rim("RegistryObjectList"))
        lst.extend(objects)
        resp = self._call("registry", ACTION.ITI57, req, ins=ins)
        ebrim.read_registry_response(resp.envelope.body)


def signature_entry(entry: DocumentEntry, signature: bytes, author: Author) -> DocumentEntry:
    """The DocumentEntry of the submission set's signature document (reference §5.5)."""
    import hashlib

    return DocumentEntry(
        unique_id=new_oid(),
        patient_id=entry.patient_id,
        class_code=Code("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN", "Digital Signature"),
        type_code=Code("E1762", "ASTM", "Full Document"),
        format_code=Code("http://www.w3.org/2000/09/xmldsig#", "URN", "Default Signature Style"),
        confidentiality=entry.confidentiality,
        healthcare_facility=entry.healthcare_facility,
        practice_setting=entry.practice_setting,
        creation_time=xds_time(dt.datetime.now(dt.UTC)),
        title="Source",
        hash=hashlib.sha1(signature).hexdigest(),
        size=len(signature),
        language="art",
        mime_type="text/xml",
        authors=(author,),
        source_patient_id=entry.source_patient_id,
        event_codes=(Code("1.2.840.10065.1.12.1.14", "1.2.840.10065.1.12", "Source"),),
    )


def _provide_request(
    ss: SubmissionSet, docs: list[tuple[DocumentEntry, bytes, str]], replaces: str | None = None
) -> tuple[etree._Element, list[Attachment]]:
    xds = NS["xds"]
    req = etree.Element(
        f"{{{xds}}}ProvideAndRegisterDocumentSetRequest",
        nsmap={"xds": xds, "lcm": NS["lcm"], "rim": NS["rim"], "xop": NS["xop"]},
    )
    sor = etree.SubElement(req, f"{{{NS['lcm']}}}SubmitObjectsRequest")
    lst = etree.SubElement(sor, ebrim.rim("RegistryObjectList"))
    lst.append(ebrim.submission_set_element(ss))
    lst.append(ebrim.submission_set_classification(ss))
    attachments = []
    for entry, _content, local_id in docs:
        lst.append(ebrim.document_entry_element(entry, object_id=local_id))
        lst.append(
            ebrim.association(
                UUID.HAS_MEMBER,
                ss.entry_uuid,
                local_id,
                slots=[("SubmissionSetStatus", ["Original"])],
            )
        )
    if replaces:
        lst.append(ebrim.association(UUID.RPLC, docs[0][2], replaces))
    signature_id = docs[-1][2]
    lst.append(ebrim.association(UUID.SIGNS, signature_id, ss.entry_uuid))
    for _entry, content, local_id in docs:
        cid = f"{local_id}.{uuid.uuid4().hex}@segur"
        doc = etree.SubElement(req, f"{{{xds}}}Document", id=local_id)
        etree.SubElement(doc, f"{{{NS['xop']}}}Include", href=cid_href(cid))
        attachments.append(Attachment(cid, content, "text/xml"))
    return req, attachments
