"""Kafka RecordBatch v2 (magic 2): the bytes a producer sends and a broker stores.

Written from the format's specification (Kafka's ``DefaultRecordBatch``/``DefaultRecord``).
A batch is a 61-byte header followed by the *records section*, which alone is compressed::

    baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 (=2)
    | crc uint32 (CRC-32C of everything from attributes to the end)
    | attributes int16 (bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control)
    | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64
    | producerId int64 | producerEpoch int16 | baseSequence int32 | recordsCount int32
    | records...

Each record is ``length varint | attributes int8 | timestampDelta varlong | offsetDelta
varint | keyLength varint | key | valueLength varint | value | headerCount varint |
headers`` where varints are zigzag-encoded and a length of -1 means null.  The producer
writes baseOffset 0; the broker assigns the real one (:func:`set_base_offset`), which is why
the CRC does not cover it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import crc32c as _crc32c

from producer_core.compression import (
    CODEC_IDS,
    CODECS,
    LZ4_BLOCK_SIZE,
    STREAM_BUFFER_SIZE,
    XERIAL_BLOCK_SIZE,
    StreamCompressor,
    codec_name,
    compress,
    decompress,
    effective_level,
    estimated_batch_size,
    new_stream_compressor,
)
from producer_core.errors import CorruptRecordError

MAGIC = 2
RECORD_BATCH_OVERHEAD = 61
#: Largest size of a record's fixed parts: attributes (1), length (5), timestamp delta (10),
#: offset delta (5) — Kafka's ``DefaultRecord.MAX_RECORD_OVERHEAD``.
MAX_RECORD_OVERHEAD = 21
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
NO_PARTITION_LEADER_EPOCH = -1

TRANSACTIONAL_FLAG = 0x10
CONTROL_FLAG = 0x20
LOG_APPEND_TIME_FLAG = 0x08
CODEC_MASK = 0x07

_crc = _crc32c.crc32c
_HEAD = struct.Struct(">qiibI")  # baseOffset, batchLength, leaderEpoch, magic, crc: 21 bytes
_TAIL = struct.Struct(">hiqqqhii")  # attributes .. recordsCount: 40 bytes
_HEADER = struct.Struct(">qiibIhiqqqhii")
_Q = struct.Struct(">q")
assert _HEAD.size + _TAIL.size == _HEADER.size == RECORD_BATCH_OVERHEAD


# ---- varints ---------------------------------------------------------------------------

def _encode_unsigned(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_varint(value: int) -> bytes:
    """Zigzag varint (Kafka's ``ByteUtils.writeVarint``/``writeVarlong``)."""
    return _encode_unsigned((value << 1) if value >= 0 else ((-value) << 1) - 1)


def size_of_varint(value: int) -> int:
    """Bytes :func:`encode_varint` takes for ``value`` (``ByteUtils.sizeOfVarint/Varlong``)."""
    zz = (value << 1) if value >= 0 else ((-value) << 1) - 1
    return max(1, (zz.bit_length() + 6) // 7)


# Precomputed encodings of 0..N-1: lengths, offset deltas and timestamp deltas of a batch
# are almost always small, and the append path should not build them byte by byte.
_TABLE_SIZE = 1 << 15
_ZZ: tuple[bytes, ...] = tuple(encode_varint(i) for i in range(_TABLE_SIZE))
_NULL = encode_varint(-1)  # b"\x01"
_ZERO = _ZZ[0]


def _zz(value: int) -> bytes:
    if 0 <= value < _TABLE_SIZE:
        return _ZZ[value]
    return encode_varint(value)


def read_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Decode a zigzag varint at ``pos``; returns ``(value, next_pos)``."""
    result = shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise CorruptRecordError("varint runs past the end of the data")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
        if shift > 63:
            raise CorruptRecordError("varint is longer than 10 bytes")
    return (result >> 1) ^ -(result & 1), pos


# ---- sizes -----------------------------------------------------------------------------

def _headers_size(headers: Sequence[tuple[str, bytes | None]]) -> int:
    size = size_of_varint(len(headers))
    for key, value in headers:
        if not isinstance(key, str):
            raise TypeError(f"header keys must be str, not {type(key).__name__}")
        klen = len(key.encode("utf-8"))
        size += size_of_varint(klen) + klen
        size += 1 if value is None else size_of_varint(len(value)) + len(value)
    return size


def _key_value_headers_size(key: bytes | None, value: bytes | None,
                            headers: Sequence[tuple[str, bytes | None]]) -> int:
    size = 1 if key is None else size_of_varint(len(key)) + len(key)
    size += 1 if value is None else size_of_varint(len(value)) + len(value)
    return size + (_headers_size(headers) if headers else 1)


def estimate_record_size(key: bytes | None, value: bytes | None,
                         headers: Sequence[tuple[str, bytes | None]] = ()) -> int:
    """Upper bound of one record's encoded size whatever its offset and timestamp deltas
    (Kafka's ``DefaultRecord.recordSizeUpperBound``: ``MAX_RECORD_OVERHEAD`` + key, value
    and headers).  Add :data:`RECORD_BATCH_OVERHEAD` for a batch holding only this record
    (:func:`estimate_batch_size_upper_bound`)."""
    return MAX_RECORD_OVERHEAD + _key_value_headers_size(key, value, headers)


def estimate_batch_size_upper_bound(key: bytes | None, value: bytes | None,
                                    headers: Sequence[tuple[str, bytes | None]] = ()) -> int:
    """Kafka's ``AbstractRecords.estimateSizeInBytesUpperBound`` for magic 2: the size a
    batch of just this record may need.  The producer checks it against
    ``max.request.size`` and ``buffer.memory`` and sizes a new batch with
    ``max(batch.size, this)``."""
    return RECORD_BATCH_OVERHEAD + estimate_record_size(key, value, headers)


def record_size_in_bytes(offset_delta: int, timestamp_delta: int, key: bytes | None,
                         value: bytes | None,
                         headers: Sequence[tuple[str, bytes | None]] = ()) -> int:
    """Exact encoded size of one record (Kafka's ``DefaultRecord.sizeInBytes``)."""
    body = (1 + size_of_varint(timestamp_delta) + size_of_varint(offset_delta)
            + _key_value_headers_size(key, value, headers))
    return size_of_varint(body) + body


# ---- encoding --------------------------------------------------------------------------

def _encode_headers(headers: Sequence[tuple[str, bytes | None]]) -> bytes:
    parts = [_zz(len(headers))]
    for item in headers:
        try:
            key, value = item
        except (TypeError, ValueError):
            raise TypeError(f"a header must be a (str, bytes) pair, not {item!r}") from None
        if not isinstance(key, str):
            raise TypeError(f"header keys must be str, not {type(key).__name__}")
        kb = key.encode("utf-8")
        parts.append(_zz(len(kb)))
        parts.append(kb)
        if value is None:
            parts.append(_NULL)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            parts.append(_zz(len(value)))
            parts.append(value)
        else:
            raise TypeError(f"header {key!r} value must be bytes or None, "
                            f"not {type(value).__name__}")
    return b"".join(parts)


# Java wraps each codec's stream in a buffer of this size before compressing.
_CHUNK = {"gzip": STREAM_BUFFER_SIZE, "zstd": STREAM_BUFFER_SIZE,
          "snappy": XERIAL_BLOCK_SIZE, "lz4": LZ4_BLOCK_SIZE}
_NO_CHUNK = 1 << 62  # no compression: records are never fed to a compressor


class RecordBatchBuilder:
    """Builds one RecordBatch v2, compressing the records as they are appended (as Kafka's
    ``MemoryRecordsBuilder`` does).

    ``append`` encodes a record (offset delta = records so far, timestamp delta from the
    first record's timestamp) and returns its encoded size; ``close`` finishes compression;
    ``build`` returns the whole batch for some producer state and may be called again
    with other state (a retried batch keeps its records but gets, e.g., a new epoch).

    ``write_limit`` (the batch's capacity) and ``estimated_compression_ratio`` let the
    accumulator ask :meth:`has_room_for` / :meth:`is_full` with Kafka's estimate.
    """

    __slots__ = (
        "_attrs", "_base_ts", "_buf", "_chunk", "_closed", "_count", "_max_ts",
        "_pending_bytes", "_records", "_stream", "_uncompressed", "compression",
        "estimated_compression_ratio", "level", "write_limit",
    )

    def __init__(self, compression: str = "none", level: int | None = None, *,
                 write_limit: int | None = None) -> None:
        self.compression = codec_name(compression)
        effective_level(self.compression, level)  # ValueError for a level out of range
        self.level = level
        self.write_limit = write_limit
        self.estimated_compression_ratio = 1.0
        self._count = 0
        self._base_ts: int | None = None
        self._max_ts: int | None = None
        self._uncompressed = 0
        # Encoded records not yet handed to the compressor, in one buffer (as Kafka's
        # MemoryRecordsBuilder writes into one ByteBuffer): a batch waiting in the
        # accumulator costs its bytes, not a bytes object per record.  Like Java's buffered
        # streams, the compressor gets them a block at a time; it is created when the
        # first block fills, so a batch smaller than one block is compressed in one call
        # at close (exactly what the Java client ends up doing for such a batch).
        self._buf = bytearray()
        self._pending_bytes = 0
        self._chunk = _CHUNK.get(self.compression, _NO_CHUNK)
        self._stream: StreamCompressor | None = None
        self._records: bytes | None = None
        self._closed = False
        self._attrs = CODEC_IDS[self.compression]

    # -- appending ---------------------------------------------------------------------

    def append(self, timestamp_ms: int, key: bytes | None, value: bytes | None,
               headers: Sequence[tuple[str, bytes | None]] = ()) -> int:
        """Encode one record into the batch; returns its encoded size in bytes.

        The hot path of every benchmark: table lookups for small varints, one join per
        record, no per-record objects beyond the record's bytes.
        """
        if self._closed:
            raise ValueError("cannot append to a closed RecordBatchBuilder")
        if type(timestamp_ms) is not int:
            timestamp_ms = _check_timestamp(timestamp_ms)
        count = self._count
        delta = timestamp_ms - self._base_ts if count else 0
        table = _ZZ
        try:
            if key is None:
                kpart = _NULL
                kb = b""
            else:
                kb = key
                klen = len(key)
                kpart = table[klen] if klen < _TABLE_SIZE else encode_varint(klen)
            if value is None:
                vpart = _NULL
                vb = b""
            else:
                vb = value
                vlen = len(value)
                vpart = table[vlen] if vlen < _TABLE_SIZE else encode_varint(vlen)
            body = b"".join((
                b"\x00",
                table[delta] if 0 <= delta < _TABLE_SIZE else encode_varint(delta),
                table[count] if count < _TABLE_SIZE else encode_varint(count),
                kpart, kb, vpart, vb,
                _encode_headers(headers) if headers else _ZERO,
            ))
        except TypeError as exc:
            if "header" in str(exc):
                raise
            raise TypeError(
                f"a record's key and value must be bytes or None (serialize first), got "
                f"key {type(key).__name__} and value {type(value).__name__}") from None
        # Nothing changed before this point: a bad record leaves the batch as it was.
        if count:
            if timestamp_ms > self._max_ts:  # noqa: PLR1730 - cheaper than max() here
                self._max_ts = timestamp_ms
        else:
            self._base_ts = self._max_ts = timestamp_ms
        blen = len(body)
        prefix = table[blen] if blen < _TABLE_SIZE else encode_varint(blen)
        buf = self._buf
        buf += prefix
        buf += body
        written = len(prefix) + blen
        self._uncompressed += written
        self._count = count + 1
        pending = self._pending_bytes + written
        if pending >= self._chunk:
            self._feed()
        else:
            self._pending_bytes = pending
        return written

    def _feed(self) -> None:
        """Hand the buffered records to the streaming compressor (creating it)."""
        if self._stream is None:
            self._stream = new_stream_compressor(self.compression, self.level)
        self._stream.write(bytes(self._buf))
        self._buf.clear()
        self._pending_bytes = 0

    # -- Kafka's fullness rules (MemoryRecordsBuilder.hasRoomFor / isFull) --------------

    def estimated_bytes_written(self, ratio: float | None = None) -> int:
        """61 + records, scaled by ``ratio × 1.05`` when compressed (Kafka's estimate)."""
        if ratio is None:
            ratio = self.estimated_compression_ratio
        return estimated_batch_size(self._uncompressed, ratio, self.compression)

    def is_full(self, write_limit: int | None = None, ratio: float | None = None) -> bool:
        """Closed, or holding records and at/over the write limit by the estimate."""
        limit = self.write_limit if write_limit is None else write_limit
        if self._closed:
            return True
        if limit is None:
            return False
        return self._count > 0 and limit <= self.estimated_bytes_written(ratio)

    def has_room_for(self, timestamp_ms: int, key: bytes | None, value: bytes | None,
                     headers: Sequence[tuple[str, bytes | None]] = (),
                     write_limit: int | None = None, ratio: float | None = None) -> bool:
        """Kafka's rule: the first record always fits; otherwise the estimate so far plus
        the next record's exact (uncompressed) size must stay within the write limit."""
        if self.is_full(write_limit, ratio):
            return False
        if self._count == 0:
            return True
        limit = self.write_limit if write_limit is None else write_limit
        if limit is None:
            return True
        size = record_size_in_bytes(self._count, timestamp_ms - self._base_ts, key, value,
                                    headers)
        return limit >= self.estimated_bytes_written(ratio) + size

    # -- state -------------------------------------------------------------------------

    @property
    def records_count(self) -> int:
        return self._count

    @property
    def uncompressed_bytes(self) -> int:
        """Size of the records section before compression."""
        return self._uncompressed

    @property
    def first_timestamp_ms(self) -> int | None:
        return self._base_ts

    @property
    def max_timestamp_ms(self) -> int | None:
        return self._max_ts

    @property
    def is_closed(self) -> bool:
        return self._closed

    @property
    def compressed_bytes(self) -> int:
        """Size of the records section after compression; final once closed (before that,
        the bytes the compressor has emitted so far)."""
        if self._records is not None:
            return len(self._records)
        if self.compression == "none":
            return self._uncompressed
        return self._stream.written if self._stream is not None else 0

    @property
    def compression_ratio(self) -> float:
        """compressed ÷ uncompressed records section (1.0 for none or when empty); what
        Kafka feeds to the ratio estimator when the batch closes."""
        if self._records is None or not self._uncompressed or self.compression == "none":
            return 1.0
        return len(self._records) / self._uncompressed

    def size_in_bytes(self) -> int:
        """Whole batch size once closed (61 + compressed records)."""
        self.close()
        return RECORD_BATCH_OVERHEAD + len(self._records)  # type: ignore[arg-type]

    def close(self) -> None:
        """Finish compression; no more appends.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        section = bytes(self._buf)
        self._buf = bytearray()
        if self.compression == "none":
            self._records = section
        elif self._stream is None:
            self._records = compress(self.compression, section, self.level)
        else:
            self._stream.write(section)
            self._records = self._stream.finish()
            self._stream = None

    def records_section(self) -> bytes:
        """The (compressed) records section, closing the builder if needed."""
        self.close()
        return self._records  # type: ignore[return-value]

    def build(self, *, producer_id: int = NO_PRODUCER_ID,
              producer_epoch: int = NO_PRODUCER_EPOCH, base_sequence: int = NO_SEQUENCE,
              base_offset: int = 0, partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
              is_transactional: bool = False) -> bytes:
        """The complete batch bytes (closes the builder first)."""
        if self._count == 0:
            raise ValueError("cannot build a RecordBatch with no records")
        self.close()
        records = self._records
        attrs = self._attrs | (TRANSACTIONAL_FLAG if is_transactional else 0)
        try:
            tail = _TAIL.pack(attrs, self._count - 1, self._base_ts, self._max_ts,
                              producer_id, producer_epoch, base_sequence, self._count)
            crc = _crc(records, _crc(tail))
            head = _HEAD.pack(base_offset, 49 + len(records), partition_leader_epoch,
                              MAGIC, crc)
        except struct.error as exc:
            raise ValueError(
                f"producer state out of range (producer_id int64, producer_epoch int16, "
                f"base_sequence/partition_leader_epoch int32, base_offset int64): {exc}"
            ) from None
        return b"".join((head, tail, records))  # type: ignore[arg-type]


def _check_timestamp(timestamp_ms: object) -> int:
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int):
        raise TypeError(f"timestamp_ms must be an int, not {type(timestamp_ms).__name__}")
    return int(timestamp_ms)


def build_batch(records: Sequence[tuple[int, bytes | None, bytes | None]] |
                Sequence[tuple[int, bytes | None, bytes | None, Sequence]],
                compression: str = "none", level: int | None = None, **state: int) -> bytes:
    """Convenience: a batch from ``(timestamp_ms, key, value[, headers])`` tuples."""
    builder = RecordBatchBuilder(compression, level)
    for rec in records:
        builder.append(*rec)
    return builder.build(**state)


# ---- decoding --------------------------------------------------------------------------

class BatchHeader(NamedTuple):
    """The 61-byte header of a RecordBatch v2, plus ``compression`` (the codec name) and
    ``size`` (total bytes of the batch)."""

    base_offset: int
    length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int
    compression: str
    is_transactional: bool
    is_control: bool
    size: int

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def last_sequence(self) -> int:
        """Sequence of the batch's last record (-1 without idempotence); wraps at 2^31."""
        if self.base_sequence < 0:
            return -1
        return (self.base_sequence + self.last_offset_delta) % (2**31)


class DecodedRecord(NamedTuple):
    """One record of a decoded batch, with its absolute offset and timestamp."""

    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    offset_delta: int = 0
    timestamp_delta: int = 0
    size: int = 0  # encoded size including the length prefix


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    base_offset: int
    length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    compression: str
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int
    is_transactional: bool
    is_control: bool
    records: list[DecodedRecord]
    size: int
    uncompressed_records_bytes: int

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta


def batch_header(data: bytes | bytearray | memoryview, *, verify_crc: bool = True
                 ) -> BatchHeader:
    """Read and check a batch's header without decompressing (what a broker needs).

    Checks the size, the batch length field, magic 2, the codec id and — unless
    ``verify_crc=False`` — the CRC-32C.  Raises :class:`CorruptRecordError` naming what is
    wrong.  ``data`` must hold exactly one batch (see :func:`iter_batches`).
    """
    size = len(data)
    if size < RECORD_BATCH_OVERHEAD:
        raise CorruptRecordError(
            f"a RecordBatch needs at least {RECORD_BATCH_OVERHEAD} bytes, got {size}")
    (base_offset, length, ple, magic, crc, attrs, last_delta, base_ts, max_ts, pid, epoch,
     seq, count) = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise CorruptRecordError(f"unsupported magic {magic} (only RecordBatch v2, magic 2)")
    if length + 12 != size:
        raise CorruptRecordError(
            f"batchLength field says {length + 12} bytes but the batch has {size}")
    if verify_crc:
        actual = _crc(memoryview(data)[21:]) if not isinstance(data, bytes) else _crc(
            data[21:])
        if actual != crc:
            raise CorruptRecordError(
                f"CRC mismatch: header says {crc:#010x}, computed {actual:#010x}")
    codec_id = attrs & CODEC_MASK
    if codec_id >= len(CODECS):
        raise CorruptRecordError(f"unknown compression codec id {codec_id} in attributes")
    if count < 0:
        raise CorruptRecordError(f"negative recordsCount {count}")
    return BatchHeader(base_offset, length, ple, magic, crc, attrs, last_delta, base_ts,
                       max_ts, pid, epoch, seq, count, CODECS[codec_id],
                       bool(attrs & TRANSACTIONAL_FLAG), bool(attrs & CONTROL_FLAG), size)


def decode_batch(data: bytes | bytearray | memoryview) -> DecodedBatch:
    """Validate (magic, length, CRC), decompress and parse one RecordBatch v2."""
    data = bytes(data)
    h = batch_header(data)
    try:
        section = decompress(h.compression, data[RECORD_BATCH_OVERHEAD:])
    except ValueError as exc:
        raise CorruptRecordError(f"cannot decompress the records section: {exc}") from None
    records: list[DecodedRecord] = []
    pos, end = 0, len(section)
    base_offset, base_ts = h.base_offset, h.base_timestamp
    rv = read_varint
    index = 0
    # Varints here are almost always one byte: decode those inline, others with read_varint.
    try:
        for index in range(h.records_count):
            if pos >= end:
                raise CorruptRecordError(
                    f"recordsCount says {h.records_count} records but the data ends after "
                    f"{index}")
            start = pos
            b = section[pos]
            if b < 0x80:
                length, pos = (b >> 1) ^ -(b & 1), pos + 1
            else:
                length, pos = rv(section, pos)
            if length < 0 or pos + length > end:
                raise CorruptRecordError(f"record {index} claims {length} bytes, past the end")
            body_end = pos + length
            pos += 1  # record attributes (unused)
            b = section[pos]
            if b < 0x80:
                ts_delta, pos = (b >> 1) ^ -(b & 1), pos + 1
            else:
                ts_delta, pos = rv(section, pos)
            b = section[pos]
            if b < 0x80:
                off_delta, pos = (b >> 1) ^ -(b & 1), pos + 1
            else:
                off_delta, pos = rv(section, pos)
            b = section[pos]
            if b == 1:
                key, pos = None, pos + 1
            else:
                key, pos = _read_bytes(section, pos, body_end, index, "key")
            b = section[pos]
            if b < 0x80 and not b & 1:
                n = b >> 1
                pos += 1
                if pos + n > body_end:
                    raise CorruptRecordError(
                        f"record {index}'s value ({n} bytes) overruns it")
                value = section[pos:pos + n]
                pos += n
            else:
                value, pos = _read_bytes(section, pos, body_end, index, "value")
            b = section[pos]
            headers: list[tuple[str, bytes | None]] = []
            if b:
                hcount, pos = rv(section, pos)
                if hcount < 0:
                    raise CorruptRecordError(
                        f"record {index} has a negative header count {hcount}")
                for _ in range(hcount):
                    hkey, pos = _read_bytes(section, pos, body_end, index, "header key")
                    if hkey is None:
                        raise CorruptRecordError(f"record {index} has a null header key")
                    hval, pos = _read_bytes(section, pos, body_end, index, "header value")
                    try:
                        headers.append((hkey.decode("utf-8"), hval))
                    except UnicodeDecodeError:
                        raise CorruptRecordError(
                            f"record {index} has a header key that is not UTF-8") from None
            else:
                pos += 1
            if pos != body_end:
                raise CorruptRecordError(
                    f"record {index} length says {length} bytes but its fields take "
                    f"{pos - (body_end - length)}")
            records.append(DecodedRecord(base_offset + off_delta, base_ts + ts_delta, key,
                                         value, headers, off_delta, ts_delta, pos - start))
    except IndexError:
        raise CorruptRecordError(f"record {index} runs past the end of the data") from None
    if pos != end:
        raise CorruptRecordError(
            f"{end - pos} bytes left after the batch's {h.records_count} records")
    if records and records[-1].offset_delta != h.last_offset_delta:
        raise CorruptRecordError(
            f"lastOffsetDelta is {h.last_offset_delta} but the last record has offset delta "
            f"{records[-1].offset_delta}")
    return DecodedBatch(h.base_offset, h.length, h.partition_leader_epoch, h.magic, h.crc,
                        h.attributes, h.compression, h.last_offset_delta, h.base_timestamp,
                        h.max_timestamp, h.producer_id, h.producer_epoch, h.base_sequence,
                        h.records_count, h.is_transactional, h.is_control, records, h.size,
                        end)


def _read_bytes(buf: bytes, pos: int, limit: int, index: int, what: str
                ) -> tuple[bytes | None, int]:
    length, pos = read_varint(buf, pos)
    if length < 0:
        if length != -1:
            raise CorruptRecordError(f"record {index} has an invalid {what} length {length}")
        return None, pos
    if pos + length > limit:
        raise CorruptRecordError(f"record {index}'s {what} ({length} bytes) overruns it")
    return buf[pos:pos + length], pos + length


def set_base_offset(data: bytes, base_offset: int,
                    partition_leader_epoch: int | None = None) -> bytes:
    """The same batch with the broker-assigned base offset and, optionally, the leader's
    epoch — both are outside the CRC, so the leader can stamp them without re-computing
    it (Kafka's ``setLastOffset``/``setPartitionLeaderEpoch``)."""
    if len(data) < RECORD_BATCH_OVERHEAD:
        raise CorruptRecordError(f"not a RecordBatch: {len(data)} bytes")
    if partition_leader_epoch is None:
        return _Q.pack(base_offset) + bytes(data[8:])
    return b"".join((_Q.pack(base_offset), bytes(data[8:12]),
                     struct.pack(">i", partition_leader_epoch), bytes(data[16:])))


def iter_batches(buf: bytes | bytearray | memoryview) -> Iterator[bytes]:
    """Split concatenated batches (a partition's log, a fetch response)."""
    view = memoryview(buf)
    pos, end = 0, len(view)
    while pos < end:
        if end - pos < 12:
            raise CorruptRecordError(f"{end - pos} trailing bytes are not a whole batch")
        (length,) = struct.unpack_from(">i", view, pos + 8)
        size = length + 12
        if length < RECORD_BATCH_OVERHEAD - 12 or pos + size > end:
            raise CorruptRecordError(
                f"batch at byte {pos} claims {size} bytes; {end - pos} remain")
        yield bytes(view[pos:pos + size])
        pos += size


__all__ = [
    "MAGIC",
    "MAX_RECORD_OVERHEAD",
    "RECORD_BATCH_OVERHEAD",
    "BatchHeader",
    "DecodedBatch",
    "DecodedRecord",
    "RecordBatchBuilder",
    "batch_header",
    "build_batch",
    "decode_batch",
    "encode_varint",
    "estimate_batch_size_upper_bound",
    "estimate_record_size",
    "iter_batches",
    "read_varint",
    "record_size_in_bytes",
    "set_base_offset",
    "size_of_varint",
]
