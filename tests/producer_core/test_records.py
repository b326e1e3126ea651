"""RecordBatch v2: our bytes checked by an oracle nobody here wrote (kafka-python's
DefaultRecordBatch), kafka-python's bytes read by our decoder, and scenarios ported from
Kafka's DefaultRecordBatchTest."""

from __future__ import annotations

import random
import struct

import crc32c
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from producer_core.compression import CODEC_IDS, CODECS
from producer_core.errors import CorruptRecordError
from producer_core.records import (
    MAX_RECORD_OVERHEAD,
    RECORD_BATCH_OVERHEAD,
    RecordBatchBuilder,
    batch_header,
    build_batch,
    decode_batch,
    encode_varint,
    estimate_batch_size_upper_bound,
    estimate_record_size,
    iter_batches,
    read_varint,
    record_size_in_bytes,
    set_base_offset,
    size_of_varint,
)


def oracle(data: bytes) -> tuple[DefaultRecordBatch, list]:
    batch = DefaultRecordBatch(bytes(data))
    assert batch.validate_crc(), "kafka-python says the CRC is wrong"
    return batch, list(batch)


def varied_records(n: int, seed: int = 7) -> list[tuple[int, bytes | None, bytes | None, list]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        key = None if i % 4 == 0 else f"key-{rng.randint(0, 50)}".encode()
        if i % 9 == 0:
            value = None
        elif i % 11 == 0:
            value = b""
        else:
            value = (f'{{"order":{i},"sku":"SKU-{rng.randint(0, 9999):04d}",'
                     f'"qty":{rng.randint(1, 9)}}}').encode()
        headers = []
        if i % 5 == 0:
            headers = [("trace-id", b"%08x" % rng.getrandbits(32)), ("ünï-çødé", None),
                       ("empty", b"")]
        out.append((1_700_000_000_000 + i * 3 - (5 if i % 13 == 0 else 0), key, value,
                    headers))
    return out


@pytest.mark.parametrize("codec", CODECS)
def test_oracle_decodes_every_record_we_build(codec):
    records = varied_records(400)
    builder = RecordBatchBuilder(codec)
    sizes = [builder.append(*r) for r in records]
    data = builder.build(producer_id=4242, producer_epoch=3, base_sequence=17)

    batch, decoded = oracle(data)
    assert batch.magic == 2
    assert batch.compression_type == CODEC_IDS[codec]
    assert batch.producer_id == 4242 and batch.producer_epoch == 3
    assert batch.base_sequence == 17
    assert batch.records_count == len(records) == len(decoded)
    assert batch.last_offset_delta == len(records) - 1
    assert batch.first_timestamp == records[0][0]
    assert batch.max_timestamp == max(r[0] for r in records)
    for i, (rec, (ts, key, value, headers)) in enumerate(zip(decoded, records)):
        assert rec.offset == i
        assert rec.timestamp == ts
        assert rec.key == key
        assert rec.value == value
        assert list(rec.headers) == [(k, v) for k, v in headers]
    assert builder.uncompressed_bytes == sum(sizes)
    if codec == "none":
        assert len(data) == RECORD_BATCH_OVERHEAD + sum(sizes)


@pytest.mark.parametrize("codec", CODECS)
def test_large_records_cross_codec_block_boundaries(codec):
    rng = random.Random(3)
    # 300 KB of half-random bytes: several 32 KiB snappy and 64 KiB lz4 blocks
    big = bytes(rng.getrandbits(8) if i % 2 else 65 for i in range(300_000))
    builder = RecordBatchBuilder(codec)
    builder.append(1, b"k", big)
    builder.append(2, None, big[:70_000], [("h", big[:5000])])
    data = builder.build()
    _, decoded = oracle(data)
    assert [r.value for r in decoded] == [big, big[:70_000]]
    assert decode_batch(data).records[1].headers == [("h", big[:5000])]


@pytest.mark.parametrize("codec", CODECS)
def test_we_decode_kafka_pythons_batches(codec):
    kp = DefaultRecordBatchBuilder(magic=2, compression_type=CODEC_IDS[codec],
                                   is_transactional=0, producer_id=99, producer_epoch=5,
                                   base_sequence=1000, batch_size=1 << 20)
    records = varied_records(150, seed=11)
    for i, (ts, key, value, headers) in enumerate(records):
        kp.append(i, timestamp=ts, key=key, value=value, headers=headers)
    data = bytes(kp.build())
    ours = decode_batch(data)
    assert ours.compression == codec
    assert (ours.producer_id, ours.producer_epoch, ours.base_sequence) == (99, 5, 1000)
    assert ours.records_count == 150
    assert ours.base_timestamp == records[0][0]
    assert ours.max_timestamp == max(r[0] for r in records)
    for i, (rec, (ts, key, value, headers)) in enumerate(zip(ours.records, records)):
        assert (rec.offset, rec.timestamp_ms, rec.key, rec.value) == (i, ts, key, value)
        assert rec.headers == list(headers)


def test_uncompressed_bytes_match_kafka_python_byte_for_byte():
    # Same records, same producer state, no compression: the encodings must be identical.
    records = varied_records(60, seed=5)
    kp = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0,
                                   producer_id=7, producer_epoch=1, base_sequence=3,
                                   batch_size=1 << 20)
    for i, (ts, key, value, headers) in enumerate(records):
        kp.append(i, timestamp=ts, key=key, value=value, headers=headers)
    # kafka-python writes partitionLeaderEpoch 0 where the Java producer writes -1
    ours = build_batch(records, producer_id=7, producer_epoch=1, base_sequence=3,
                       partition_leader_epoch=0)
    assert ours == bytes(kp.build())


