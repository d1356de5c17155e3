"""INSi client cost per request, and batch INSi qualification, vs raw httpx, same sandbox.

The INSi sandbox runs in its own process (mutual TLS with the test PKI) and knows
N generated persons. Two parts, each against a raw ``httpx`` baseline posting envelopes
built beforehand (one traits search per person, reading each answer and looking for
``<CodeCR>00</CodeCR>``), rounds of both sides alternating so that load from other
processes affects both alike:

* **requests** — :meth:`segur_ins.insi.InsiClient.lookup_traits` from a person's traits
  (RNIV normalisation, the first-name strategy, envelope, HTTPS call over the core's
  ``HttpCaller``, hardened parse of the answer, error mapping), ``concurrency`` threads
  sharing one client, against raw ``httpx`` with the same threads and connections, in
  this process. Prints the client CPU per request (process CPU time, not wall) of both
  (goal: segur <= 1.6 ms), and of raw ``pycurl`` (libcurl, ``HttpCaller``'s transport)
  posting the same envelopes: what the transport alone costs.
* **batch** — ``segur ins qualify --all``'s engine (:func:`segur_ins.batch.qualify_all`)
  on a runtime whose reference host holds the same N persons as provisional patients:
  normalise the traits, build and send the envelope, parse the answer, apply the status
  machine, save the patient, journal the call and the change, fire
  ``on_patient_identified``, note the progress. With its default configuration on a
  machine with several cores, the calls are made by worker processes
  (:mod:`segur_ins.workers`, started during the first round and counted in it). The
  baseline gets the same number of worker processes (each with its share of the
  threads, started during its first round too). Prints patients per second for both,
  the ratio batch / baseline (goal: >= 0.8) and the client CPU per patient of each side
  (worker processes included).

* **peer** (only with ``TLSI_INS_DIR``, the built tree of padoa/tlsi-ins — its ``dist/``
  and ``node_modules/``) — the same lookups by that TypeScript client (node-soap),
  driven by ``tlsi_ins_driver.cjs`` (this project's own driver) with 8 requests in
  flight over keep-alive connections (``--peer-fresh``: a TLS connection per request, as
  the library does by default), against ``InsiClient`` with as many threads; rounds
  alternate. Prints the client CPU per request of both (Node's ``process.cpuUsage``).

``--latency MS`` makes the sandbox answer after MS milliseconds, like a remote service;
with the default 0 the figures measure the client-side cost against a sandbox that
shares the machine.

Run: ``uv run python tests/benchmarks/bench_insi.py [--part requests|batch|peer|all]
[--count N] [--concurrency C] [--rounds R] [--latency MS] [--processes N]``
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
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


def raw_client(url: str, pki_dir: str, concurrency: int):
    """A raw ``httpx.Client`` with the INSI-AUTO certificate, ``concurrency`` connections."""
    import httpx

    from segur_core.testing.pki import TestPKI
    from segur_core.tls import client_context

    pki = TestPKI.load(pki_dir)
    credential = pki.client("insi-auto")
    context = client_context(
        ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
    )
    transport = httpx.HTTPTransport(
        verify=context,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    return httpx.Client(transport=transport, timeout=30)


def post_all(client, url: str, requests: list[tuple[bytes, str]], threads: int) -> int:
    """Post every ``(content, action)`` from ``threads`` threads; the number found."""
    from segur_ins.insi.namespaces import SOAP_CONTENT_TYPE

    def post(request: tuple[bytes, str]) -> bool:
        content, action = request
        headers = {"Content-Type": SOAP_CONTENT_TYPE.format(action=action)}
        response = client.post(url, content=content, headers=headers)
        return response.status_code == 200 and b"<CodeCR>00</CodeCR>" in response.content

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(post, requests))


class RawCurl:
    """Raw ``pycurl`` (libcurl: what ``HttpCaller`` posts through), pre-built envelopes,
    ``concurrency`` threads, one easy handle (one kept-alive connection) per thread."""

    def __init__(self, url: str, pki, concurrency: int) -> None:
        import queue

        self.url, self.concurrency = url, concurrency
        self.credential, self.ca_bundle = pki.client("insi-auto"), pki.ca_bundle
        self._free: queue.LifoQueue = queue.LifoQueue()

    def _handle(self):
        import pycurl

        handle = pycurl.Curl()
        for option, value in (
            (pycurl.URL, self.url), (pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1),
            (pycurl.NOSIGNAL, 1), (pycurl.CAINFO, str(self.ca_bundle)),
            (pycurl.SSLCERT, str(self.credential.cert_path)),
            (pycurl.SSLKEY, str(self.credential.key_path)),
        ):  # fmt: skip
            handle.setopt(option, value)
        return handle

    def post(self, request: tuple[bytes, str]) -> bool:
        import io
        import queue

        import pycurl
        from segur_ins.insi.namespaces import SOAP_CONTENT_TYPE

        content, action = request
        try:
            handle = self._free.get_nowait()
        except queue.Empty:
            handle = self._handle()
        body = io.BytesIO()
        handle.setopt(pycurl.WRITEFUNCTION, body.write)
        handle.setopt(pycurl.POSTFIELDS, content)
        handle.setopt(pycurl.HTTPHEADER, [
            f"Content-Type: {SOAP_CONTENT_TYPE.format(action=action)}", "Accept:", "Expect:"
        ])  # fmt: skip
        handle.perform()
        status = handle.getinfo(pycurl.RESPONSE_CODE)
        self._free.put(handle)
        return status == 200 and b"<CodeCR>00</CodeCR>" in body.getvalue()

    def run(self, envelopes) -> float:
        start = time.perf_counter()
        with ThreadPoolExecutor(self.concurrency) as pool:
            found = sum(pool.map(self.post, envelopes))
        seconds = time.perf_counter() - start
        if found != len(envelopes):
            raise SystemExit(f"raw pycurl: only {found} of {len(envelopes)} found")
        return seconds

    def close(self) -> None:
        while not self._free.empty():
            self._free.get_nowait().close()


_WORKER: dict = {}


def _raw_worker_start(url: str, pki_dir: str, threads: int) -> None:
    _WORKER.update(client=raw_client(url, pki_dir, threads), url=url, threads=threads)


def _raw_worker_post(requests: list[tuple[bytes, str]]) -> int:
    return post_all(_WORKER["client"], _WORKER["url"], requests, _WORKER["threads"])


class Baseline:
    """Raw httpx, pre-built envelopes: one shared client and ``concurrency`` threads in
    this process, or ``processes`` worker processes sharing the threads out (each its
    own client), as the batch's workers do."""

    def __init__(self, url: str, pki_dir: Path, concurrency: int, processes: int = 0) -> None:
        self.url, self.pki_dir = url, str(pki_dir)
        self.concurrency, self.processes = concurrency, processes
        self.client = raw_client(url, self.pki_dir, concurrency)
        self._pool = None

    @staticmethod
    def envelopes(persons) -> list[tuple[bytes, str]]:
        from segur_ins.config import SANDBOX_SOFTWARE_ID
        from segur_ins.insi import SoftwareContext, TraitsQuery, build_envelope

        software = SoftwareContext(idam=SANDBOX_SOFTWARE_ID)
        built = [
            build_envelope(
                TraitsQuery(p.birth_name, p.first_names.split()[:1], p.sex, p.birth_date,
                            p.birth_place),
                software,
            )
            for p in persons
        ]  # fmt: skip
        return [(envelope.content, envelope.action) for envelope in built]

    def _workers(self):
        """The worker processes, started at the first call (counted in that round)."""
        if self._pool is None:
            import multiprocessing

            base, extra = divmod(self.concurrency, self.processes)
            # one thread count for all: the batch gives the first workers one more
            self._pool = multiprocessing.get_context("spawn").Pool(
                self.processes, _raw_worker_start, (self.url, self.pki_dir, base + bool(extra))
            )
        return self._pool

    def run(self, envelopes) -> float:
        """Seconds to post every envelope and read every answer."""
        start = time.perf_counter()
        if self.processes:
            slices = [envelopes[i :: self.processes] for i in range(self.processes)]
            found = sum(self._workers().map(_raw_worker_post, slices, chunksize=1))
        else:
            found = post_all(self.client, self.url, envelopes, self.concurrency)
        seconds = time.perf_counter() - start
        if found != len(envelopes):
            raise SystemExit(f"baseline: only {found} of {len(envelopes)} found")
        return seconds

    def describe(self) -> str:
        if not self.processes:
            return f"{self.concurrency} threads"
        return f"{self.processes} worker processes, {self.concurrency} threads in all"

    def close(self) -> None:
        self.client.close()
        if self._pool is not None:
            self._pool.close()
            self._pool.join()


