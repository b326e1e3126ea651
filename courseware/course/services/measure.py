"""Measuring the real codecs on data the learner chooses (lesson 3).

The bytes are really compressed by the engine's codecs (gzip, snappy with xerial framing,
lz4 frame, zstd) at Kafka's default levels; the speeds are the wall clock of this server,
measured now. This is the one place in the course that reads the wall clock, and it only
reports what it saw.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

KINDS: list[tuple[str, str]] = [
    ("json-orders", "JSON order events"),
    ("json-users", "JSON user events"),
    ("text", "log-like text"),
    ("random", "random bytes (like encrypted or already-compressed data)"),
    ("custom", "your text"),
]
SAMPLE_BYTES = 16384
MAX_CUSTOM = 200_000


class MeasureError(ValueError):
    pass


@dataclass
class Result:
    description: str
    size: int
    rows: list[dict]
    note: str = ""  # said when no codec beats sending the bytes as they are


def saved(ratio: float) -> str:
    """What a codec saved, as the table says it: never "-0%" and never a saving that is a
    loss (random bytes come out a little larger than they went in)."""
    if ratio > 1:
        grown = (ratio - 1) * 100
        return f"nothing: {grown:.1f}% larger" if grown >= 0.05 else "nothing: slightly larger"
    cut = (1 - ratio) * 100
    if cut == 0:
        return "0%"
    return f"{cut:.0f}%" if cut >= 1 else f"{max(cut, 0.1):.1f}%"


def sample(kind: str, custom: str = "", seed: int = 7) -> tuple[bytes, str]:
    """About one default batch (16 KB) of records of the chosen kind."""
    labels = dict(KINDS)
    if kind not in labels:
        raise MeasureError(f"unknown data kind {kind!r}; choose one of {', '.join(labels)}")
    if kind == "custom":
        data = custom.encode("utf-8")
        if not data.strip():
            raise MeasureError("paste some text to measure, or choose another kind of data")
        if len(data) > MAX_CUSTOM:
            raise MeasureError(f"the sample is {len(data)} bytes; {MAX_CUSTOM} is the limit")
        return data, labels[kind]
    from producer_core.datagen import generate

    rng = random.Random(seed)
    chunks: list[bytes] = []
    total = 0
    while total < SAMPLE_BYTES:
        value = generate(kind, rng, 200)
        chunks.append(value)
        total += len(value)
    return b"".join(chunks)[:SAMPLE_BYTES], labels[kind]


def run(kind: str, custom: str = "") -> Result:
    from producer_core.compression import measure_codecs

    data, label = sample(kind, custom)
    measured = measure_codecs(data, timer=time.perf_counter)
    rows = []
    for m in measured:
        speed = m.get("compress_mb_s") or 0
        is_codec = m["codec"] != "none"
        rows.append({"codec": m["codec"], "compressed": m["compressed_bytes"],
                     "ratio": m["ratio"], "saved": saved(m["ratio"]),
                     "compress_mbps": speed if is_codec else None,
                     "decompress_mbps": (m.get("decompress_mb_s") or 0) if is_codec else None,
                     # Effect on latency: CPU time the appending thread spends per full batch.
                     "batch_us": (len(data) / (speed * 1e6) * 1e6) if is_codec and speed else 0.0,
                     # Effect on the network: wire MB/s when the app produces 10 MB/s of records.
                     "wire_mbps": 10.0 * m["ratio"],
                     "best": False})
    codecs = [r for r in rows if r["codec"] != "none"]
    note = ""
    best = min(codecs, key=lambda r: r["ratio"]) if codecs else None
    if best is not None and best["ratio"] < 1:
        best["best"] = True  # the best codec only when it beats no compression at all
    elif best is not None:
        note = ("On this data every codec makes the batch larger than no compression: each "
                "one spends CPU to add its framing. Keep compression.type=none for data like "
                "this (encrypted or already compressed).")
    return Result(label, len(data), rows, note)
