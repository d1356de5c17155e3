"""Cost of the hardened XML parser against a bare lxml parse of the same documents.

Run: uv run python tests/benchmarks/bench_safexml.py
Prints, per document shape, the throughput ratio safe/bare (1.0 = no overhead).
"""

from __future__ import annotations

import time

from lxml import etree

from segur_core.safexml import make_parser, parse_xml


def _many_elements(count: int) -> bytes:
    entries = "".join(
        f'<entry id="{i}"><code code="{i % 97}" codeSystem="1.2.250.1.213"/>'
        f"<text>ligne {i} de la dispensation</text></entry>"
        for i in range(count)
    )
    head = '<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3">'
    return (head + entries + "</ClinicalDocument>").encode()


def _big_text(size: int) -> bytes:
    return b"<doc><pdf>" + b"QUJD" * (size // 4) + b"</pdf></doc>"


def _time(function, data: bytes, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function(data)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    bare_parser = make_parser()
    shapes = {
        "CDA-like, 20k entries (~2.6 MB)": _many_elements(20_000),
        "one 8 MB base64 text node": _big_text(8_000_000),
        "small SOAP answer (1 kB)": _many_elements(5),
    }
    for label, data in shapes.items():
        rounds = 30 if len(data) < 10_000 else 5
        bare = _time(lambda d: etree.fromstring(d, bare_parser), data, rounds)
        safe = _time(parse_xml, data, rounds)
        print(
            f"{label:38s} bare {bare * 1e3:8.2f} ms  safe {safe * 1e3:8.2f} ms  "
            f"ratio safe/bare throughput {bare / safe:5.2f}"
        )


if __name__ == "__main__":
    main()
