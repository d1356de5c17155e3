"""segur-mssante benchmarks.

**Directory** (``directory``): import of a generated 31-column extraction of N rows (real
format, :mod:`segur_mssante.directory.sample`) into an empty directory, then an
incremental update (1 % of rows changed, 0.5 % removed, 0.5 % added), then search
latency over a few hundred type-ahead queries drawn from the data (name prefixes, name +
town, RPPS, structure, profession + town). Each import runs in its own child process,
which reports its wall time, CPU time (``resource.getrusage``) and peak resident memory
(``ru_maxrss``: the whole process, interpreter included). Baseline, in the same run: the
same file read line by line and inserted with plain ``sqlite3`` ``executemany`` into a
plain 31-column table plus an FTS5 table over the same texts (same tokenizer), in one
transaction, no segur code; its search runs the same MATCH expressions.
Goals: import peak memory <= 200 MB, search p95 <= 50 ms.

Run: ``uv run python tests/benchmarks/bench_mss.py directory [--rows N] [--queries Q]``
(default 500000 rows, 300 queries; ``--quick``: 20000 rows, 100 queries)

**Send** (``send``): MSSanté sending, the outbox against smtplib, both through the same
real Dovecot. Baseline: ``count`` prebuilt messages submitted one after the other with
``smtplib`` on one authenticated session (STARTTLS + EXTERNAL, DSN asked), as a program
sending directly would. Outbox: the same messages enqueued (durable, keyed by Message-ID)
and delivered by the ``mss.send`` sender with ``run_until_idle``. Both sides alternate in
rounds so that a change of machine load hits both alike. Prints throughput and the ratio
outbox / direct (goal >= 0.7). Needs Dovecot 2.3 (says "skipped" without it).

Run: ``uv run python tests/benchmarks/bench_mss.py send [--count N] [--round R]``
(default 1000 messages, rounds of 100; ``--quick``: 100 messages)
"""

from __future__ import annotations

import datetime as dt
import json
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from segur_mssante.directory.sample import sample_rows, write_extraction

MEMORY_GOAL_MB = 200
P95_GOAL_MS = 50


# -- children: one import each, measured from inside --------------------------------------


def _usage(start: float) -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,
    }


def child_segur(source: str, database: str) -> dict[str, object]:
    from segur_mssante.directory import Directory

    start = time.perf_counter()
    with Directory(database) as directory:
        report = directory.import_file(source)
    return _usage(start) | {"report": report.as_dict()}


#: The baseline's texts: the same six FTS columns as segur's, computed in Python.
_TEXTS = (
    lambda c: f"{c[9]} {c[10]}",
    lambda c: f"{c[3]} {c[4]} {c[6]}",
    lambda c: f"{c[18]} {c[19]} {c[7]}",
    lambda c: f"{c[27]} {c[28]}",
    lambda c: f"{c[14]} {c[16]} {c[12]}",
    lambda c: c[1],
)


def child_baseline(source: str, database: str) -> dict[str, object]:
    start = time.perf_counter()
    db = sqlite3.connect(database)
    db.execute(f"CREATE TABLE entry ({', '.join(f'c{i} TEXT' for i in range(31))})")
    db.execute(
        "CREATE VIRTUAL TABLE entry_fts USING fts5(names, ids, structure, town, profession, "
        "address, tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    )

    def rows():
        with open(source, encoding="utf-8") as lines:
            next(lines)
            for line in lines:
                cells = line.rstrip("\n").split("|")
                if len(cells) == 31:
                    yield cells

    with db:
        db.executemany(f"INSERT INTO entry VALUES ({', '.join('?' * 31)})", rows())
        db.executemany(
            "INSERT INTO entry_fts (rowid, names, ids, structure, town, profession, address) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((n, *(text(cells) for text in _TEXTS)) for n, cells in enumerate(rows(), start=1)),
        )
    db.close()
    return _usage(start) | {"report": {}}


def run_child(kind: str, source: Path, database: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "_child", kind, str(source), str(database)],
        check=True, stdout=subprocess.PIPE, text=True,
    ).stdout  # fmt: skip
    return json.loads(out)


# -- search -----------------------------------------------------------------------------


def queries(n: int, count: int, seed: int = 7) -> list[str]:
    """Type-ahead queries drawn from the generated rows: what a pharmacist types."""
    rnd = random.Random(seed)
    picked = sorted(rnd.sample(range(n), min(count, n)))
    wanted = iter(picked)
    target = next(wanted, None)
    texts: list[str] = []
    for i, cells in enumerate(sample_rows(n)):
        if i != target:
            continue
        target = next(wanted, None)
        town = cells[27].split(" ", 1)[-1].lower()
        family = cells[9] or cells[18].split()[-1]
        choice = rnd.randrange(6)
        if choice == 0:
            texts.append(family[: rnd.randint(3, 5)].lower())
        elif choice == 1:
            texts.append(f"{family.lower()} {town[:4]}")
        elif choice == 2 and cells[3]:
            texts.append(cells[3])
        elif choice == 3:
            texts.append(f"{cells[10] or 'pharmacie'} {family[:4]}")
        elif choice == 4:
            texts.append(f"{(cells[14] or 'pharmacie').lower()[:6]} {town}")
        else:
            texts.append(" ".join(cells[18].split()[:3]).lower() or family)
    return texts