def test_header_fields_and_defaults():
    data = build_batch([(100, b"a", b"1"), (90, None, b"2"), (130, b"c", None)], "lz4")
    h = batch_header(data)
    assert h.base_offset == 0
    assert h.length == len(data) - 12 and h.size == len(data)
    assert h.partition_leader_epoch == -1
    assert h.magic == 2
    assert h.compression == "lz4" and h.attributes & 0x7 == 3
    assert not h.is_transactional and not h.is_control
    assert h.last_offset_delta == 2 and h.records_count == 3
    assert (h.base_timestamp, h.max_timestamp) == (100, 130)
    assert (h.producer_id, h.producer_epoch, h.base_sequence) == (-1, -1, -1)
    assert h.crc == crc32c.crc32c(data[21:])
    assert decode_batch(data).records[1].timestamp_ms == 90  # negative delta survives


def test_transactional_flag_is_set_in_attributes():
    b = RecordBatchBuilder()
    b.append(1, None, b"x")
    data = b.build(producer_id=1, producer_epoch=0, base_sequence=0, is_transactional=True)
    batch, _ = oracle(data)
    assert batch.is_transactional
    assert decode_batch(data).is_transactional


@pytest.mark.parametrize("codec", CODECS)
def test_build_again_with_new_producer_state_keeps_records(codec):
    b = RecordBatchBuilder(codec)
    for r in varied_records(50):
        b.append(*r)
    first = b.build(producer_id=1, producer_epoch=0, base_sequence=0)
    second = b.build(producer_id=1, producer_epoch=1, base_sequence=50)
    assert first[RECORD_BATCH_OVERHEAD:] == second[RECORD_BATCH_OVERHEAD:]
    assert first != second
    assert b.build(producer_id=1, producer_epoch=0, base_sequence=0) == first
    assert oracle(second)[0].base_sequence == 50
    with pytest.raises(ValueError, match="closed"):
        b.append(5, None, b"late")


@pytest.mark.parametrize("codec", CODECS)
def test_same_input_same_bytes(codec):
    recs = varied_records(120, seed=9)
    assert build_batch(recs, codec) == build_batch(recs, codec)


