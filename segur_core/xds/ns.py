"""Namespaces, ebRIM scheme UUIDs and French code systems of XDS metadata.

Values come from ``xds-dmp.md`` of the project reference (IHE ITI TF-3 and the CI-SIS
material it cites); segur-dmp adds its SOAP namespaces and actions.
"""

from __future__ import annotations

__all__ = ["NS", "OID", "UUID"]

NS = {
    "xds": "urn:ihe:iti:xds-b:2007",
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "query": "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
    "rs": "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
}


class UUID:
    """ebRIM classification and identification schemes (IHE ITI TF-3 4.2.5)."""

    SUBMISSION_SET = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
    SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
    SS_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
    SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
    SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
    SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
    DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
    DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
    DE_CLASS = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
    DE_TYPE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
    DE_CONFIDENTIALITY = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
    DE_FORMAT = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
    DE_FACILITY = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
    DE_PRACTICE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
    DE_EVENT = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
    DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
    DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
    FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
    GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
    HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
    SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
    RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
    UPDATE_AVAILABILITY = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
    CLASSIFICATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"
    EXTERNAL_IDENTIFIER = (
        "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier"
    )
    REGISTRY_PACKAGE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage"
    ASSOCIATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"
    APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
    DELETED = "urn:asip:ci-sis:2010:StatusType:Deleted"
    ARCHIVED = "urn:asip:ci-sis:2010:StatusType:Archived"
    SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
    PARTIAL = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
    ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
    WARNING = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"


class OID:
    """Identifier roots and code systems of French XDS metadata (and DMP messages)."""

    PS_IDNAT = "1.2.250.1.71.4.2.1"
    STRUCT_IDNAT = "1.2.250.1.71.4.2.2"
    ACTIVITY_SECTOR = "1.2.250.1.71.4.2.4"
    G15_PROFESSION = "1.2.250.1.71.1.2.7"
    G05_CNOP = "1.2.250.1.71.4.2.6"
    AUTHOR_SPECIALTY = "1.2.250.1.213.1.1.4.5"
    CLASS_CODE = "1.2.250.1.213.1.1.4.1"
    PRACTICE_SETTING = "1.2.250.1.213.1.1.4.9"
    DMP_VISIBILITY = "1.2.250.1.213.1.1.4.13"
    CONFIDENTIALITY = "2.16.840.1.113883.5.25"
    LOINC = "2.16.840.1.113883.6.1"
    ACCESS_MODE = "1.2.250.1.213.1.1.4.248"
    DMP_REASON = "1.2.250.1.213.1.1.4.11"
    INS_OIDS = (
        "1.2.250.1.213.1.4.8",
        "1.2.250.1.213.1.4.9",
        "1.2.250.1.213.1.4.10",
        "1.2.250.1.213.1.4.11",
    )
    DMP_HOME = "2.16.840.1.113883.2.8.3.7"
