"""The host contract, kept importable here: it lives in :mod:`segur_core.host.hookspecs`.

``pm.add_hookspecs(hostspecs.hookspecs)`` and ``from hostspecs.hookspecs import hostimpl``
keep working; new code imports :mod:`segur_core.host`.
"""

from segur_core.host.hookspecs import (
    HOST_HOOKS,
    host_consent,
    host_decide,
    host_dispensations,
    host_find_patients,
    host_get_document,
    host_get_message,
    host_get_patient,
    host_list_documents,
    host_practitioner,
    host_record_consent,
    host_record_dispensation,
    host_save_patient,
    host_store_document,
    host_store_message,
    host_structure,
    hostimpl,
    hostspec,
)

__all__ = [
    "HOST_HOOKS",
    "host_consent",
    "host_decide",
    "host_dispensations",
    "host_find_patients",
    "host_get_document",
    "host_get_message",
    "host_get_patient",
    "host_list_documents",
    "host_practitioner",
    "host_record_consent",
    "host_record_dispensation",
    "host_save_patient",
    "host_store_document",
    "host_store_message",
    "host_structure",
    "hostimpl",
    "hostspec",
]