def test_set_base_offset_keeps_crc_valid():
    data = build_batch([(1, b"a", b"x"), (2, b"b", b"y")], "gzip")
    moved = set_base_offset(data, 1_000_000)
    batch, recs = oracle(moved)
    assert batch.base_offset == 1_000_000
    assert [r.offset for r in recs] == [1_000_000, 1_000_001]
    assert decode_batch(moved).last_offset == 1_000_001
    assert moved[8:] == data[8:]
    stamped = set_base_offset(data, 7, partition_leader_epoch=3)
    batch, _ = oracle(stamped)
    assert (batch.base_offset, batch.leader_epoch) == (7, 3)
    assert stamped[16:] == data[16:]


def test_iter_batches_splits_a_log_and_rejects_truncation():
    a = build_batch([(1, None, b"a")])
    b = build_batch([(2, None, b"bb"), (3, None, b"ccc")], "zstd")
    assert list(iter_batches(a + b)) == [a, b]
    assert list(iter_batches(b"")) == []
    with pytest.raises(CorruptRecordError, match="claims"):
        list(iter_batches(a + b[:-1]))
    with pytest.raises(CorruptRecordError, match="trailing"):
        list(iter_batches(a + b[:5]))


# ---- corruption (DefaultRecordBatchTest: testInvalidCrc, invalid counts/sizes) ----------

def _recrc(data: bytearray) -> bytes:
    struct.pack_into(">I", data, 17, crc32c.crc32c(bytes(data[21:])))
    return bytes(data)


def test_flipped_byte_fails_crc():
    data = bytearray(build_batch([(1, b"k", b"value")]))
    data[-1] ^= 0xFF
    with pytest.raises(CorruptRecordError, match="CRC mismatch"):
        decode_batch(bytes(data))
    # the broker can skip the CRC check explicitly
    assert batch_header(bytes(data), verify_crc=False).records_count == 1


def test_wrong_magic_and_lengths():
    data = bytearray(build_batch([(1, b"k", b"value")]))
    bad_magic = bytearray(data)
    bad_magic[16] = 1
    with pytest.raises(CorruptRecordError, match="magic 1"):
        decode_batch(bytes(bad_magic))
    with pytest.raises(CorruptRecordError, match="at least 61"):
        decode_batch(bytes(data[:40]))
    with pytest.raises(CorruptRecordError, match="batchLength"):
        batch_header(bytes(data) + b"\x00")


def test_records_count_too_many_or_too_few():
    data = bytearray(build_batch([(1, b"k", b"v1"), (2, b"k", b"v2")]))
    too_many = bytearray(data)
    struct.pack_into(">i", too_many, 57, 3)
    with pytest.raises(CorruptRecordError, match="says 3 records"):
        decode_batch(_recrc(too_many))
    too_few = bytearray(data)
    struct.pack_into(">i", too_few, 57, 1)
    with pytest.raises(CorruptRecordError, match="bytes left"):
        decode_batch(_recrc(too_few))


def test_invalid_record_size_is_reported():
    data = bytearray(build_batch([(1, b"k", b"v1")]))
    data[61] = encode_varint(50)[0]  # record length prefix now claims 50 bytes
    with pytest.raises(CorruptRecordError, match="claims 50 bytes"):
        decode_batch(_recrc(data))


def test_corrupt_compressed_section():
    data = bytearray(build_batch([(1, b"k", b"v" * 500)], "lz4"))
    for i in range(70, 90):
        data[i] ^= 0x5A
    with pytest.raises(CorruptRecordError, match="decompress"):
        decode_batch(_recrc(data))


def test_empty_batch_is_refused():
    with pytest.raises(ValueError, match="no records"):
        RecordBatchBuilder().build()


def test_producer_state_out_of_range():
    b = RecordBatchBuilder()
    b.append(1, None, b"x")
    with pytest.raises(ValueError, match="out of range"):
        b.build(producer_epoch=70000)


def test_sequence_wraps_past_int_max():
    # DefaultRecordBatchTest.testIncrementSequence / sequence wrap-around
    b = RecordBatchBuilder()
    for i in range(10):
        b.append(i, None, b"x")
    data = b.build(producer_id=5, producer_epoch=0, base_sequence=2**31 - 5)
    h = batch_header(data)
    assert h.last_sequence == 4  # base + 9 wraps past Integer.MAX_VALUE to 4
    assert oracle(data)[0].last_sequence == 4


