"""Codecs under threads: the load that crashed daphne (two codec measurements and two
incident replays at once) must round-trip every byte and never share a zstd context."""

from __future__ import annotations

import threading
import time
from random import Random

from producer_core import ProducerConfig, Simulation
from producer_core.compression import (
    _zstd_compressor,
    _zstd_decompressor,
    compress,
    decompress,
    measure_codecs,
)


def _samples(seed: int) -> list[bytes]:
    rnd = Random(seed)
    words = [b"order", b"user", b"click", b"payment", b"{\"id\":", b"\"amount\":", b"}"]
    return [b" ".join(rnd.choice(words) for _ in range(rnd.randint(50, 4000)))
            for _ in range(20)]


def _hammer(seed: int, errors: list, rounds: int) -> None:
    try:
        for sample in _samples(seed) * rounds:
            for codec, level in (("zstd", 3), ("zstd", 1), ("zstd", 9), ("lz4", 9),
                                 ("snappy", None), ("gzip", 6)):
                if decompress(codec, compress(codec, sample, level)) != sample:
                    errors.append(f"{codec}:{level} lost bytes")
    except Exception as exc:  # noqa: BLE001 - a codec error in a thread must fail the test
        errors.append(repr(exc))


def _simulate(seed: int, results: dict, errors: list) -> None:
    try:
        sim = Simulation(config=ProducerConfig.from_dict({"compression.type": "zstd",
                                                          "linger.ms": 2}),
                         brokers=3, topics={"orders": 3}, seed=seed)
        for i in range(3000):
            sim.producer.send("orders", value=b'{"order": %d, "amount": 12.5}' % i)
        sim.producer.flush()
        results[seed] = b"".join(b for p in range(3) for b in sim.cluster.log("orders", p))
    except Exception as exc:  # noqa: BLE001 - reported by the main thread
        errors.append(repr(exc))


def test_threads_never_share_a_zstd_context():
    seen: dict[str, tuple] = {}  # the objects themselves, so no id is reused

    def grab(name: str) -> None:
        seen[name] = (_zstd_compressor(3), _zstd_decompressor())

    threads = [threading.Thread(target=grab, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    grab("main")
    assert len({id(c) for c, _ in seen.values()}) == len(seen)
    assert len({id(d) for _, d in seen.values()}) == len(seen)
    assert _zstd_compressor(3) is _zstd_compressor(3)  # reused within one thread


def test_concurrent_codecs_and_simulations_round_trip():
    errors: list[str] = []
    results: dict[int, bytes] = {}
    threads = [threading.Thread(target=_hammer, args=(s, errors, 3)) for s in range(6)]
    threads += [threading.Thread(target=measure_codecs, args=(s,),
                                 kwargs={"timer": time.perf_counter, "min_time_s": 0.001})
                for s in _samples(99)[:2]]
    threads += [threading.Thread(target=_simulate, args=(s, results, errors)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:5]
    assert sorted(results) == [1, 2]
    # the same seed alone, on one thread, stores the same bytes: threads changed nothing
    alone: dict[int, bytes] = {}
    _simulate(1, alone, errors)
    assert alone[1] == results[1]
