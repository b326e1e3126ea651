"""The compression path against the raw codecs, on the same bytes, in one process.

Data: realistic JSON order events (``producer_core.datagen.order_event``, seeded), cut into
batches the way the producer cuts them with the defaults — ``batch.size`` 16384 by Kafka's
estimate ``61 + uncompressed × ratio × 1.05``, with the per-codec ratio estimator updated
after every batch (so compressed batches hold more records, as in Kafka).

For each codec, best of ``--repeat`` interleaved runs over every batch:

- ``raw``: the codec library called once on each batch's records section (zlib wbits 31,
  cramjam snappy raw, lz4.frame defaults, zstandard) — no framing, no records;
- ``path``: our compression path on the same bytes — Kafka framing (xerial snappy, LZ4
  frame with 64 KiB blocks, gzip member, zstd frame), fed in the builder's block-sized
  pieces (or in one call for a batch smaller than a block, as the builder does);
- ``builder``: the whole ``RecordBatchBuilder`` — encode every record (varints, headers),
  compress as appended, CRC-32C, the 61-byte header;
- ``encode``: the builder with no compression (the record-encoding floor).

Columns: ``path % raw`` is the compression path's speed as a share of the raw codec's
(goal ≥ 85%); ``builder % raw`` is the whole builder against the raw codec alone (records
must be encoded too, so fast codecs cannot reach 100% here); ``overhead`` compares the
builder with encode + raw codec done separately (what the streaming integration costs).
Speeds are MB/s of uncompressed records (1 MB = 10^6 bytes), from the process's CPU time
(``time.process_time``), best of the runs, so other jobs on the machine disturb less.

Run: ``.venv/bin/python -m bench.compression_bench [--mb 8] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import zlib
from collections.abc import Callable

import cramjam
import lz4.frame
import zstandard

from producer_core.compression import (
    CODECS,
    CompressionRatioEstimator,
    compress,
    new_stream_compressor,
)
from producer_core.records import RecordBatchBuilder

BATCH_SIZE = 16384
BLOCK = {"gzip": 16384, "zstd": 16384, "snappy": 32768, "lz4": 65536}


def make_values(total_bytes: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    try:
        from producer_core.datagen import order_event
    except ImportError:  # keep the bench usable on its own
        def order_event(r: random.Random, size_hint: int = 300) -> bytes:
            return (f'{{"order_id":"ord-{r.randrange(10**9):09d}","customer":"c-'
                    f'{r.randrange(10**5):05d}","status":"{r.choice(["NEW", "PAID"])}",'
                    f'"amount":{r.random() * 500:.2f},"currency":"EUR"}}').encode()
    values, size = [], 0
    while size < total_bytes:
        v = order_event(rng, 300)
        values.append(v)
        size += len(v)
    return values


def cut_batches(codec: str, values: list[bytes]) -> list[list[bytes]]:
    """Group values into batches as the accumulator would (Kafka's fullness estimate),
    with the ratio estimator in its steady state: a long-running producer has long since
    walked it down (-0.005 per batch) to the data's real ratio."""
    est = CompressionRatioEstimator()
    for _ in range(20):
        before = est.estimation("bench", codec)
        _cut(codec, values, est)
        if abs(est.estimation("bench", codec) - before) < 0.001:
            break
    return _cut(codec, values, est)


def _cut(codec: str, values: list[bytes], est: CompressionRatioEstimator
         ) -> list[list[bytes]]:
    batches, i = [], 0
    while i < len(values):
        b = RecordBatchBuilder(codec, write_limit=BATCH_SIZE)
        ratio = est.estimation("bench", codec)
        start = i
        while i < len(values) and b.has_room_for(0, None, values[i], (), ratio=ratio):
            b.append(0, None, values[i])
            i += 1
        b.close()
        est.update_estimation("bench", codec, b.compression_ratio)
        batches.append(values[start:i])
    return batches


def sections_of(batches: list[list[bytes]]) -> list[bytes]:
    out = []
    for batch in batches:
        b = RecordBatchBuilder("none")
        for v in batch:
            b.append(1_700_000_000_000, None, v)
        out.append(b.records_section())
    return out


RAW: dict[str, Callable[[bytes], bytes]] = {
    "none": lambda data: data,
    "gzip": lambda data: zlib.compress(data, 6, 31),
    "snappy": lambda data: bytes(cramjam.snappy.compress_raw(data)),
    "lz4": lambda data: lz4.frame.compress(data),
    "zstd": zstandard.ZstdCompressor(level=3).compress,
}


def run_raw(codec: str, sections: list[bytes]) -> int:
    fn = RAW[codec]
    return sum(len(fn(s)) for s in sections)


def run_path(codec: str, sections: list[bytes]) -> int:
    if codec == "none":
        return sum(len(s) for s in sections)
    block = BLOCK[codec]
    total = 0
    for s in sections:
        if len(s) < block:
            total += len(compress(codec, s))
        else:
            stream = new_stream_compressor(codec)
            view = memoryview(s)
            for start in range(0, len(s), block):
                stream.write(view[start:start + block])
            total += len(stream.finish())
    return total


def run_builder(codec: str, batches: list[list[bytes]]) -> int:
    total = 0
    ts = 1_700_000_000_000
    for seq, batch in enumerate(batches):
        b = RecordBatchBuilder(codec)
        append = b.append
        for v in batch:
            append(ts, None, v)
        total += len(b.build(producer_id=1, producer_epoch=0, base_sequence=seq))
    return total


def timed(times: list[float], fn: Callable[..., int], *args: object) -> None:
    # CPU time of this process: the machine is shared (2 cores, other jobs), and wall time
    # would charge us for being descheduled.  Both sides are measured the same way.
    t0 = time.process_time()
    fn(*args)
    times.append(time.process_time() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.compression_bench")
    ap.add_argument("--mb", type=float, default=8.0, help="MB of JSON records per codec")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)

    values = make_values(int(args.mb * 1e6), args.seed)
    print(f"{len(values)} JSON order events, {sum(map(len, values)) / len(values):.0f} B "
          f"average, batch.size {BATCH_SIZE}; best of {args.repeat}")
    header = (f"{'codec':<7}{'batches':>8}{'rec/b':>7}{'ratio':>7}{'raw':>9}{'path':>9}"
              f"{'path%raw':>9}{'builder':>9}{'bld%raw':>8}{'overhead':>9}{'goal':>6}")
    print(header)
    print("-" * len(header))
    status = 0
    encode_s = None
    for codec in CODECS:
        batches = cut_batches(codec, values)
        sections = sections_of(batches)
        mb = sum(len(s) for s in sections) / 1e6
        t_raw: list[float] = []
        t_path: list[float] = []
        t_build: list[float] = []
        t_enc: list[float] = []
        compressed = run_path(codec, sections)
        for _ in range(args.repeat):
            timed(t_raw, run_raw, codec, sections)
            timed(t_path, run_path, codec, sections)
            timed(t_build, run_builder, codec, batches)
            timed(t_enc, run_builder, "none", batches)
        raw, path, build, enc = min(t_raw), min(t_path), min(t_build), min(t_enc)
        if codec == "none":
            encode_s = build
            print(f"{codec:<7}{len(batches):>8}{len(values) / len(batches):>7.0f}{1.0:>7.3f}"
                  f"{'-':>9}{'-':>9}{'-':>9}{mb / build:>9.0f}{'-':>8}{'-':>9}{'-':>6}")
            continue
        path_pct = raw / path * 100
        ok = path_pct >= 85
        status = status or (0 if ok else 1)
        print(f"{codec:<7}{len(batches):>8}{len(values) / len(batches):>7.0f}"
              f"{compressed / (mb * 1e6):>7.3f}{mb / raw:>9.0f}{mb / path:>9.0f}"
              f"{path_pct:>8.0f}%{mb / build:>9.0f}{raw / build * 100:>7.0f}%"
              f"{(enc + raw) / build * 100:>8.0f}%{'ok' if ok else 'MISS':>6}")
    print("MB/s of uncompressed records.  path%raw: our Kafka-framed compression path vs "
          "the raw codec (goal >= 85%).")
    print("bld%raw: the whole RecordBatchBuilder (encode + compress + CRC) vs the raw codec "
          "alone; overhead: builder vs (encode-only builder + raw codec), 100% = no cost.")
    if encode_s is not None:
        print(f"record encoding alone (none): {sum(map(len, values)) / encode_s / 1e6:.0f} MB/s"
              f", {encode_s / len(values) * 1e6:.2f} us per record")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
