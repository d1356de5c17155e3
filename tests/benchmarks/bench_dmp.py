"""DMP feed through the outbox against direct ITI-41 calls without it.

Run: uv run python tests/benchmarks/bench_dmp.py [--count 1000]

Both sides feed ``count`` distinct notes de vaccination (the ANS kit example with fresh
unique ids) to the sandbox DMP over mutual TLS, one at a time, in this process: the
baseline calls ``DMPClient.provide_and_register`` directly; the outbox side enqueues
every document (durable SQLite) and drains the queue with ``run_until_idle`` through the
``dmp.iti41`` sender. The two sides alternate in rounds of about 100 documents so that a
change of machine load affects both alike. Prints the throughput ratio outbox/direct
(goal >= 0.7) and the peak memory of each side (tracemalloc) and of the process (ru_maxrss).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from segur_dmp.service import service_for
from segur_dmp.testing import KIT_INS, fresh_copy, kit_patient, vaccination_note

from segur_core.runtime import create_runtime
from segur_core.xds.metadata import cx, entry_from_cda

KIT = Path(__file__).resolve().parents[2] / ".." / "shared" / "cisis" / "TestContenuCDA-3-0"


def documents(template: bytes, count: int) -> list[tuple[str, bytes]]:
    return [fresh_copy(template) for _ in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    example = KIT / "ExemplesCDA" / "VAC-NOTE_2023.01.xml"
    if not example.is_file():
        print(f"skipped: {example} is absent")
        return 0
    template = example.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        runtime = create_runtime(
            {"segur": {"mode": "test", "plugins": ["ins", "dmp"]}}, data_dir=tmp, autoload=True
        )
        try:
            service = service_for(runtime)
            client = service.client  # starts the sandbox, builds TLS contexts
            patient = runtime.host.save_patient(kit_patient("P-BENCH"))
            patient_cx = cx(KIT_INS.matricule, KIT_INS.oid)
            warm = documents(template, 5)
            for _uid, cda in warm:
                client.provide_and_register(
                    KIT_INS, cda, entry_from_cda(cda, patient_id=patient_cx)
                )

            # Interleaved rounds, so that a change of machine load hits both sides alike.
            rounds = max(1, min(10, args.count // 50))
            per_round = [args.count // rounds + (i < args.count % rounds) for i in range(rounds)]
            direct = through_outbox = enqueued = 0.0
            outbox_docs: list[tuple[str, bytes]] = []
            for size in per_round:
                batch = documents(template, size)
                start = time.perf_counter()
                for _uid, cda in batch:
                    client.provide_and_register(
                        KIT_INS, cda, entry_from_cda(cda, patient_id=patient_cx)
                    )
                direct += time.perf_counter() - start

                batch = documents(template, size)
                outbox_docs += batch
                start = time.perf_counter()
                for uid, cda in batch:
                    service.enqueue(vaccination_note(patient.id, uid, cda, title="NOTE"), patient)
                enqueued += time.perf_counter() - start
                if not runtime.outbox.run_until_idle(timeout=3600):
                    print("the outbox did not drain", file=sys.stderr)
                    return 1
                through_outbox += time.perf_counter() - start
            rss_direct = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

            # peak Python allocations, on a separate pass (tracemalloc slows everything)
            sample = min(args.count, 100)
            tracemalloc.start()
            for _uid, cda in documents(template, sample):
                client.provide_and_register(
                    KIT_INS, cda, entry_from_cda(cda, patient_id=patient_cx)
                )
            direct_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            extra = documents(template, sample)
            for uid, cda in extra:
                service.enqueue(vaccination_note(patient.id, uid, cda, title="NOTE"), patient)
            runtime.outbox.run_until_idle(timeout=600)
            outbox_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()

            registry = runtime.sandbox("dmp").registry
            expected = len(warm) + 2 * args.count + 2 * sample
            assert registry.count() == expected, (registry.count(), expected)
            delivered = sum(runtime.outbox.find(uid).state == "delivered" for uid, _ in outbox_docs)
            assert delivered == args.count
        finally:
            service_for(runtime).close()
            runtime.close()
    ratio = direct / through_outbox
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"documents: {args.count} (VAC-NOTE, {len(template)} bytes each)")
    print(
        f"direct ITI-41:  {direct:8.2f} s  {args.count / direct:7.1f} docs/s  "
        f"peak traced {direct_peak / 2**20:6.1f} MiB (tracemalloc pass on {sample} docs)"
    )
    print(
        f"via the outbox: {through_outbox:8.2f} s  {args.count / through_outbox:7.1f} docs/s  "
        f"peak traced {outbox_peak / 2**20:6.1f} MiB (same)  enqueue {enqueued:.2f} s"
    )
    print(f"process peak RSS after the timed rounds: {rss_direct:.0f} MiB")
    print(f"ratio outbox/direct throughput: {ratio:.2f} (goal >= 0.7)")
    print(f"process peak RSS at the end: {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