def search_latency(database: Path, texts: list[str]) -> list[float]:
    from segur_mssante.directory import Directory

    times = []
    with Directory(database) as directory:
        directory.search("warm up")
        for text in texts:
            start = time.perf_counter()
            directory.search(text, limit=20)
            times.append((time.perf_counter() - start) * 1000)
    return times


def baseline_latency(database: Path, texts: list[str]) -> list[float]:
    from segur_mssante.directory import match_expression  # the same MATCH expressions

    expressions = [match_expression(text) for text in texts]
    db = sqlite3.connect(database)
    times = []
    for expression in expressions:
        start = time.perf_counter()
        db.execute(
            "SELECT e.* FROM entry_fts JOIN entry e ON e.rowid = entry_fts.rowid "
            "WHERE entry_fts MATCH ? ORDER BY bm25(entry_fts, 10, 8, 4, 3, 2, 1) LIMIT 20",
            (expression,),
        ).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    db.close()
    return times


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def directory_bench(rows: int, count: int) -> None:
    print(f"MSSanté directory: {rows:,} generated rows, {count} queries")
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        start = time.perf_counter()
        source = write_extraction(base / "extraction.txt", sample_rows(rows))
        print(f"  generated {source.stat().st_size / 1e6:.0f} MB in "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip
        baseline = run_child("baseline", source, base / "baseline.sqlite")
        segur = run_child("segur", source, base / "mss-directory.sqlite")
        for name, result in (("baseline (sqlite3 executemany + FTS5)", baseline),
                             ("segur import", segur)):  # fmt: skip
            print(
                f"  {name}: {result['seconds']:.1f} s, {rows / result['seconds']:,.0f} rows/s, "
                f"CPU {result['cpu'] / rows * 1e6:.0f} µs/row, peak {result['maxrss_mb']:.0f} MB"
            )
        print(f"  ratio segur / baseline: time {segur['seconds'] / baseline['seconds']:.2f}, "
              f"CPU {segur['cpu'] / baseline['cpu']:.2f}")  # fmt: skip
        memory = "met" if segur["maxrss_mb"] <= MEMORY_GOAL_MB else "MISSED"
        print(f"  peak memory {segur['maxrss_mb']:.0f} MB (goal <= {MEMORY_GOAL_MB} MB: {memory})")

        update = base / "update.txt"
        changed = sample_rows(rows)

        def next_day():
            for i, cells in enumerate(changed):
                if i % 200 == 0:
                    continue  # 0.5 % removed
                if i % 100 == 1:
                    cells[27] = "21000 DIJON"  # 1 % changed
                yield cells
            for i, cells in enumerate(sample_rows(rows // 200, seed=99)):
                cells[1] = f"nouveau.{i}@pharmacien.mssante.fr"  # 0.5 % added
                yield cells

        write_extraction(update, next_day())
        again = run_child("segur", update, base / "mss-directory.sqlite")
        counts = {k: again["report"][k] for k in ("added", "changed", "removed")}
        print(f"  incremental update: {again['seconds']:.1f} s, CPU "
              f"{again['cpu'] / rows * 1e6:.0f} µs/row, peak {again['maxrss_mb']:.0f} MB; "
              f"{json.dumps(counts)}")  # fmt: skip

        texts = queries(rows, count)
        ours = search_latency(base / "mss-directory.sqlite", texts)
        theirs = baseline_latency(base / "baseline.sqlite", texts)
        p95 = _p95(ours)
        verdict = "met" if p95 <= P95_GOAL_MS else "MISSED"
        print(f"  search: p50 {statistics.median(ours):.1f} ms, p95 {p95:.1f} ms, max "
              f"{max(ours):.1f} ms (goal p95 <= {P95_GOAL_MS} ms: {verdict})")  # fmt: skip
        base_p95 = _p95(theirs)
        print(f"  baseline search: p50 {statistics.median(theirs):.1f} ms, p95 "
              f"{base_p95:.1f} ms; ratio p95 segur / baseline {p95 / base_p95:.2f}")  # fmt: skip


# -- send: the outbox against smtplib ---------------------------------------------------

SENDER = "bench@pharmacie.mssante.test"
RECIPIENT = "bench.dest@medecin.mssante.test"


def messages(count: int, tag: str) -> list[tuple[str, bytes]]:
    """``count`` prebuilt messages (a note de vaccination in its IHE_XDM.ZIP)."""
    from segur_documents.builders import build_vaccination
    from segur_documents.demo import demo_contents
    from segur_documents.testing import sample_context
    from segur_mssante.message import Outgoing, archive_attachment, build_message, mss_headers

    from segur_core.xdm import Issuer, write_xdm

    cda = build_vaccination(
        demo_contents(dt.date(2024, 10, 2))["vaccination"], sample_context()
    ).xml
    archive = write_xdm([cda], issuer=Issuer("1750000010", "PHARMACIE"), source_id="1.2.3")
    out = []
    for n in range(count):
        ident = f"<{tag}-{n}@pharmacie.mssante.test>"
        outgoing = Outgoing(
            message_id=ident, sender=SENDER, recipients=(RECIPIENT,),
            subject="XDM/1.0/DDM+NOTE DE VACCINATION", text="Bonjour,\n",
            attachments=(archive_attachment(archive),),
            headers=mss_headers(["87273-9"], qualified_ins=True, nil="BENCH"),
        )  # fmt: skip
        out.append((ident, build_message(outgoing).as_bytes()))
    return out


def send_bench(count: int, round_size: int) -> int:
    from segur_mssante.sandbox import MailSandbox, dovecot_missing
    from segur_mssante.sandbox.dovecot import app_credential
    from segur_mssante.service import SEND_KIND, _pack, service_for
    from segur_mssante.transport import close_smtp, open_smtp, submit

    from segur_core.model import DeliveryState
    from segur_core.runtime import create_runtime

    missing = dovecot_missing()
    if missing:
        print(f"skipped: {missing}")
        return 0
    from segur_core.sandbox.pki import TestPKI

    work = Path(tempfile.mkdtemp(prefix="bench-mss-"))
    pki = TestPKI.create(work / "pki")
    credential = app_credential(pki, SENDER)
    sandbox = MailSandbox(pki=pki)
    sandbox.start()
    runtime = create_runtime(
        {
            "segur": {"mode": "test", "plugins": ["ins", "documents", "mss"]},
            "mss": {
                "server": "127.0.0.1", "smtp_port": sandbox.submission_port,
                "imap_port": sandbox.imap_port, "address": SENDER, "mailbox_type": "APP",
                "tls": {"ca_bundle": str(pki.ca_bundle), "client_cert": str(credential.cert_path),
                        "client_key": str(credential.key_path)},
            },
        },
        data_dir=work / "data",
        autoload=True,
    )  # fmt: skip
    service = service_for(runtime)
    direct_time = outbox_time = enqueue_time = 0.0
    done = 0
    try:
        smtp = open_smtp(service.server, service.mailbox)
        for start in range(0, count, round_size):
            size = min(round_size, count - start)
            batch = messages(size, f"direct-{start}")
            t0 = time.perf_counter()
            for ident, data in batch:
                submit(smtp, SENDER, [RECIPIENT], data, envelope_id=ident.strip("<>"))
            direct_time += time.perf_counter() - t0

            batch = messages(size, f"outbox-{start}")
            t0 = time.perf_counter()
            for ident, data in batch:
                payload = _pack(SENDER, [RECIPIENT], ident.strip("<>"), data)
                runtime.outbox.enqueue(SEND_KIND, ident, payload)
            enqueue_time += time.perf_counter() - t0
            assert runtime.outbox.run_until_idle(timeout=600)
            outbox_time += time.perf_counter() - t0
            done += size
        close_smtp(smtp)
        delivered = len(runtime.outbox.list(DeliveryState.DELIVERED, kind=SEND_KIND))
        assert delivered == done, (delivered, done)
    finally:
        runtime.close()
        sandbox.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"messages per side: {done} (each {len(batch[0][1]) // 1024} kB, IHE_XDM.ZIP inside)")
    print(f"direct smtplib : {direct_time:7.2f} s  {done / direct_time:7.1f} msg/s")
    print(
        f"through outbox : {outbox_time:7.2f} s  {done / outbox_time:7.1f} msg/s"
        f"  (enqueue {enqueue_time:.2f} s)"
    )
    print(f"ratio outbox/direct: {direct_time / outbox_time:.2f} (goal >= 0.7)")
    return 0


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["_child"]:
        kind, source, database = args[1:4]
        child = child_segur if kind == "segur" else child_baseline
        print(json.dumps(child(source, database)))
        return
    quick = "--quick" in args
    rows = int(args[args.index("--rows") + 1]) if "--rows" in args else 20000 if quick else 500000
    count = int(args[args.index("--queries") + 1]) if "--queries" in args else 100 if quick else 300
    section = next((a for a in args if not a.startswith("-") and not a.isdigit()), "directory")
    if section == "send":
        messages_count = (
            int(args[args.index("--count") + 1]) if "--count" in args else 100 if quick else 1000
        )
        round_size = int(args[args.index("--round") + 1]) if "--round" in args else 100
        send_bench(messages_count, round_size)
        return
    if section != "directory":
        sys.exit(f"unknown benchmark {section!r}; known: directory, send")
    directory_bench(rows, count)


if __name__ == "__main__":
    main()
