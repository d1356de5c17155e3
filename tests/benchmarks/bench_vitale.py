"""Benchmark of the carte Vitale read (segur-vitale).

Run: ``uv run python tests/benchmarks/bench_vitale.py``

Baseline (same process): the virtual card answering the 8 APDUs of one read, called
directly. Measured: ``read_vitale`` through the in-process transport (APDU layer, T=0
rules, TLV parsing, card model), and — when pcscd and the vpcd reader are there — the
same read through pcscd + vpcd + pyscard. Prints each as a ratio to the baseline.
"""

from __future__ import annotations

import time

from segur_vitale.transport import DirectTransport
from segur_vitale.virtual import family_card
from segur_vitale.vitale import read_vitale


def _rate(fn, seconds: float = 1.0) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def main() -> None:
    transport = DirectTransport(family_card())
    read_vitale(transport)
    script = list(transport.sent)  # the exact APDUs of one read
    card = family_card()
    card.power_on()

    def baseline() -> None:
        for apdu in script:
            card.process(apdu)

    def in_process() -> None:
        read_vitale(transport)

    base = _rate(baseline)
    direct = _rate(in_process)
    print(f"baseline (card answering the {len(script)} APDUs): {base:,.0f} reads/s")
    print(f"read_vitale in process: {direct:,.0f} reads/s, "
          f"time ratio to baseline x{base / direct:.2f}")

    try:
        from segur_vitale import pcsc
        from segur_vitale.sources import VPCD_READER
        from segur_vitale.transport import PcscTransport
        from segur_vitale.virtual import VpcdCard

        if VPCD_READER not in pcsc.list_readers():
            raise pcsc.ReaderError("no vpcd reader")
    except Exception as error:  # any reason means: skip this part
        print(f"pcscd + vpcd: skipped ({error})")
        return
    with VpcdCard(family_card()):
        pcsc.wait_for_card(VPCD_READER, timeout=5)
        with PcscTransport(VPCD_READER) as real:
            rate = _rate(lambda: read_vitale(real), seconds=2.0)
    print(f"read_vitale through pcscd + vpcd: {rate:,.1f} reads/s, "
          f"time ratio to baseline x{base / rate:,.0f}")


if __name__ == "__main__":
    main()