class Client:
    """segur's INSi client (``InsiClient``), ``concurrency`` threads sharing it."""

    def __init__(self, url: str, pki, concurrency: int) -> None:
        from segur_ins.config import SANDBOX_SOFTWARE_ID
        from segur_ins.insi import InsiClient, SoftwareContext

        from segur_core.tls import client_context

        credential = pki.client("insi-auto")
        context = client_context(
            ca_bundle=pki.ca_bundle, pkcs12=credential.p12_path, password=credential.p12_password
        )
        self.concurrency = concurrency
        self.client = InsiClient(
            url, SoftwareContext(idam=SANDBOX_SOFTWARE_ID), ssl_context=context,
            max_connections=concurrency,
        )  # fmt: skip

    def run(self, traits) -> tuple[float, int]:
        """Seconds to look up every traits, and the number of requests it took."""
        start = time.perf_counter()
        with ThreadPoolExecutor(self.concurrency) as pool:
            results = list(pool.map(self.client.lookup_traits, traits))
        seconds = time.perf_counter() - start
        if not all(result.found for result in results):
            raise SystemExit("client: some persons were not found")
        return seconds, sum(result.attempts for result in results)

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


def interleaved(sides, rounds: int, sandbox_pid: int) -> dict[str, list[float]]:
    """Run each side's ``rounds`` slices alternately (the order within a round too);
    per side the wall seconds, client CPU seconds and units of work, summed."""
    totals = {name: [0.0, 0.0, 0] for name, _, _ in sides}
    for index in range(rounds):
        for name, run, slices in sides if index % 2 == 0 else sides[::-1]:
            cpu = client_cpu(sandbox_pid)
            seconds, units = run(slices[index])
            total = totals[name]
            total[0] += seconds
            total[1] += client_cpu(sandbox_pid) - cpu
            total[2] += units
    return totals


