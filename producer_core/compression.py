"""The five codecs of a Kafka producer, framed exactly as Kafka frames them, and the
compression-ratio estimator that decides when a compressed batch is "full".

Framing (what a broker or any Kafka client expects inside a RecordBatch v2):

- ``gzip``: a gzip member (zlib, wbits 31).  Kafka's level -1 means zlib's default (6).
- ``snappy``: *xerial* framing, as snappy-java's ``SnappyOutputStream``: a 16-byte header
  (``\\x82SNAPPY\\x00``, version 1, compatible version 1), then 32 KiB input blocks, each
  a big-endian int32 length and a raw snappy block.
- ``lz4``: the LZ4 frame format as ``Lz4BlockOutputStream`` writes it: 64 KiB independent
  blocks, no block or content checksum, no content size.  Level 9 (the default) uses lz4's
  fast compressor, any other level its high-compression mode, as Kafka does.
- ``zstd``: one standard zstd frame.

Like the Java client, a batch is compressed *while records are appended*: a
:class:`StreamCompressor` takes bytes as they come and emits compressed bytes whenever a
block boundary is reached (Java buffers 16 KiB in front of gzip and zstd; snappy and lz4
work in their own block sizes).
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import cramjam
import lz4.frame
import zstandard

CODECS: tuple[str, ...] = ("none", "gzip", "snappy", "lz4", "zstd")
CODEC_IDS: dict[str, int] = {name: i for i, name in enumerate(CODECS)}

#: Kafka's default levels (``compression.<codec>.level``); snappy and none have none.
DEFAULT_LEVELS: dict[str, int] = {"gzip": -1, "lz4": 9, "zstd": 3}
#: Valid level ranges (gzip also accepts -1).
LEVEL_RANGES: dict[str, tuple[int, int]] = {"gzip": (1, 9), "lz4": (1, 17),
                                            "zstd": (-131072, 22)}

#: Kafka over-estimates a compressed batch's size by 5% (``COMPRESSION_RATE_ESTIMATION_FACTOR``).
COMPRESSION_RATE_ESTIMATION_FACTOR = 1.05
#: Steps of ``CompressionRatioEstimator``: worse ratios are adopted fast, better ones slowly.
COMPRESSION_RATIO_DETERIORATE_STEP = 0.05
COMPRESSION_RATIO_IMPROVING_STEP = 0.005
#: RecordBatch v2 header size (``DefaultRecordBatch.RECORD_BATCH_OVERHEAD``).
RECORD_BATCH_OVERHEAD = 61

XERIAL_HEADER = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)
XERIAL_BLOCK_SIZE = 32 * 1024
LZ4_BLOCK_SIZE = 64 * 1024
#: Java puts a 16 KiB BufferedOutputStream in front of gzip and zstd.
STREAM_BUFFER_SIZE = 16 * 1024

_pack_i32 = struct.Struct(">i").pack
_unpack_i32 = struct.Struct(">i").unpack_from


def codec_name(codec: str | int) -> str:
    """Normalise a codec given by name or Kafka id (attributes bits 0-2)."""
    if isinstance(codec, bool):  # a bool is an int in Python, never a codec id here
        raise ValueError(f"unknown compression codec {codec!r}")  # noqa: TRY004
    if isinstance(codec, int):
        if 0 <= codec < len(CODECS):
            return CODECS[codec]
        raise ValueError(f"unknown compression codec id {codec}; known: 0..4 ({', '.join(CODECS)})")
    if codec in CODEC_IDS:
        return codec
    raise ValueError(f"unknown compression codec {codec!r}; known: {', '.join(CODECS)}")


def effective_level(codec: str, level: int | None) -> int | None:
    """The level a codec really runs at: None → Kafka's default; checked against Kafka's
    range.  gzip's -1 becomes zlib's 6; snappy and none have no level."""
    codec = codec_name(codec)
    if codec in ("none", "snappy"):
        return None
    if level is None:
        level = DEFAULT_LEVELS[codec]
    if isinstance(level, bool) or not isinstance(level, int):
        raise TypeError(f"compression level must be an int, not {type(level).__name__}")
    low, high = LEVEL_RANGES[codec]
    if codec == "gzip" and level == -1:
        return 6
    if not low <= level <= high:
        raise ValueError(f"{codec} level {level} is outside Kafka's range {low}..{high}"
                         + (" (or -1)" if codec == "gzip" else ""))
    return level


# ---- streaming compressors -------------------------------------------------------------

class StreamCompressor:
    """Takes uncompressed bytes in any pieces; ``finish()`` returns the whole compressed
    stream.  ``written`` counts compressed bytes produced so far (what is already
    "in the buffer" of a Java batch)."""

    codec = "none"

    def __init__(self) -> None:
        # Output pieces, joined once at the end (one copy instead of one per piece).
        self._parts: list[Any] = []
        self._written = 0
        self._finished = False
        self.bytes_in = 0

    @property
    def written(self) -> int:
        return self._written

    def _emit(self, piece: Any) -> None:
        if piece:
            self._parts.append(piece)
            self._written += len(piece)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._finished:
            raise ValueError("write() after finish()")
        self.bytes_in += len(data)
        self._emit(bytes(data))

    def finish(self) -> bytes:
        """End the stream (idempotent) and return every compressed byte."""
        self._finished = True
        return b"".join(self._parts)


class _BufferedCompressor(StreamCompressor):
    """Collects input up to a block size, then hands whole blocks to ``_block``."""

    block_size = STREAM_BUFFER_SIZE

    def __init__(self) -> None:
        super().__init__()
        self._pending = bytearray()
        self._result: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._finished:
            raise ValueError("write() after finish()")
        view = memoryview(data)
        self.bytes_in += len(view)
        size = self.block_size
        pending = self._pending
        if pending:  # top up the partial block first
            need = size - len(pending)
            if len(view) < need:
                pending += view
                return
            pending += view[:need]
            self._block(memoryview(pending))
            self._pending = pending = bytearray()
            view = view[need:]
        # whole blocks straight from the caller's bytes, no copy
        whole = len(view) - len(view) % size
        for start in range(0, whole, size):
            self._block(view[start:start + size])
        if whole < len(view):
            pending += view[whole:]

    def _block(self, block: memoryview) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        raise NotImplementedError

    def finish(self) -> bytes:
        if self._result is None:
            self._finished = True
            if self._pending:
                self._block(memoryview(self._pending))
                self._pending = bytearray()
            self._end()
            self._result = b"".join(self._parts)
        return self._result


class _DirectCompressor(StreamCompressor):
    """gzip and zstd keep their own window: input goes straight to the codec (the caller,
    like Java's 16 KiB BufferedOutputStream, already hands it over in sizeable pieces)."""

    def __init__(self) -> None:
        super().__init__()
        self._result: bytes | None = None
        self._c: Any = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._finished:
            raise ValueError("write() after finish()")
        self.bytes_in += len(data)
        self._emit(self._c.compress(data))

    def finish(self) -> bytes:
        if self._result is None:
            self._finished = True
            self._emit(self._c.flush())
            self._result = b"".join(self._parts)
        return self._result


class GzipCompressor(_DirectCompressor):
    codec = "gzip"

    def __init__(self, level: int | None = None) -> None:
        super().__init__()
        self.level = effective_level("gzip", level)
        self._c = zlib.compressobj(self.level, zlib.DEFLATED, 31)


class SnappyCompressor(_BufferedCompressor):
    """xerial framing: header, then (int32 length, raw snappy block) per 32 KiB of input."""

    codec = "snappy"
    block_size = XERIAL_BLOCK_SIZE

    def __init__(self, level: int | None = None) -> None:
        super().__init__()
        self.level = None
        self._emit(XERIAL_HEADER)

    def _block(self, block: memoryview) -> None:
        compressed = cramjam.snappy.compress_raw(block)
        self._emit(_pack_i32(len(compressed)))
        self._emit(compressed)

    def _end(self) -> None:
        pass


class Lz4Compressor(_BufferedCompressor):
    """LZ4 frame with Kafka's settings: 64 KiB independent blocks, no checksums."""

    codec = "lz4"
    block_size = LZ4_BLOCK_SIZE

    def __init__(self, level: int | None = None) -> None:
        super().__init__()
        self.level = effective_level("lz4", level)
        self._c = _lz4_frame_compressor(self.level)
        self._emit(self._c.begin())

    def _block(self, block: memoryview) -> None:
        self._emit(self._c.compress(block))

    def _end(self) -> None:
        self._emit(self._c.flush())


def _lz4_py_level(level: int) -> int:
    # Kafka: level 9 = lz4-java's fastCompressor (python-lz4 level 0); other levels use
    # the high-compression mode at that level (lz4 caps HC levels; python-lz4 at 16).
    # python-lz4 runs levels 1-2 with its fast mode where lz4-java uses HC 1-2: the frames
    # are equally valid, the bytes differ slightly.
    return 0 if level == DEFAULT_LEVELS["lz4"] else min(level, 16)


def _lz4_frame_compressor(level: int) -> Any:
    return lz4.frame.LZ4FrameCompressor(
        block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=False,
        content_checksum=False, block_checksum=False, compression_level=_lz4_py_level(level),
        auto_flush=False)


# zstandard's (de)compressor objects are not thread-safe: one shared between threads (a
# daphne serving labs while a worker thread measures codecs) corrupts memory and crashes the
# process. Each thread gets contexts of its own, reused across calls for speed.
_ZSTD_LOCAL = threading.local()


def _zstd_compressor(level: int) -> zstandard.ZstdCompressor:
    per_level = getattr(_ZSTD_LOCAL, "cctx", None)
    if per_level is None:
        per_level = _ZSTD_LOCAL.cctx = {}
    cctx = per_level.get(level)
    if cctx is None:
        cctx = per_level[level] = zstandard.ZstdCompressor(level=level)
    return cctx


def _zstd_decompressor() -> zstandard.ZstdDecompressor:
    dctx = getattr(_ZSTD_LOCAL, "dctx", None)
    if dctx is None:
        dctx = _ZSTD_LOCAL.dctx = zstandard.ZstdDecompressor()
    return dctx


class ZstdCompressor(_DirectCompressor):
    codec = "zstd"

    def __init__(self, level: int | None = None) -> None:
        super().__init__()
        self.level = effective_level("zstd", level)
        # A context of its own: compressobj()s of one shared ZstdCompressor share its
        # context, so two batches open at once (two partitions) would corrupt each other.
        self._c = zstandard.ZstdCompressor(level=self.level).compressobj()


_STREAMS: dict[str, Callable[..., StreamCompressor]] = {
    "none": lambda level=None: StreamCompressor(),
    "gzip": GzipCompressor, "snappy": SnappyCompressor, "lz4": Lz4Compressor,
    "zstd": ZstdCompressor,
}


def new_stream_compressor(codec: str | int, level: int | None = None) -> StreamCompressor:
    """A fresh streaming compressor for one batch's records section."""
    return _STREAMS[codec_name(codec)](level)


# ---- one-shot ------------------------------------------------------------------------

def compress(codec: str | int, data: bytes | bytearray | memoryview,
             level: int | None = None) -> bytes:
    """Compress ``data`` in one go, framed as Kafka frames it (see the module docstring)."""
    codec = codec_name(codec)
    if codec == "none":
        return bytes(data)
    if codec == "gzip":
        z = zlib.compressobj(effective_level("gzip", level), zlib.DEFLATED, 31)
        return z.compress(data) + z.flush()
    if codec == "snappy":
        parts: list[Any] = [XERIAL_HEADER]
        view = memoryview(data)
        compress_raw = cramjam.snappy.compress_raw
        for start in range(0, len(view), XERIAL_BLOCK_SIZE):
            block = compress_raw(view[start:start + XERIAL_BLOCK_SIZE])
            parts.append(_pack_i32(len(block)))
            parts.append(block)
        return b"".join(parts)
    if codec == "lz4":
        # One call, same frame as the streaming compressor writes (tested byte for byte).
        return lz4.frame.compress(
            data, compression_level=_lz4_py_level(effective_level("lz4", level)),
            block_size=lz4.frame.BLOCKSIZE_MAX64KB, block_linked=False,
            content_checksum=False, block_checksum=False, store_size=False)
    c = _zstd_compressor(effective_level("zstd", level)).compressobj()
    return c.compress(data) + c.flush()


def decompress(codec: str | int, data: bytes | bytearray | memoryview) -> bytes:
    """Undo :func:`compress` (and any conforming producer's output).

    Raises ``ValueError`` with the codec's complaint for corrupt input.
    """
    codec = codec_name(codec)
    try:
        if codec == "none":
            return bytes(data)
        if codec == "gzip":
            return zlib.decompress(data, 47)  # 47: accept gzip or zlib headers
        if codec == "snappy":
            return _snappy_decompress(bytes(data))
        if codec == "lz4":
            return lz4.frame.decompress(data)
        return _zstd_decompressor().decompressobj(read_across_frames=True).decompress(data)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - zlib.error, lz4's RuntimeError, ZstdError...
        raise ValueError(f"{codec} data is corrupt: {exc}") from None


def _snappy_decompress(data: bytes) -> bytes:
    if not data.startswith(XERIAL_HEADER[:8]):
        return bytes(cramjam.snappy.decompress_raw(data))
    out = bytearray()
    pos, end = 16, len(data)
    while pos < end:
        if pos + 4 > end:
            raise ValueError("snappy (xerial) block length is truncated")
        (length,) = _unpack_i32(data, pos)
        pos += 4
        if length < 0 or pos + length > end:
            raise ValueError(f"snappy (xerial) block of {length} bytes overruns the data")
        out += cramjam.snappy.decompress_raw(data[pos:pos + length])
        pos += length
    return bytes(out)


# ---- the ratio estimator ----------------------------------------------------------------

class CompressionRatioEstimator:
    """Per-(topic, codec) estimate of compressed ÷ uncompressed size (Kafka's
    ``CompressionRatioEstimator``), used to decide when a compressed batch is full.

    Starts at 1.0.  After each closed batch, ``update_estimation`` moves it towards the
    observed ratio: if the batch compressed *worse* than estimated, jump to
    ``max(estimate + 0.05, observed)`` (never under-estimate for long: a batch would
    overflow); if *better*, creep down by at most 0.005 (``max(estimate - 0.005,
    observed)``) so one lucky batch does not make the next ones too big.
    """

    INITIAL = 1.0

    def __init__(self) -> None:
        self._ratios: dict[tuple[str, str], float] = {}

    def estimation(self, topic: str, codec: str) -> float:
        return self._ratios.get((topic, codec), self.INITIAL)

    def update_estimation(self, topic: str, codec: str, observed: float) -> float:
        key = (topic, codec)
        current = self._ratios.get(key, self.INITIAL)
        if observed > current:
            current = max(current + COMPRESSION_RATIO_DETERIORATE_STEP, observed)
        elif observed < current:
            current = max(current - COMPRESSION_RATIO_IMPROVING_STEP, observed)
        self._ratios[key] = current
        return current

    def set_estimation(self, topic: str, codec: str, ratio: float) -> None:
        self._ratios[(topic, codec)] = float(ratio)

    def reset_estimation(self, topic: str) -> None:
        for key in [k for k in self._ratios if k[0] == topic]:
            del self._ratios[key]

    def snapshot(self) -> dict[str, dict[str, float]]:
        """JSON-safe ``{topic: {codec: ratio}}`` for the UI."""
        out: dict[str, dict[str, float]] = {}
        for (topic, codec), ratio in sorted(self._ratios.items()):
            out.setdefault(topic, {})[codec] = round(ratio, 6)
        return out


def estimated_batch_size(uncompressed_records_bytes: int, ratio: float, codec: str) -> int:
    """Kafka's ``MemoryRecordsBuilder.estimatedBytesWritten`` for a v2 batch: the 61-byte
    header plus the records, scaled by ``ratio × 1.05`` when compressed."""
    if codec == "none":
        return RECORD_BATCH_OVERHEAD + uncompressed_records_bytes
    return RECORD_BATCH_OVERHEAD + int(
        uncompressed_records_bytes * ratio * COMPRESSION_RATE_ESTIMATION_FACTOR)


# ---- measuring --------------------------------------------------------------------------

def _level_plan(levels: Any) -> list[tuple[str, int | None]]:
    if levels is None:
        return [(c, DEFAULT_LEVELS.get(c)) for c in CODECS]
    plan: list[tuple[str, int | None]] = []
    if isinstance(levels, Mapping):
        for codec, lv in levels.items():
            codec = codec_name(codec)
            for level in (lv if isinstance(lv, (list, tuple)) else [lv]):
                plan.append((codec, level))
    else:
        for item in levels:
            if isinstance(item, str):
                plan.append((codec_name(item), DEFAULT_LEVELS.get(item)))
            else:
                codec, level = item
                plan.append((codec_name(codec), level))
    for codec, level in plan:
        if codec not in ("none", "snappy"):
            effective_level(codec, level)
    return plan


def measure_codecs(
    sample: bytes, levels: Any = None, *, timer: Callable[[], float],
    min_time_s: float = 0.02, max_rounds: int = 200,
) -> list[dict[str, Any]]:
    """Compress and decompress ``sample`` with each codec and report what happened.

    ``levels``: None (every codec at Kafka's default level), a mapping
    ``{"zstd": [1, 3, 9]}``, or a list of codec names / ``(codec, level)`` pairs.
    ``timer`` is required (e.g. ``time.perf_counter``): the engine never reads the clock
    itself.  ``ratio`` is compressed ÷ uncompressed, like Kafka's ``compression-rate-avg``
    (lower is better).  Speeds are MB/s of *uncompressed* bytes (1 MB = 10^6 bytes).
    """
    if not isinstance(sample, (bytes, bytearray, memoryview)):
        raise TypeError(f"sample must be bytes, not {type(sample).__name__}")
    if not callable(timer):
        raise TypeError("timer must be a callable returning seconds, e.g. time.perf_counter")
    sample = bytes(sample)
    results = []
    for codec, level in _level_plan(levels):
        compressed = compress(codec, sample, level)
        if decompress(codec, compressed) != sample:
            raise AssertionError(f"{codec} did not round-trip the sample")  # a codec bug
        results.append({
            "codec": codec,
            "level": level,
            "uncompressed_bytes": len(sample),
            "compressed_bytes": len(compressed),
            "ratio": round(len(compressed) / len(sample), 4) if sample else 1.0,
            "compress_mb_s": _speed(
                lambda c=codec, lv=level: compress(c, sample, lv), len(sample), timer,
                min_time_s, max_rounds),
            "decompress_mb_s": _speed(
                lambda c=codec, data=compressed: decompress(c, data), len(sample), timer,
                min_time_s, max_rounds),
        })
    return results


def _speed(fn: Callable[[], Any], size: int, timer: Callable[[], float],
           min_time_s: float, max_rounds: int) -> float:
    rounds, start = 0, timer()
    elapsed = 0.0
    while rounds < max_rounds and (rounds == 0 or elapsed < min_time_s):
        fn()
        rounds += 1
        elapsed = timer() - start
    if elapsed <= 0:
        return float("inf")
    return round(size * rounds / elapsed / 1e6, 2)


def iter_codecs() -> Iterable[str]:
    return iter(CODECS)


__all__ = [
    "CODECS",
    "CODEC_IDS",
    "COMPRESSION_RATE_ESTIMATION_FACTOR",
    "DEFAULT_LEVELS",
    "LEVEL_RANGES",
    "CompressionRatioEstimator",
    "StreamCompressor",
    "codec_name",
    "compress",
    "decompress",
    "effective_level",
    "estimated_batch_size",
    "measure_codecs",
    "new_stream_compressor",
]