def test_bad_inputs_raise_type_errors():
    b = RecordBatchBuilder()
    with pytest.raises(TypeError, match="header keys must be str"):
        b.append(1, None, b"x", [(b"bytes-key", b"v")])
    with pytest.raises(TypeError, match="header 'h' value must be bytes"):
        b.append(1, None, b"x", [("h", "text")])
    with pytest.raises(TypeError, match="timestamp_ms must be an int"):
        b.append(1.5, None, b"x")
    with pytest.raises(ValueError, match="unknown compression codec"):
        RecordBatchBuilder("brotli")
    assert b.records_count == 0  # failed appends changed nothing
    b.append(100, b"k", b"v")
    with pytest.raises(TypeError, match="key and value must be bytes or None"):
        b.append(900, "text-key", b"v")
    with pytest.raises(TypeError, match="got key NoneType and value int"):
        b.append(900, None, 5)
    assert (b.records_count, b.max_timestamp_ms) == (1, 100)  # still as it was
    b.append(101, None, b"w")
    assert [r.value for r in decode_batch(b.build()).records] == [b"v", b"w"]


# ---- sizes ---------------------------------------------------------------------------

def test_varints_match_kafka_examples():
    # zigzag: 0→0, -1→1, 1→2, -2→3, 63→126, -64→127, 64→128 (two bytes)
    assert [encode_varint(n) for n in (0, -1, 1, -2, 63, -64)] == [
        b"\x00", b"\x01", b"\x02", b"\x03", b"\x7e", b"\x7f"]
    assert encode_varint(64) == b"\x80\x01"
    for n in (0, 1, -1, 300, -300, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63)):
        enc = encode_varint(n)
        assert read_varint(enc, 0) == (n, len(enc))
        assert size_of_varint(n) == len(enc)
    assert size_of_varint(2**63 - 1) == 10


def test_sizes_agree_with_kafka_python():
    cases = [(None, None, []), (b"k", b"v" * 200, [("a", b"b")]), (b"", b"", [("ü", None)]),
             (b"x" * 70000, None, [])]
    for key, value, headers in cases:
        assert estimate_batch_size_upper_bound(key, value, headers) == \
            DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
        assert estimate_record_size(key, value, headers) == \
            MAX_RECORD_OVERHEAD + DefaultRecordBatchBuilder.size_of(key, value, headers)
        for off, ts in ((0, 0), (5, 1000), (20000, -3)):
            assert record_size_in_bytes(off, ts, key, value, headers) == \
                DefaultRecordBatchBuilder.size_in_bytes(off, ts, key, value, headers)


record_strategy = st.tuples(
    st.integers(min_value=0, max_value=5000),
    st.one_of(st.none(), st.binary(max_size=40)),
    st.one_of(st.none(), st.binary(max_size=300)),
    st.lists(st.tuples(st.text(max_size=8), st.one_of(st.none(), st.binary(max_size=10))),
             max_size=3),
)


@settings(max_examples=40, deadline=None)
@given(records=st.lists(record_strategy, min_size=1, max_size=30),
       codec=st.sampled_from(CODECS), base_ts=st.integers(0, 2**41))
def test_any_batch_round_trips_through_the_oracle(records, codec, base_ts):
    b = RecordBatchBuilder(codec)
    for i, (dt, key, value, headers) in enumerate(records):
        size = b.append(base_ts + dt, key, value, headers)
        assert size <= estimate_record_size(key, value, headers)
        assert size == record_size_in_bytes(i, dt - records[0][0], key, value, headers)
    data = b.build()
    _, decoded = oracle(data)
    ours = decode_batch(data)
    for rec, mine, (dt, key, value, headers) in zip(decoded, ours.records, records):
        assert (rec.key, rec.value, rec.timestamp) == (key, value, base_ts + dt)
        assert (mine.key, mine.value, mine.headers) == (key, value, list(headers))


# ---- fullness (MemoryRecordsBuilder.hasRoomFor / isFull) ----------------------------------

