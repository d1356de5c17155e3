"""The plugin in a runtime: fetch announces the prescription; a dispensation report goes
through the outbox, survives an outage of the service and is recorded once."""

from __future__ import annotations

import pytest
from segur_eprescription.dispensation import Decision, LineDecision
from segur_eprescription.errors import DispensationError, ScanError
from segur_eprescription.models import Product, ProductKind
from segur_eprescription.service import DISPENSATION_KIND, service_for

from segur_core import hookimpl
from segur_core.outbox import Outbox

THREE_LINES = "SBX000000000000001"
GENERIC = Product(
    ProductKind.CIP13, "PARACETAMOL MYLAN 500 mg, comprimé", code="3400933516390",
    system="1.2.250.1.213.2.3.2",
)  # fmt: skip


class Listener:
    """A host-side plugin recording the announced prescriptions."""

    def __init__(self) -> None:
        self.seen: list = []

    @hookimpl
    def on_prescription_scanned(self, prescription, patient, runtime) -> None:
        self.seen.append((prescription, patient))


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def runtime(make_segur_runtime, listener):
    return make_segur_runtime(autoload=True, plugins=["eprescription"], extra_plugins=[listener])


def test_fetch_announces_the_prescription(runtime, listener) -> None:
    fetched = service_for(runtime).fetch(f"https://qr.example/?id={THREE_LINES}")
    assert fetched.prescription.id == THREE_LINES
    [(announced, patient)] = listener.seen
    assert announced.id == THREE_LINES and len(announced.items) == 3
    assert patient is None  # the host knows no patient with this INS
    with pytest.raises(ScanError):
        service_for(runtime).fetch("not a prescription")
    assert len(listener.seen) == 1


def test_a_report_survives_an_outage_and_is_sent_once(runtime) -> None:
    sandbox = runtime.sandbox("eprescription")
    service = service_for(runtime)
    fetched = service.fetch(THREE_LINES)
    with pytest.raises(DispensationError, match="non-substitutable"):
        service.dispense(fetched, [LineDecision(2, Decision.SUBSTITUTED, product=GENERIC)])
    outbox = Outbox(
        runtime.data_dir / "outbox.sqlite", runtime=runtime, base_delay=0.02, max_delay=0.1,
        max_attempts=100, lease=2.0, poll_interval=0.02,
    )  # fmt: skip
    sandbox.faults.down()
    done = service.dispense(
        fetched, [LineDecision(1, Decision.SUBSTITUTED, product=GENERIC)], build_document=False
    )
    assert done.delivery.kind == DISPENSATION_KIND
    outbox.deliver_due()
    assert outbox.find(done.report.report_id).state != "delivered"  # the service is down
    sandbox.faults.up()
    sandbox.lose_replies = 1  # recorded, but the answer is lost: the retry must not count
    assert outbox.run_until_idle(timeout=20)
    assert outbox.find(done.report.report_id).state == "delivered"
    outbox.close()
    assert sandbox.store.reports(THREE_LINES) == [done.report.report_id]
    assert sandbox.store.get(THREE_LINES).done == 1


def test_a_known_patient_gets_the_dispensation_in_the_host_history(runtime, listener) -> None:
    from segur_core.model import INS, BirthDate, Identity, IdentityStatus, IdentityTraits, Patient

    traits = IdentityTraits("SANDBOX", ("CAMILLE",), "F", BirthDate(1979, 3, 28))
    ins = INS("279035121518989", "1.2.250.1.213.1.4.10")
    identity = Identity(traits, status=IdentityStatus.QUALIFIED, ins=ins)
    patient = runtime.host.save_patient(Patient("P-ERX", identity))
    service = service_for(runtime)
    fetched = service.fetch(THREE_LINES)
    assert listener.seen[-1][1].id == patient.id  # matched by INS
    done = service.dispense(
        fetched, [LineDecision(1, Decision.SUBSTITUTED, product=GENERIC),
                  LineDecision(3, Decision.NOT_DELIVERED, reason="refus")],
    )  # fmt: skip
    assert done.patient_id == patient.id
    history = runtime.host.dispensations(patient.id)
    assert sorted(d.product_code for d in history) == ["3400930000021", "3400933516390"]
    assert {d.prescription_id for d in history} == {THREE_LINES}
    # the INS only when the runtime says it is shareable; the host's id in any case
    shareable = runtime.shareable_ins(patient) is not None
    assert (b"279035121518989" in done.edisp) is shareable
    assert b'extension="P-ERX"' in done.edisp
