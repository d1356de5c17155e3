"""Batch INSi qualification vs raw httpx posting pre-built envelopes, same sandbox.

The INSi sandbox runs in its own process (mutual TLS with the test PKI) and knows
N generated persons. Two runs against it with the same number of concurrent requests:

* **baseline** — raw ``httpx`` (one shared client, ``concurrency`` threads) posting N
  envelopes built beforehand, one traits search per person, reading each answer;
* **batch** — ``segur ins qualify --all``'s engine (:func:`segur_ins.batch.qualify_all`)
  on a runtime whose reference host holds the same N persons as provisional patients:
  normalise the traits, build and send the envelope, parse the answer, apply the status
  machine, save the patient, journal the call and the change, fire
  ``on_patient_identified``, note the progress. With its default configuration on a
  machine with several cores, the calls are made by worker processes
  (:mod:`segur_ins.workers`, started during the first round and counted in it).

Prints patients per second for both and the ratio batch / baseline (goal: >= 0.8), and
the client CPU per patient of each side (the batch's worker processes included).
``--latency MS`` makes the sandbox answer after MS milliseconds, like a remote service;
with the default 0 the ratio measures the client-side cost of a qualification against a
sandbox that shares the machine.

Rounds of baseline and batch alternate over slices of the persons (and the order within
a round alternates), so that load from other processes affects both sides alike.

Run: ``uv run python tests/benchmarks/bench_insi.py [--count N] [--concurrency C]
[--rounds R] [--latency MS] [--processes N]``
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def client_cpu(sandbox_pid: int) -> float:
    """CPU seconds of this process and of its children but the sandbox (Linux: the
    batch's worker processes; elsewhere this process only)."""
    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            if int(pid) == sandbox_pid:
                continue
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:  # ended meanwhile
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def serve(pki_dir: str, count: int, seed: int, latency_ms: float) -> None:
    """Child process: run the INSi sandbox until stdin closes."""
    from segur_ins.sandbox import InsiSandbox

    from segur_core.testing.pki import TestPKI

    sandbox = InsiSandbox(pki=TestPKI.create(pki_dir), generated=count, seed=seed)
    sandbox.faults.set_delay(latency_ms / 1000)  # the service's own answer time
    sandbox.start()
    print(sandbox.url, flush=True)
    sys.stdin.read()
    sandbox.stop()


def start_sandbox(
    pki_dir: Path, count: int, seed: int, latency_ms: float
) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(pki_dir), "--count", str(count),
         "--seed", str(seed), "--latency", str(latency_ms)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = process.stdout.readline().strip()
    if not url.startswith("https://"):
        process.kill()
        raise SystemExit("the INSi sandbox did not start")
    return process, url


class Baseline:
    """Raw httpx: one shared client, ``concurrency`` threads, pre-built envelopes."""

    def __init__(self, url: str, pki, concurrency: int) -> None:
        import httpx

        from segur_core.tls import client_context

        credential = pki.client("insi-auto")
        context = client_context(
            ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
        )
        transport = httpx.HTTPTransport(
            verify=context,
            limits=httpx.Limits(
                max_connections=concurrency, max_keepalive_connections=concurrency
            ),
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
        self.url = url
        self.concurrency = concurrency
        self.client = httpx.Client(transport=transport, timeout=30)

    @staticmethod
    def envelopes(persons) -> list:
        from segur_ins.config import SANDBOX_SOFTWARE_ID
        from segur_ins.insi import SoftwareContext, TraitsQuery, build_envelope

        software = SoftwareContext(idam=SANDBOX_SOFTWARE_ID)
        return [
            build_envelope(
                TraitsQuery(p.birth_name, p.first_names.split()[:1], p.sex, p.birth_date,
                            p.birth_place),
                software,
            )
            for p in persons
        ]  # fmt: skip

    def run(self, envelopes) -> float:
        """Seconds to post every envelope and read every answer."""
        from segur_ins.insi.namespaces import SOAP_CONTENT_TYPE

        found = 0
        lock = threading.Lock()

        def post(envelope) -> None:
            nonlocal found
            headers = {"Content-Type": SOAP_CONTENT_TYPE.format(action=envelope.action)}
            response = self.client.post(self.url, content=envelope.content, headers=headers)
            if response.status_code == 200 and b"<CodeCR>00</CodeCR>" in response.content:
                with lock:
                    found += 1

        start = time.perf_counter()
        with ThreadPoolExecutor(self.concurrency) as pool:
            list(pool.map(post, envelopes))
        seconds = time.perf_counter() - start
        if found != len(envelopes):
            raise SystemExit(f"baseline: only {found} of {len(envelopes)} found")
        return seconds

    def close(self) -> None:
        self.client.close()


class Batch:
    """segur's batch qualification on a runtime whose host holds the persons."""

    def __init__(
        self, url: str, pki, concurrency: int, data_dir: Path, processes: int | None = None
    ) -> None:
        from segur_ins.plugin import service

        from segur_core.runtime import create_runtime

        credential = pki.client("insi-auto")
        config = {
            "segur": {"mode": "test", "plugins": ["ins"]},
            "ins": {
                "endpoint": url,
                "tls": {
                    "ca_bundle": str(pki.ca_bundle),
                    "client_pkcs12": str(credential.p12_path),
                    "client_password": credential.p12_password,
                },
                "concurrency": concurrency,
                **({} if processes is None else {"processes": processes}),
            },
        }
        self.concurrency = concurrency
        self.runtime = create_runtime(config, data_dir=data_dir, autoload=True)
        self.service = service(self.runtime)

    def engine(self, count: int) -> str:
        from segur_ins.batch import worker_processes

        processes = worker_processes(self.service.config.processes, self.concurrency, count)
        if not processes:
            return f"{self.concurrency} threads"
        return f"{processes} worker processes, {self.concurrency} threads in all"

    def patients(self, persons) -> list:
        from segur_core.model import Identity, Patient

        save = self.runtime.host.save_patient
        return [save(Patient(id="", identity=Identity(traits=p.traits()))) for p in persons]

    def run(self, patients) -> float:
        """Seconds to qualify ``patients`` (provisional, in the host)."""
        from segur_ins.batch import qualify_all

        start = time.perf_counter()
        summary = qualify_all(self.service, patients=patients, concurrency=self.concurrency)
        seconds = time.perf_counter() - start
        if summary.counts != {"qualified": len(patients)}:
            raise SystemExit(f"batch: unexpected outcome {summary.counts} {summary.errors}")
        return seconds

    def close(self) -> None:
        self.service.close()
        self.runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--latency", type=float, default=0.0, metavar="MS",
        help="answer time the sandbox adds to every request (0: pure client overhead)",
    )  # fmt: skip
    parser.add_argument(
        "--processes", type=int, metavar="N",
        help="the batch's worker processes (0: threads only; default: automatic)",
    )  # fmt: skip
    parser.add_argument("--serve", metavar="PKI_DIR")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.count, args.seed, args.latency)
        return

    from segur_ins.sandbox import generate_persons

    from segur_core.testing.pki import TestPKI

    with tempfile.TemporaryDirectory(prefix="bench-insi-") as tmp:
        root = Path(tmp)
        pki = TestPKI.create(root / "pki")
        persons = list(generate_persons(args.count, seed=args.seed))
        process, url = start_sandbox(root / "pki", args.count, args.seed, args.latency)
        baseline = Baseline(url, pki, args.concurrency)
        batch = Batch(url, pki, args.concurrency, root / "data", args.processes)
        try:
            size = -(-len(persons) // args.rounds)
            chunks = [persons[i : i + size] for i in range(0, len(persons), size)]
            envelopes = [Baseline.envelopes(chunk) for chunk in chunks]  # built beforehand
            patients = [batch.patients(chunk) for chunk in chunks]  # seeded beforehand
            engine = batch.engine(len(patients[0]))
            base = qualified = base_cpu = batch_cpu = 0.0
            for index in range(len(chunks)):  # interleaved: load hits both sides alike
                sides = [("base", baseline.run, envelopes[index]),
                         ("batch", batch.run, patients[index])]  # fmt: skip
                for name, run, items in sides if index % 2 == 0 else sides[::-1]:
                    cpu = client_cpu(process.pid)
                    seconds = run(items)
                    cpu = client_cpu(process.pid) - cpu
                    if name == "base":
                        base, base_cpu = base + seconds, base_cpu + cpu
                    else:
                        qualified, batch_cpu = qualified + seconds, batch_cpu + cpu
        finally:
            baseline.close()
            batch.close()
            process.stdin.close()
            process.wait(timeout=30)
    n = args.count
    print(f"INSi qualification of {n} patients, concurrency {args.concurrency}, "
          f"{args.rounds} interleaved rounds, sandbox latency {args.latency:g} ms")  # fmt: skip
    print(f"  baseline raw httpx : {base:7.2f} s  {n / base:8.1f} patients/s")
    print(f"  segur batch        : {qualified:7.2f} s  {n / qualified:8.1f} patients/s"
          f"  ({engine})")  # fmt: skip
    print(f"  ratio batch/baseline (throughput): {base / qualified:.2f}  (goal >= 0.8)")
    print(f"  client CPU per patient: baseline {base_cpu / n * 1e3:.2f} ms, "
          f"batch {batch_cpu / n * 1e3:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
