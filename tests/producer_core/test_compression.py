"""Codecs framed as Kafka frames them (checked with kafka-python's codec module), Kafka's
levels, and the compression-ratio estimator's rule."""

from __future__ import annotations

import random
import struct
import zlib

import kafka.codec as kcodec
import pytest

from producer_core.compression import (
    CODECS,
    COMPRESSION_RATE_ESTIMATION_FACTOR,
    XERIAL_HEADER,
    CompressionRatioEstimator,
    codec_name,
    compress,
    decompress,
    effective_level,
    estimated_batch_size,
    measure_codecs,
    new_stream_compressor,
)


def json_sample(n: int = 800, seed: int = 2) -> bytes:
    rng = random.Random(seed)
    return b"".join(
        b'{"order_id":%d,"customer":"c-%05d","amount":%.2f,"status":"%s"}' % (
            i, rng.randint(0, 99999), rng.random() * 500,
            rng.choice([b"NEW", b"PAID", b"SHIPPED"]))
        for i in range(n))


SAMPLE = json_sample()
ORACLE_DECODE = {"gzip": kcodec.gzip_decode, "snappy": kcodec.snappy_decode,
                 "lz4": kcodec.lz4_decode, "zstd": kcodec.zstd_decode}


@pytest.mark.parametrize("codec", CODECS)
def test_one_shot_and_streaming_round_trip(codec):
    one_shot = compress(codec, SAMPLE)
    assert decompress(codec, one_shot) == SAMPLE
    stream = new_stream_compressor(codec)
    rng = random.Random(0)
    pos = 0
    while pos < len(SAMPLE):
        step = rng.randint(1, 3000)
        stream.write(SAMPLE[pos:pos + step])
        pos += step
    out = stream.finish()
    assert stream.finish() == out  # idempotent
    assert decompress(codec, out) == SAMPLE
    assert stream.bytes_in == len(SAMPLE)
    with pytest.raises(ValueError):
        stream.write(b"more")
    if codec != "none":
        assert ORACLE_DECODE[codec](out) == SAMPLE
        assert len(out) < len(SAMPLE) * 0.6