def test_first_record_always_fits_then_the_limit_holds():
    b = RecordBatchBuilder("none", write_limit=200)
    assert b.has_room_for(0, None, b"x" * 1000)  # bigger than the limit, but first
    b.append(0, None, b"x" * 100)
    assert b.estimated_bytes_written() == 61 + b.uncompressed_bytes
    assert not b.has_room_for(0, None, b"x" * 100)
    assert b.has_room_for(0, None, b"x" * 20)
    b.append(0, None, b"y" * 30)
    assert b.is_full() is (200 <= b.estimated_bytes_written())


def test_compressed_estimate_uses_ratio_and_safety_factor():
    b = RecordBatchBuilder("gzip", write_limit=16384)
    for i in range(100):
        b.append(i, None, b"abcdefgh" * 10)
    raw = b.uncompressed_bytes
    assert b.estimated_bytes_written(1.0) == 61 + int(raw * 1.0 * 1.05)
    assert b.estimated_bytes_written(0.25) == 61 + int(raw * 0.25 * 1.05)
    b.close()
    assert b.is_full()  # closed batches take nothing more
    assert 0 < b.compression_ratio < 0.1
    assert b.compressed_bytes == b.size_in_bytes() - 61


@pytest.mark.parametrize("codec", ["gzip", "zstd", "snappy", "lz4"])
def test_records_are_compressed_while_appending(codec):
    # As in the Java client, compression happens as the batch fills, not only at close.
    rng = random.Random(1)
    b = RecordBatchBuilder(codec)
    assert b.compressed_bytes <= 16  # at most a frame header so far
    while b.uncompressed_bytes < 400_000:
        b.append(0, None, b"%.15f-%s" % (rng.random(), b"payload" * 10))
    assert not b.is_closed
    assert b.compressed_bytes > 100  # whole blocks were already emitted
    data = b.build()
    assert len(oracle(data)[1]) == b.records_count


def _forge(codec: str, records_section: bytes, count: int) -> bytes:
    """A batch with a given (uncompressed) records section and recordsCount, valid CRC."""
    from producer_core.compression import compress

    body = compress(codec, records_section)
    tail = struct.pack(">hiqqqhii", CODEC_IDS[codec], count - 1, 0, 0, -1, -1, -1, count)
    crc = crc32c.crc32c(tail + body)
    head = struct.pack(">qiibI", 0, 49 + len(body), -1, 2, crc)
    return head + tail + body


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_record_count_mismatch_in_compressed_batches(codec):
    section = RecordBatchBuilder()
    section.append(0, b"k", b"v1")
    section.append(0, b"k", b"v2")
    raw = section.records_section()
    assert len(decode_batch(_forge(codec, raw, 2)).records) == 2
    with pytest.raises(CorruptRecordError, match="says 3 records"):
        decode_batch(_forge(codec, raw, 3))
    with pytest.raises(CorruptRecordError, match="bytes left"):
        decode_batch(_forge(codec, raw, 1))


def test_compressed_batch_with_empty_records_section():
    # DefaultRecordBatchTest.testCompressedIterationWithEmptyRecords: the header promises a
    # record the (validly compressed) payload does not hold.
    with pytest.raises(CorruptRecordError, match="ends after 0"):
        decode_batch(_forge("gzip", b"", 1))


@settings(max_examples=150, deadline=None)
@given(codec=st.sampled_from(CODECS), data=st.data())
def test_mangled_batches_decode_or_raise_corrupt_record_error(codec, data):
    # Whatever bytes arrive (CRC made valid so the parser itself is exercised), the
    # decoder answers with records or with CorruptRecordError — never another exception.
    batch = bytearray(build_batch(varied_records(6), codec))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(RECORD_BATCH_OVERHEAD - 4, len(batch) - 1))
        batch[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        cut = data.draw(st.integers(RECORD_BATCH_OVERHEAD, len(batch)))
        batch = batch[:cut]
        struct.pack_into(">i", batch, 8, len(batch) - 12)
    try:
        decoded = decode_batch(_recrc(batch))
    except CorruptRecordError as err:
        assert str(err)
        return
    assert decoded.records_count == len(decoded.records)
