"""``segur serve``: warm validation latency, identity search over HTTP vs in process.

Starts ``segur serve`` (demo mode, loopback TCP with a token, the official schematrons
on) as a separate process and prints:

* **time to readiness** — from the process start to ``GET /v1/ready`` answering 200
  (plugins loaded, the schematrons compiled in the warm validator's worker process);
* **validation** — ``POST /v1/documents/check`` of N CDA documents (vaccination notes,
  entretiens, bilans de médication with their PDF, built by the service beforehand),
  one after the other, the first one right after readiness: p50 and p95 (goal: p95
  <= 400 ms); then the same documents checked in this process by a ``Validator`` whose
  schematrons were compiled first (the baseline: what a warm validator costs without
  the service), and what a cold process pays for its first document;
* **identity search** — INSi searches by traits from C concurrent clients: over HTTP
  (``POST /v1/ins/search``, one keep-alive connection per client) against the
  in-process ``InsService.search`` of a runtime in this process (its own INSi sandbox,
  as the service has its own): searches per second of each and the ratio HTTP / in
  process (goal: >= 0.7). Rounds alternate so that load from other processes affects
  both sides alike. Also printed: the CPU per search of the service's process (from
  ``/proc/PID/stat``: its HTTP server, the INSi client and its sandbox, the journal),
  of this process while it calls the service (the HTTP clients), and of this process
  searching in process (the INSi client and its sandbox), and the load average.

Run: ``uv run python tests/benchmarks/bench_serve.py [--documents N] [--searches N]
[--clients C] [--rounds R] [--search-only]`` (``--search-only``: the identity search
alone, the service started with ``--no-warm``, in seconds instead of minutes)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

TOKEN = "bench-token"
TRAITS = {
    "birth_name": "ADRUN",
    "first_names": ["ZOE"],
    "sex": "F",
    "birth_date": "1975-12-31",
    "birth_place": "63220",
}
READING = {"source": "vitale-card", "nir": "275126322074974", "traits": TRAITS}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_service(directory: Path, warm: bool = True) -> tuple[subprocess.Popen, str, float, float]:
    """``segur serve`` on a free loopback port: the process, its URL, the seconds to
    listening and to readiness."""
    config = directory / "segur.toml"
    config.write_text(
        '[segur]\nmode = "demo"\ndata_dir = "data"\n'
        '[segur.serve]\ntoken = "env:SEGUR_BENCH_TOKEN"\n',
        encoding="utf-8",
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "from segur_core.cli import main; main()",
         "--config", str(config), "serve", "--port", "0", "--json",
         *([] if warm else ["--no-warm"])],
        stdout=subprocess.PIPE, text=True, cwd=directory,
        env={**os.environ, "SEGUR_BENCH_TOKEN": TOKEN},
    )  # fmt: skip
    assert process.stdout is not None
    url = json.loads(process.stdout.readline())["listening"]
    listening = time.perf_counter() - started
    line = json.loads(process.stdout.readline())
    assert line.get("ready"), line
    return process, url, listening, time.perf_counter() - started


def build_documents(client, count: int) -> list[bytes]:
    from segur_documents.demo import demo_contents

    from segur_core.convert import unstructure

    patient = client.post("/vitale/card-reads", READING)["patients"][0]["id"]
    contents = demo_contents(dt.date.today())
    kinds = ["vaccination", "entretien", "bpm"]
    documents = []
    for i in range(count):
        kind = kinds[i % 3]
        content = unstructure(contents[kind])
        if kind == "vaccination":
            content["lot_number"] = f"L{i:05d}"
        draft = client.post("/documents", {"patient_id": patient, "kind": kind, "content": content})
        documents.append(client.get(f"/documents/{urllib.parse.quote(draft['id'], safe='')}"))
    return documents


def measure_validation(client, documents: list[bytes]) -> list[float]:
    times = []
    for xml in documents:
        started = time.perf_counter()
        report = client.request(
            "POST", "/documents/check", content=xml, media_type="application/xml"
        )
        times.append(time.perf_counter() - started)
        assert report["valid"], report["issues"][:3]
        assert any(c.startswith("schematron:") for c in report["checks"]), report["checks"]
    return times


def measure_in_process(documents: list[bytes]) -> tuple[list[float], float]:
    """Milliseconds per document of an in-process validator compiled beforehand, and the
    seconds a cold one takes for its first document (compilation included)."""
    from segur_documents.config import DocumentsConfig
    from segur_documents.service import validator_for

    validator = validator_for(DocumentsConfig())
    started = time.perf_counter()
    validator.validate(documents[0])
    cold = time.perf_counter() - started
    times = []
    for xml in documents:
        started = time.perf_counter()
        assert validator.validate(xml).valid
        times.append((time.perf_counter() - started) * 1000)
    return times, cold


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def search_round(search, clients: int, count: int) -> float:
    """Searches per second of ``count`` calls of ``search(i)`` from ``clients`` threads."""
    per = count // clients
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            for i in range(per):
                search(worker, i)
        except BaseException as exc:  # shown after the round
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return per * clients / elapsed


def validation(url: str, count: int) -> None:
    """The validation part: through the warm service, then in this process."""
    from segur_core.serve import ServeClient

    with ServeClient(url, token=TOKEN) as client:
        first = build_documents(client, 1)
        times = measure_validation(client, first)  # right after readiness
        documents = build_documents(client, count - 1)
        times += measure_validation(client, documents)
    ms = [t * 1000 for t in times]
    print(
        f"validation through the warm service, {len(ms)} documents: "
        f"first {ms[0]:.0f} ms, p50 {percentile(ms, 0.5):.0f} ms, "
        f"p95 {percentile(ms, 0.95):.0f} ms, max {max(ms):.0f} ms (goal: p95 <= 400 ms)"
    )
    local_ms, cold = measure_in_process(first + documents)
    print(
        f"baseline, the same documents in this process: first (cold) {cold:.1f} s, "
        f"then p50 {percentile(local_ms, 0.5):.0f} ms, "
        f"p95 {percentile(local_ms, 0.95):.0f} ms; service / in process at p50: "
        f"{percentile(ms, 0.5) / percentile(local_ms, 0.5):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--searches", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--search-only", action="store_true")
    args = parser.parse_args()

    from segur_ins.service import service as ins_service

    from segur_core.model import BirthDate, IdentityTraits
    from segur_core.runtime import create_runtime
    from segur_core.serve import ServeClient

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        directory = Path(tmp)
        process, url, listening, ready = start_service(directory, warm=not args.search_only)
        print(
            f"segur serve: listening after {listening:.2f} s, ready after {ready:.2f} s "
            f"(load average {os.getloadavg()[0]:.2f})"
        )
        try:
            if not args.search_only:
                validation(url, args.documents)

            http_clients = [ServeClient(url, token=TOKEN) for _ in range(args.clients)]
            traits = IdentityTraits(
                birth_name="ADRUN", first_names=("ZOE",), sex="F",
                birth_date=BirthDate(1975, 12, 31), birth_place="63220",
            )  # fmt: skip
            local = create_runtime({"segur": {"mode": "demo"}}, data_dir=directory / "local")
            service = ins_service(local)
            service.search(traits=traits)  # the sandbox started, the client connected

            def over_http(worker: int, i: int) -> None:
                answer = http_clients[worker].post("/ins/search", {"traits": TRAITS})
                assert answer["found"], answer

            def in_process(worker: int, i: int) -> None:
                assert service.search(traits=traits).found

            for worker in range(args.clients):
                over_http(worker, 0)  # every connection open
            http_rates, local_rates = [], []
            cpu_ms: dict[str, list[float]] = {"service": [], "clients": [], "in process": []}
            per = args.searches // args.clients * args.clients
            for round_ in range(args.rounds):
                pair = [(http_rates, over_http), (local_rates, in_process)]
                for rates, search in pair if round_ % 2 == 0 else pair[::-1]:
                    service_cpu, own_cpu = cpu_seconds(process.pid), cpu_seconds(os.getpid())
                    rates.append(search_round(search, args.clients, args.searches))
                    own = (cpu_seconds(os.getpid()) - own_cpu) * 1000 / per
                    if search is over_http:
                        cpu_ms["service"].append(
                            (cpu_seconds(process.pid) - service_cpu) * 1000 / per
                        )
                        cpu_ms["clients"].append(own)
                    else:
                        cpu_ms["in process"].append(own)
            http, inproc = statistics.median(http_rates), statistics.median(local_rates)
            print(
                f"identity search, {args.clients} concurrent clients: over HTTP "
                f"{http:.0f}/s, in process {inproc:.0f}/s, ratio {http / inproc:.2f} "
                "(goal: >= 0.7)"
            )
            print(
                "  rounds: over HTTP " + " ".join(f"{r:.0f}" for r in http_rates)
                + ", in process " + " ".join(f"{r:.0f}" for r in local_rates) + " per s"
            )  # fmt: skip
            print(
                "  CPU per search (median): "
                + ", ".join(f"{k} {statistics.median(v):.2f} ms" for k, v in cpu_ms.items())
                + f"; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
            )
            local.close()
            for c in http_clients:
                c.close()
        finally:
            process.terminate()
            process.wait(60)


if __name__ == "__main__":
    main()
