"""Faults as data: the scriptable operations on the mock cluster (docs/SEAMS.md §2).

A fault is a dict such as ``{"at_ms": 5000, "op": "stop_broker", "broker": 2}``.  The
lab's fault buttons, scenario scripts and replays all go through ``validate_fault`` and
``MockCluster.apply_fault``, so a learner's session can be replayed as a script.  A bad
dict raises ``FaultError`` naming the field and changes nothing.
"""

from __future__ import annotations

import math
from typing import Any

from producer_core.protocol import ErrorCode


class FaultError(ValueError):
    """A fault dict that cannot be applied; the message names the field and the rule."""


# op -> {field: kind}; kinds: broker, int_pos (>=1), int_nonneg (>=0), error, topic, partition,
# and "?"-suffixed kinds are optional.
FAULT_OPS: dict[str, dict[str, str]] = {
    "stop_broker": {"broker": "broker"},
    "start_broker": {"broker": "broker"},
    "slow_broker": {"broker": "broker", "extra_ms": "number_nonneg"},
    "cut_network": {"broker": "broker"},
    "restore_network": {"broker": "broker"},
    "fail_next": {"broker": "broker", "count": "int_pos", "error": "error"},
    "elect_leader": {"topic": "topic", "partition": "partition", "broker": "broker?"},
    "stale_metadata": {"broker": "broker", "duration_ms": "int_pos"},
}

FAULT_DESCRIPTIONS: dict[str, str] = {
    "stop_broker": "stop a broker: its connections drop, the controller elects new leaders "
                   "after the election delay",
    "start_broker": "start a stopped broker: it catches up, then rejoins the ISR",
    "slow_broker": "add extra_ms to every request the broker handles (0 restores it)",
    "cut_network": "cut the producer's network to a broker: requests vanish silently",
    "restore_network": "restore the producer's network to a broker",
    "fail_next": "fail the broker's next N produce requests with a named Kafka error",
    "elect_leader": "move a partition's leadership (to broker, or the preferred/next replica)",
    "stale_metadata": "freeze a broker's metadata cache for duration_ms",
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate_fault(d: Any, *, broker_ids: list[int] | None = None,
                   topics: dict[str, int] | None = None, where: str = "fault") -> dict:
    """Check one fault dict; return a normalised copy or raise ``FaultError``."""
    if not isinstance(d, dict):
        raise FaultError(f"{where}: must be an object with an 'op', got {type(d).__name__}")
    op = d.get("op")
    if op not in FAULT_OPS:
        raise FaultError(f"{where}.op: unknown fault {op!r}; known: {', '.join(FAULT_OPS)}")
    spec = FAULT_OPS[op]
    allowed = set(spec) | {"op", "at_ms"}
    for key in d:
        if key not in allowed:
            raise FaultError(f"{where}.{key}: not a field of {op} (fields: "
                             f"{', '.join(sorted(allowed))})")
    out: dict[str, Any] = {"op": op}
    if "at_ms" in d:
        at = d["at_ms"]
        if not _is_int(at) or at < 0:
            raise FaultError(f"{where}.at_ms: must be an integer >= 0, got {at!r}")
        out["at_ms"] = at
    for name, kind in spec.items():
        optional = kind.endswith("?")
        kind = kind.rstrip("?")
        if name not in d or d[name] is None:
            if optional:
                continue
            raise FaultError(f"{where}.{name}: required for {op}")
        v = d[name]
        path = f"{where}.{name}"
        if kind == "broker":
            if not _is_int(v):
                raise FaultError(f"{path}: must be a broker id (integer), got {v!r}")
            if broker_ids is not None and v not in broker_ids:
                raise FaultError(f"{path}: no broker {v}; brokers are {broker_ids}")
        elif kind == "int_pos":
            if not _is_int(v) or v < 1:
                raise FaultError(f"{path}: must be an integer >= 1, got {v!r}")
        elif kind == "number_nonneg":
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or math.isnan(v):
                raise FaultError(f"{path}: must be a number >= 0, got {v!r}")
        elif kind == "error":
            if isinstance(v, ErrorCode):
                v = v.name  # the enum member is as clear as its name (faults stay JSON data)
            if not isinstance(v, str):
                raise FaultError(f"{path}: must be a Kafka error name, got {v!r}")
            try:
                code = ErrorCode.by_name(v)
            except ValueError as e:
                raise FaultError(f"{path}: {e}") from None
            if code is ErrorCode.NONE:
                raise FaultError(f"{path}: NONE is not an error")
        elif kind == "topic":
            if not isinstance(v, str):
                raise FaultError(f"{path}: must be a topic name, got {v!r}")
            if topics is not None and v not in topics:
                raise FaultError(f"{path}: unknown topic {v!r}; topics: {sorted(topics)}")
        elif kind == "partition" and (not _is_int(v) or v < 0):
            raise FaultError(f"{path}: must be a partition number >= 0, got {v!r}")
        out[name] = v
    if op == "elect_leader" and topics is not None and out["partition"] >= topics[out["topic"]]:
        raise FaultError(f"{where}.partition: {out['topic']} has {topics[out['topic']]} "
                         f"partitions, got {out['partition']}")
    return out


def validate_script(faults: Any, *, broker_ids: list[int] | None = None,
                    topics: dict[str, int] | None = None, where: str = "faults") -> list[dict]:
    """Validate a fault script (a list of fault dicts with ``at_ms``); sorted by time,
    ties kept in script order."""
    if not isinstance(faults, list):
        raise FaultError(f"{where}: must be a list of faults, got {type(faults).__name__}")
    out = [validate_fault(f, broker_ids=broker_ids, topics=topics, where=f"{where}[{i}]")
           for i, f in enumerate(faults)]
    return sorted(out, key=lambda f: f.get("at_ms", 0))
