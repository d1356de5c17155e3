"""Documents: build + check throughput, and the cost of the official schematrons.

1. Notes de vaccination built and checked (hardened parse, structural checks, XSD) per
   second, against raw lxml XSD validation of the same bytes (``etree.fromstring`` +
   ``XMLSchema.validate``), measured in the same process. The ratio says what the
   builder and the plugin's own checks cost on top of the bare schema check.
2. The same for the N1 documents (PDF drawn by fpdf2, base64 in ``nonXMLBody``).
3. The official schematrons: one-off compilation time (ISO skeleton pipeline + Saxon
   compile of the generated XSLTs, split between the two), then time per document.

Run: ``uv run python tests/benchmarks/bench_documents.py [--quick]``
Needs the ANS kit (``../shared/cisis/TestContenuCDA-3-0`` or ``$SEGUR_CISIS_KIT``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree
from segur_documents import (
    BilanMedication,
    Entretien,
    MedicationLine,
    TextSection,
    Vaccination,
    Vaccine,
    Validator,
    build_bpm,
    build_entretien,
    build_vaccination,
)
from segur_documents.checks import find_kit
from segur_documents.checks.schematron import schematrons_for
from segur_documents.testing import sample_context

VACCINATION = Vaccination(
    Vaccine("68747507", "VACCIN TETANIQUE PASTEUR", "J07AM", "vaccins tétaniques"),
    "4456672",
    dt.date(2024, 10, 2),
    act="BOOSTER",
    dose_rank=2,
    route="20035000",
    site="16217701000119102",
)
ENTRETIEN = Entretien(dt.date(2024, 10, 2), "AOD", (TextSection("Observance", "Bonne."),))
BILAN = BilanMedication(dt.date(2024, 10, 2), (MedicationLine("ELIQUIS 5 mg", dosage="1x2"),))


def rate(fn, seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (after one warm-up call)."""
    fn()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    quick = "--quick" in sys.argv
    span = 0.5 if quick else 2.0
    kit = find_kit()
    if kit is None:
        print("no CI-SIS kit found: set SEGUR_CISIS_KIT")
        return
    ctx = sample_context()
    xsd_only = Validator(kit, schematron=False)
    schema = xsd_only.xsd.schema

    print("== build + check (structure, XSD) vs raw lxml XSD validation of the same bytes")
    for name, build in (
        ("note de vaccination (N3)", lambda: build_vaccination(VACCINATION, ctx)),
        ("entretien pharmaceutique (N1+PDF)", lambda: build_entretien(ENTRETIEN, ctx)),
        ("bilan de médication (N1+PDF)", lambda: build_bpm(BILAN, ctx)),
    ):
        sample = build().xml

        def ours(build=build):
            report = xsd_only.validate(build().xml)
            assert report.valid

        def raw(sample=sample):
            assert schema.validate(etree.fromstring(sample))

        ours_rate, raw_rate = rate(ours, span), rate(raw, span)
        build_rate = rate(build, span)
        print(
            f"{name:36s} built+checked {ours_rate:8.1f}/s   built only {build_rate:8.1f}/s   "
            f"raw XSD {raw_rate:8.1f}/s   ratio raw/ours {raw_rate / ours_rate:5.2f}x   "
            f"({len(sample)} bytes)"
        )

    print("\n== official schematrons (Saxon-HE via saxonche)")
    cache = Path(tempfile.mkdtemp(prefix="segur-bench-cache-"))
    try:
        official = Validator(kit, cache_dir=cache)
        runner = official.schematrons
        start = time.perf_counter()
        runner.kit.prepare()
        prepared = time.perf_counter() - start
        from segur_documents.checks import schematron as module

        module._executables.clear()  # measure a cold compilation in this process
        start = time.perf_counter()
        runner.warm_up()
        cold = time.perf_counter() - start
        module._executables.clear()
        start = time.perf_counter()
        runner.warm_up()  # generated XSLTs now on disk: Saxon compile only
        warm = time.perf_counter() - start
        print(f"working copy of the kit (copy + fixes): {prepared:6.2f} s")
        print(f"compile, empty cache (ISO pipeline + Saxon): {cold:6.2f} s")
        print(f"compile, cached XSLTs (Saxon compile only):  {warm:6.2f} s")
        for name, build in (
            ("note de vaccination", lambda: build_vaccination(VACCINATION, ctx)),
            ("entretien (N1)", lambda: build_entretien(ENTRETIEN, ctx)),
        ):
            xml = build().xml
            schematrons = schematrons_for(etree.fromstring(xml))
            runner.run(xml, schematrons)  # first run warms Saxon's lazy paths
            times = []
            for _ in range(3 if quick else 8):
                start = time.perf_counter()
                issues = runner.run(xml, schematrons)
                times.append(time.perf_counter() - start)
                assert not [i for i in issues if i.severity == "error"]
            per = statistics.median(times)
            full = rate(lambda xml=xml: official.validate(xml), span)
            print(
                f"{name:22s} {len(schematrons)} schematrons: {per * 1000:7.1f} ms/document "
                f"(median)   full validation {full:5.2f} documents/s"
            )
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