def test_snappy_uses_xerial_framing_with_32k_blocks():
    data = json_sample(3000)
    out = compress("snappy", data)
    assert out[:16] == b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1) == XERIAL_HEADER
    pos, blocks = 16, []
    while pos < len(out):
        (length,) = struct.unpack_from(">i", out, pos)
        blocks.append(kcodec.snappy.decompress(out[pos + 4:pos + 4 + length]))
        pos += 4 + length
    assert [len(b) for b in blocks[:-1]] == [32768] * (len(blocks) - 1)
    assert b"".join(blocks) == data
    assert len(blocks) == -(-len(data) // 32768)
    # and kafka-python's xerial encoder is readable by us
    assert decompress("snappy", kcodec.snappy_encode(data)) == data


def test_lz4_frame_header_matches_kafkas_stream():
    out = compress("lz4", SAMPLE)
    assert out[:4] == b"\x04\x22\x4d\x18"  # LZ4 frame magic, little-endian 0x184D2204
    flg, bd = out[4], out[5]
    assert flg >> 6 == 1  # version 01
    assert flg & 0x20  # independent blocks
    assert not flg & 0x10  # no block checksum
    assert not flg & 0x08  # no content size
    assert not flg & 0x04  # no content checksum
    assert (bd >> 4) & 7 == 4  # 64 KiB maximum block size
    assert kcodec.lz4_decode(out) == SAMPLE


def test_lz4_default_level_is_the_fast_compressor():
    fast = compress("lz4", SAMPLE)  # level 9 → lz4-java's fastCompressor
    assert compress("lz4", SAMPLE, 9) == fast
    high = compress("lz4", SAMPLE, 12)  # any other level → high-compression mode
    assert high != fast and len(high) < len(fast)
    assert decompress("lz4", high) == SAMPLE


def test_gzip_is_a_gzip_member_and_minus_one_is_six():
    out = compress("gzip", SAMPLE)
    assert out[:2] == b"\x1f\x8b"
    assert out == compress("gzip", SAMPLE, 6)
    assert len(compress("gzip", SAMPLE, 1)) > len(compress("gzip", SAMPLE, 9))
    assert zlib.decompress(out, 31) == SAMPLE


def test_zstd_is_a_standard_frame():
    out = compress("zstd", SAMPLE)
    assert out[:4] == b"\x28\xb5\x2f\xfd"
    assert kcodec.zstd_decode(out) == SAMPLE
    assert decompress("zstd", compress("zstd", SAMPLE, -5)) == SAMPLE
    assert decompress("zstd", compress("zstd", SAMPLE, 19)) == SAMPLE


def test_kafka_level_ranges():
    assert effective_level("gzip", None) == 6
    assert effective_level("gzip", -1) == 6
    assert effective_level("lz4", None) == 9
    assert effective_level("zstd", None) == 3
    assert effective_level("zstd", -131072) == -131072
    assert effective_level("snappy", 5) is None
    for codec, bad in (("gzip", 0), ("gzip", 10), ("gzip", -2), ("lz4", 0), ("lz4", 18),
                       ("zstd", 23), ("zstd", -131073)):
        with pytest.raises(ValueError, match="outside Kafka's range"):
            effective_level(codec, bad)
    with pytest.raises(TypeError, match="must be an int"):
        effective_level("gzip", "6")


def test_codec_names_and_ids():
    assert [codec_name(i) for i in range(5)] == list(CODECS)
    assert codec_name("zstd") == "zstd"
    for bad in (5, -1, "LZ4", "brotli", True):
        with pytest.raises(ValueError, match="unknown compression codec"):
            codec_name(bad)


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_corrupt_input_is_a_value_error(codec):
    good = bytearray(compress(codec, SAMPLE))
    for i in range(20, 60):
        good[i] ^= 0xA5
    # Either the codec notices (a ValueError naming it) or the output differs; it must
    # never crash with another exception type or hand back the original.
    try:
        out = decompress(codec, bytes(good))
    except ValueError as exc:
        assert codec in str(exc) or "snappy" in str(exc) or str(exc)
        return
    assert out != SAMPLE


def test_gzip_checksum_catches_corruption():
    bad = bytearray(compress("gzip", SAMPLE))
    bad[-8] ^= 1  # the CRC-32 trailer
    with pytest.raises(ValueError, match="gzip data is corrupt"):
        decompress("gzip", bytes(bad))


def test_truncated_xerial_block_is_reported():
    out = compress("snappy", SAMPLE)
    with pytest.raises(ValueError, match="overruns"):
        decompress("snappy", out[:-10])


# ---- CompressionRatioEstimator (Kafka's rule) ---------------------------------------

def test_estimator_starts_at_one_and_improves_slowly():
    est = CompressionRatioEstimator()
    assert est.estimation("orders", "lz4") == 1.0
    assert est.update_estimation("orders", "lz4", 0.3) == pytest.approx(0.995)
    assert est.update_estimation("orders", "lz4", 0.3) == pytest.approx(0.990)
    for _ in range(98):
        est.update_estimation("orders", "lz4", 0.3)
    assert est.estimation("orders", "lz4") == pytest.approx(0.5)
    for _ in range(1000):
        est.update_estimation("orders", "lz4", 0.3)
    assert est.estimation("orders", "lz4") == pytest.approx(0.3)  # never below observed


def test_estimator_deteriorates_fast():
    est = CompressionRatioEstimator()
    est.set_estimation("orders", "gzip", 0.4)
    # worse than estimated: jump to the observed ratio if that is more than +0.05
    assert est.update_estimation("orders", "gzip", 0.7) == pytest.approx(0.7)
    # a little worse: at least +0.05
    assert est.update_estimation("orders", "gzip", 0.71) == pytest.approx(0.75)
    assert est.update_estimation("orders", "gzip", 0.75) == pytest.approx(0.75)  # equal


def test_estimator_is_per_topic_and_codec():
    est = CompressionRatioEstimator()
    est.update_estimation("a", "lz4", 0.1)
    assert est.estimation("a", "zstd") == 1.0
    assert est.estimation("b", "lz4") == 1.0
    est.update_estimation("b", "lz4", 0.1)
    est.reset_estimation("a")
    assert est.estimation("a", "lz4") == 1.0
    assert est.snapshot() == {"b": {"lz4": 0.995}}


def test_estimated_batch_size():
    assert estimated_batch_size(1000, 0.5, "none") == 1061
    assert estimated_batch_size(1000, 0.5, "gzip") == 61 + int(1000 * 0.5 * 1.05)
    assert estimated_batch_size(16000, 1.0, "lz4") == 61 + 16800
    assert COMPRESSION_RATE_ESTIMATION_FACTOR == 1.05


# ---- measure_codecs ---------------------------------------------------------------------

class TickingTimer:
    """A deterministic clock: every reading is 1 ms after the previous one."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 0.001
        return self.t


def test_measure_codecs_reports_real_ratios():
    rows = measure_codecs(SAMPLE, timer=TickingTimer(), min_time_s=0.0)
    assert [r["codec"] for r in rows] == list(CODECS)
    by = {r["codec"]: r for r in rows}
    assert by["none"]["ratio"] == 1.0
    assert by["zstd"]["compressed_bytes"] == len(compress("zstd", SAMPLE))
    assert by["gzip"]["ratio"] == round(len(compress("gzip", SAMPLE)) / len(SAMPLE), 4)
    assert by["gzip"]["ratio"] < 0.5
    # one round of one tick each: size / 1 ms
    assert by["lz4"]["compress_mb_s"] == pytest.approx(len(SAMPLE) / 0.001 / 1e6, rel=0.01)


def test_measure_codecs_levels_and_bad_input():
    rows = measure_codecs(SAMPLE, {"zstd": [1, 19], "gzip": 1}, timer=TickingTimer())
    assert [(r["codec"], r["level"]) for r in rows] == [("zstd", 1), ("zstd", 19),
                                                        ("gzip", 1)]
    assert rows[1]["compressed_bytes"] <= rows[0]["compressed_bytes"]
    with pytest.raises(ValueError, match="outside"):
        measure_codecs(SAMPLE, [("lz4", 40)], timer=TickingTimer())
    with pytest.raises(TypeError, match="timer"):
        measure_codecs(SAMPLE, timer=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        measure_codecs(SAMPLE)  # type: ignore[call-arg]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("level", [None, "max"])
def test_one_shot_equals_streaming_bytes(codec, level):
    # The builder compresses small batches in one call and big ones as a stream; a batch
    # must come out the same either way.
    if level == "max":
        level = {"gzip": 9, "lz4": 12, "zstd": 19}.get(codec)
    data = json_sample(2500)
    stream = new_stream_compressor(codec, level)
    for start in range(0, len(data), 5000):
        stream.write(data[start:start + 5000])
    assert stream.finish() == compress(codec, data, level)
