"""The modelled costs: explained constants, codec ordering from real measurements."""

from __future__ import annotations

import itertools
import json

from producer_core import timemodel


def test_codec_costs_are_measured_and_ordered_like_the_codecs():
    c = timemodel.CODEC_CPU_NS_PER_BYTE
    assert set(c) == {"none", "gzip", "snappy", "lz4", "zstd"}
    assert c["none"] == 0
    assert all(c[k] > 0 for k in ("gzip", "snappy", "lz4", "zstd"))
    # gzip is by far the slowest; zstd sits between the fast codecs and gzip
    assert c["gzip"] > c["zstd"] > max(c["lz4"], c["snappy"])


def test_send_cost_grows_with_size_and_codec():
    small = timemodel.send_cpu_us(100)
    big = timemodel.send_cpu_us(10_000)
    assert small >= timemodel.RECORD_CPU_US and big > small
    assert timemodel.send_cpu_us(1000, codec="gzip") > timemodel.send_cpu_us(1000, codec="lz4") \
        > timemodel.send_cpu_us(1000)


def test_calibrate_measures_real_codecs_with_an_injected_timer():
    ticks = itertools.count()
    result = timemodel.calibrate(lambda: next(ticks) * 0.001, total_bytes=64 * 1024)
    assert set(result) == {"gzip", "snappy", "lz4", "zstd"}
    for r in result.values():
        assert 0.05 < r["ratio"] < 0.6  # JSON orders compress for real
        assert r["ns_per_byte"] > 0


def test_describe_is_json_safe():
    d = timemodel.describe()
    json.dumps(d)
    assert d["producer"]["codec_cpu_ns_per_byte"]["gzip"] == timemodel.CODEC_CPU_NS_PER_BYTE["gzip"]
