"""``python -m producer_core``: run an experiment from a terminal (this module may read the
wall clock: it measures and paces real time, the engine never does)."""

from __future__ import annotations

import sys
import time


def calibrate_main(argv: list[str] | None = None) -> int:
    """``python -m producer_core.timemodel --calibrate``: measure the codecs on this machine
    and print the per-byte constants to paste into ``timemodel.CODEC_CPU_NS_PER_BYTE``."""
    from producer_core import timemodel

    argv = sys.argv[1:] if argv is None else argv
    if "--calibrate" not in argv:
        print("usage: python -m producer_core.timemodel --calibrate", file=sys.stderr)
        return 2
    results = timemodel.calibrate(time.perf_counter)
    print("codec    MB/s     ns/byte  compressed/uncompressed")
    for codec, r in results.items():
        print(f"{codec:<7} {r['mb_s']:>7.1f}  {r['ns_per_byte']:>8.3f}  {r['ratio']:.3f}")
    print("\nCODEC_CPU_NS_PER_BYTE = {")
    print('    "none": 0.0,')
    for codec, r in results.items():
        print(f'    "{codec}": {r["ns_per_byte"]},')
    print("}")
    return 0
