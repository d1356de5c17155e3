"""E-prescription: the eDISP-MED build + XSD check against raw lxml XSD validation of the
same bytes, and the scan → fetch → dispense latency against the sandbox.

Run: uv run python tests/benchmarks/bench_eprescription.py [--count 300] [--latency 100]

1. ``count`` eDISP-MED documents are built from a dispensation with a generic
   substitution (``build_edisp``) and checked against the kit's XSD through
   segur-documents' validator (hardened parse, structural checks, XSD; no schematron).
   The baseline validates the same bytes with a plain ``lxml.etree.XMLSchema`` (parse +
   validate only). The two sides alternate in rounds; the ratio segur/raw of documents
   per second is printed.
2. ``latency`` prescriptions are added to the sandbox service (mutual TLS on loopback),
   then each is scanned from a URL payload, fetched, dispensed with one substitution
   (report queued in the outbox, eDISP-MED built) and its report delivered
   (``deliver_due``): median, p95 and max per prescription are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from lxml import etree
from segur_documents.checks import Validator
from segur_documents.testing import sample_context
from segur_eprescription.dispensation import Decision, LineDecision, decide
from segur_eprescription.edisp import build_edisp
from segur_eprescription.epmeddm import read_prescription
from segur_eprescription.models import CIP13_OID, Product, ProductKind
from segur_eprescription.sandbox.prescriptions import SEEDS, prescription_cda
from segur_eprescription.service import service_for

from segur_core.runtime import create_runtime

KIT = Path(__file__).resolve().parents[2] / ".." / "shared" / "cisis" / "TestContenuCDA-3-0"
AT = dt.datetime(2026, 11, 30, 9, 30, tzinfo=dt.UTC)
GENERIC = Product(
    ProductKind.CIP13, "PARACETAMOL MYLAN 500 mg, comprimé", code="3400933516390",
    system=CIP13_OID,
)  # fmt: skip
SUBSTITUTION = [LineDecision(1, Decision.SUBSTITUTED, product=GENERIC)]


def build_and_check(count: int) -> None:
    validator = Validator(KIT, schematron=False)
    raw_schema = etree.XMLSchema(etree.parse(str(validator.xsd.path)))
    prescription = read_prescription(
        prescription_cda("SBX000000000000001", SEEDS["SBX000000000000001"], issued_at=AT)
    )
    ctx = sample_context()
    rounds = max(1, min(10, count // 30))
    per_round = [count // rounds + (i < count % rounds) for i in range(rounds)]
    ours = raw = 0.0
    for size in per_round:
        built = []
        start = time.perf_counter()
        for _ in range(size):
            data, _ = build_edisp(prescription, decide(prescription, SUBSTITUTION, now=AT), ctx)
            report = validator.validate(data)
            assert report.valid, report.errors
            built.append(data)
        ours += time.perf_counter() - start
        start = time.perf_counter()
        for data in built:
            assert raw_schema.validate(etree.fromstring(data))
        raw += time.perf_counter() - start
    print(f"eDISP-MED build + XSD check: {count / ours:8.1f} documents/s")
    print(f"raw lxml XSD validation:     {count / raw:8.1f} documents/s (same bytes)")
    print(f"ratio segur/raw: {raw / ours:.3f}")


def latency(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runtime = create_runtime(
            {"segur": {"mode": "test", "plugins": ["eprescription"]}}, data_dir=tmp, autoload=True
        )
        try:
            sandbox = runtime.sandbox("eprescription")
            ids = [f"BENCH{i:013d}" for i in range(count + 3)]
            for ident in ids:
                sandbox.store.add(
                    prescription_cda(ident, SEEDS["SBX000000000000001"], issued_at=AT)
                )
            service = service_for(runtime)
            times = []
            for n, ident in enumerate(ids):
                start = time.perf_counter()
                fetched = service.fetch(f"https://ordonnance.example/?id={ident}")
                done = service.dispense(fetched, SUBSTITUTION)
                runtime.outbox.deliver_due()
                elapsed = time.perf_counter() - start
                assert runtime.outbox.get(done.delivery.id).state == "delivered"
                if n >= 3:  # the first ones warm the TLS pool and the caches
                    times.append(elapsed)
        finally:
            runtime.close()
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(
        f"scan → fetch → dispense → report delivered ({len(times)} prescriptions): "
        f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {times[-1] * 1000:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--latency", type=int, default=100)
    args = parser.parse_args()
    if not (KIT / "infrastructure" / "cda" / "CDA_extended.xsd").is_file():
        print(f"skipped: the CI-SIS kit is absent ({KIT})")
        return 0
    build_and_check(args.count)
    latency(args.latency)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
