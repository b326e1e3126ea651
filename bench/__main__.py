"""``python -m bench``: every benchmark; ``python -m bench send|sweep|compression`` one."""

from __future__ import annotations

import importlib
import sys

BENCHES = {"send": "bench.send_bench", "sweep": "bench.sweep_bench",
           "compression": "bench.compression_bench"}


def main(argv: list[str]) -> int:
    names = argv[:1] or list(BENCHES)
    rest = argv[1:]
    status = 0
    for name in names:
        if name not in BENCHES:
            print(f"unknown benchmark {name!r}; known: {', '.join(BENCHES)}", file=sys.stderr)
            return 2
        try:
            mod = importlib.import_module(BENCHES[name])
        except ModuleNotFoundError as e:
            print(f"{name}: not available ({e})", file=sys.stderr)
            status = status or 1
            continue
        rc = mod.main(rest)
        status = status or (rc or 0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