def slices_of(items: list, rounds: int) -> list[list]:
    size = -(-len(items) // rounds)
    return [items[i : i + size] for i in range(0, len(items), size)]


def part_requests(args, root: Path, pki, persons, url: str, sandbox_pid: int) -> None:
    """segur's InsiClient vs raw httpx, the same threads in this process: CPU per request."""
    baseline = Baseline(url, root / "pki", args.concurrency)
    curl = RawCurl(url, pki, args.concurrency)
    client = Client(url, pki, args.concurrency)
    try:
        warm = persons[: min(200, len(persons))]
        baseline.run(Baseline.envelopes(warm))
        curl.run(Baseline.envelopes(warm))
        client.run([p.traits() for p in warm])
        chunks = slices_of(persons, args.rounds)
        envelopes = [Baseline.envelopes(chunk) for chunk in chunks]  # built beforehand
        traits = [[p.traits() for p in chunk] for chunk in chunks]
        totals = interleaved(
            [("base", lambda e: (baseline.run(e), len(e)), envelopes),
             ("curl", lambda e: (curl.run(e), len(e)), envelopes),
             ("segur", client.run, traits)],
            len(chunks), sandbox_pid,
        )  # fmt: skip
    finally:
        baseline.close()
        curl.close()
        client.close()
    (base, base_cpu, base_n), (ours, ours_cpu, ours_n) = totals["base"], totals["segur"]
    curl_s, curl_cpu, curl_n = totals["curl"]
    print(f"INSi client, {len(persons)} traits lookups, {args.concurrency} threads sharing "
          f"one client, {len(chunks)} interleaved rounds, "
          f"sandbox latency {args.latency:g} ms")  # fmt: skip
    print(f"  raw httpx  : {base_n / base:7.1f} requests/s  "
          f"client CPU per request {base_cpu / base_n * 1e3:.2f} ms")  # fmt: skip
    print(f"  raw pycurl : {curl_n / curl_s:7.1f} requests/s  "
          f"client CPU per request {curl_cpu / curl_n * 1e3:.2f} ms  "
          f"(libcurl, HttpCaller's transport)")  # fmt: skip
    print(f"  InsiClient : {ours_n / ours:7.1f} requests/s  "
          f"client CPU per request {ours_cpu / ours_n * 1e3:.2f} ms (goal <= 1.6 ms)  "
          f"({ours_n} requests)")  # fmt: skip
    print(f"  CPU per request segur / raw httpx: {ours_cpu / ours_n / (base_cpu / base_n):.2f}")
    import pycurl

    print(f"  InsiClient's transport: {client.client._http.transport} ({pycurl.version})")


def part_batch(args, root: Path, pki, persons, url: str, sandbox_pid: int) -> None:
    """The batch engine vs raw httpx with as many worker processes."""
    batch = Batch(url, pki, args.concurrency, root / "data", args.processes)
    chunks = slices_of(persons, args.rounds)
    from segur_ins.batch import worker_processes

    processes = worker_processes(batch.service.config.processes, args.concurrency, len(chunks[0]))
    baseline = Baseline(url, root / "pki", args.concurrency, processes or 0)
    try:
        envelopes = [Baseline.envelopes(chunk) for chunk in chunks]  # built beforehand
        patients = [batch.patients(chunk) for chunk in chunks]  # seeded beforehand
        engine = batch.engine(len(patients[0]))
        totals = interleaved(
            [("base", lambda e: (baseline.run(e), len(e)), envelopes),
             ("batch", lambda p: (batch.run(p), len(p)), patients)],
            len(chunks), sandbox_pid,
        )  # fmt: skip
    finally:
        baseline.close()
        batch.close()
    (base, base_cpu, n), (qualified, batch_cpu, _) = totals["base"], totals["batch"]
    print(f"INSi qualification of {n} patients, concurrency {args.concurrency}, "
          f"{len(chunks)} interleaved rounds, sandbox latency {args.latency:g} ms")  # fmt: skip
    print(f"  baseline raw httpx : {base:7.2f} s  {n / base:8.1f} patients/s  "
          f"({baseline.describe()})")  # fmt: skip
    print(f"  segur batch        : {qualified:7.2f} s  {n / qualified:8.1f} patients/s"
          f"  ({engine})")  # fmt: skip
    print(f"  ratio batch/baseline (throughput): {base / qualified:.2f}  (goal >= 0.8)")
    print(f"  client CPU per patient: baseline {base_cpu / n * 1e3:.2f} ms, "
          f"batch {batch_cpu / n * 1e3:.2f} ms")  # fmt: skip


def part_peer(args, root: Path, pki, persons, url: str, sandbox_pid: int) -> None:
    """InsiClient vs padoa/tlsi-ins (``TLSI_INS_DIR``): client CPU per request."""
    import json
    import shutil

    from segur_ins.config import SANDBOX_SOFTWARE_ID

    tree, node = os.environ.get("TLSI_INS_DIR"), shutil.which("node")
    if not tree or not node:
        print("peer: skipped (set TLSI_INS_DIR to the built tree of padoa/tlsi-ins; needs node)")
        return
    credential = pki.client("insi-auto")
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=str(pki.ca_bundle))
    warm = persons[: min(100, len(persons))]
    client = Client(url, pki, args.concurrency)
    client.run([p.traits() for p in warm])

    def peer(chunk) -> tuple[float, float, int]:
        rows = [{"birthName": p.birth_name, "firstName": p.first_names, "gender": p.sex,
                 "dateOfBirth": str(p.birth_date), "placeOfBirthCode": p.birth_place}
                for p in warm + chunk]  # fmt: skip
        listed = root / "peer-persons.json"
        listed.write_text(json.dumps(rows))
        done = subprocess.run(
            [node, str(Path(__file__).with_name("tlsi_ins_driver.cjs")), url,
             str(credential.p12_path), credential.p12_password, SANDBOX_SOFTWARE_ID,
             str(listed), str(args.concurrency), str(len(warm)),
             "fresh" if args.peer_fresh else "keepalive"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"tlsi-ins driver failed: {done.stderr[-2000:]}")
        out = json.loads(done.stdout.strip().splitlines()[-1])
        if out["found"] != len(chunk):
            raise SystemExit(f"tlsi-ins: {out['found']} of {len(chunk)} found")
        return out["wall_s"], out["cpu_ms"] / 1000, out["requests"]

    totals = {"peer": [0.0, 0.0, 0], "segur": [0.0, 0.0, 0]}
    try:
        for index, chunk in enumerate(slices_of(persons, args.rounds)):
            for name in ("peer", "segur") if index % 2 == 0 else ("segur", "peer"):
                if name == "peer":
                    seconds, cpu, units = peer(chunk)
                else:
                    before = client_cpu(sandbox_pid)
                    seconds, units = client.run([p.traits() for p in chunk])
                    cpu = client_cpu(sandbox_pid) - before
                for i, value in enumerate((seconds, cpu, units)):
                    totals[name][i] += value
    finally:
        client.close()
    (theirs, theirs_cpu, theirs_n), (ours, ours_cpu, ours_n) = totals["peer"], totals["segur"]
    how = "a TLS connection per request" if args.peer_fresh else "keep-alive"
    print(f"INSi client vs padoa/tlsi-ins ({how}), {len(persons)} traits lookups, "
          f"{args.concurrency} in flight, {args.rounds} alternating rounds")  # fmt: skip
    print(f"  tlsi-ins   : {theirs_n / theirs:7.1f} requests/s  "
          f"client CPU per request {theirs_cpu / theirs_n * 1e3:.2f} ms")  # fmt: skip
    print(f"  InsiClient : {ours_n / ours:7.1f} requests/s  "
          f"client CPU per request {ours_cpu / ours_n * 1e3:.2f} ms")  # fmt: skip
    print(f"  CPU per request segur / tlsi-ins: {ours_cpu / ours_n / (theirs_cpu / theirs_n):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("requests", "batch", "peer", "all"), default="all")
    parser.add_argument(
        "--peer-fresh", action="store_true",
        help="peer part: tlsi-ins opens a TLS connection per request (its default)",
    )  # fmt: skip
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

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at start: {load:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-insi-") as tmp:
        root = Path(tmp)
        pki = TestPKI.create(root / "pki")
        persons = list(generate_persons(args.count, seed=args.seed))
        process, url = start_sandbox(root / "pki", args.count, args.seed, args.latency)
        try:
            if args.part in ("requests", "all"):
                part_requests(args, root, pki, persons, url, process.pid)
            if args.part in ("batch", "all"):
                part_batch(args, root, pki, persons, url, process.pid)
            if args.part in ("peer", "all"):
                part_peer(args, root, pki, persons, url, process.pid)
        finally:
            process.stdin.close()
            process.wait(timeout=30)
    if hasattr(os, "getloadavg"):
        print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
