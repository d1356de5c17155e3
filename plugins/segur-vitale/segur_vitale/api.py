"""The routes of segur-vitale in ``segur serve``: a card read posted by an LGO that reads
the carte Vitale (or the appli carte Vitale) itself.

The reading is journaled and dispatched as ``on_card_read``, exactly as a card read
through PC/SC here (segur-ins looks the identity up in INSi); the answer names the
patients the read identified, as the host saved them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from segur_core.serve import ApiCall, ApiRoute, object_schema
from segur_core.serve.schemas import CARD_READING, structure

if TYPE_CHECKING:
    from segur_core.model import Patient

__all__ = ["identified", "routes"]

_collecting = threading.local()


def identified(patient: Patient) -> None:
    """``on_patient_identified``: remember the patient when a card read posted to the API
    is being dispatched in this thread."""
    found = getattr(_collecting, "patients", None)
    if found is not None:
        found.append(patient)


def card_read(call: ApiCall) -> dict[str, Any]:
    """Dispatch a card read (``on_card_read``): the identity is looked up in INSi and the
    patient found or created in the host. Answers the patients it identified, with their
    identity status (an already-qualified patient is found by the card's NIR)."""
    from segur_core.model import CardReading

    reading = structure(call.body, CardReading)
    runtime = call.runtime
    runtime.journal.record(
        "vitale.card-read",
        actor=call.caller,
        details={"source": reading.source.value, "via": "api", "rank": reading.beneficiary_rank},
    )
    _collecting.patients = []
    try:
        runtime.card_read(reading)
        patients: list[Patient] = list(_collecting.patients)
    finally:
        _collecting.patients = None
    if not patients and reading.nir:
        nir = "".join(c for c in reading.nir if c.isalnum())
        patients = runtime.host.find_patients(ins_matricule=nir)
    unique = {p.id: p for p in patients}  # the last state of each
    return {
        "dispatched": True,
        "patients": [
            {"id": p.id, "status": str(p.identity.status), "has_ins": p.identity.ins is not None}
            for p in unique.values()
        ],
    }


_ANSWER = object_schema(
    {
        "dispatched": {"type": "boolean"},
        "patients": {
            "type": "array",
            "items": object_schema(
                {
                    "id": {"type": "string"},
                    "status": {"enum": ["PROV", "RECUP", "VALI", "QUAL"]},
                    "has_ins": {"type": "boolean"},
                },
                ("id", "status", "has_ins"),
            ),
        },
    },
    ("dispatched", "patients"),
)


def routes() -> list[ApiRoute]:
    return [
        ApiRoute(
            "POST", "/vitale/card-reads", card_read, "vitaleCardRead",
            "A card read by the LGO: dispatched as on_card_read.",
            body=CARD_READING, answer=_ANSWER,
        ),
    ]  # fmt: skip
