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
