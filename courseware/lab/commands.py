"""Validation of every message a browser sends to a lab (docs/PROTOCOL.md).

``parse(text)`` turns raw WebSocket text into a ``Command`` or raises ``CommandError`` with a
code and a message that names what was wrong.  It checks shape only — types, ranges,
known names; the engine checks meaning (``ProducerConfig.from_dict`` rules, whether broker
3 exists) when the lab applies the command, and its error travels back the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from producer_core.protocol import ErrorCode

MAX_MESSAGE_BYTES = 8192
SPEEDS_MIN, SPEEDS_MAX = 0.001, 100.0
MAX_SEED = 2**31 - 1
MAX_STEP_COUNT = 1000
MAX_CLOSE_TIMEOUT_MS = 600_000

FAULT_OPS: dict[str, dict[str, tuple]] = {
    # op -> field -> (type, min, max); every listed field is required.
    "stop_broker": {"broker": (int, 0, 1000)},
    "start_broker": {"broker": (int, 0, 1000)},
    "slow_broker": {"broker": (int, 0, 1000), "extra_ms": (int, 0, 60000)},
    "cut_network": {"broker": (int, 0, 1000)},
    "restore_network": {"broker": (int, 0, 1000)},
    "fail_next": {"broker": (int, 0, 1000), "count": (int, 1, 1000), "error": (str,)},
    "elect_leader": {"topic": (str,), "partition": (int, 0, 10000)},
    "stale_metadata": {"broker": (int, 0, 1000), "duration_ms": (int, 1, 600000)},
}

KAFKA_ERRORS = tuple(e.name for e in ErrorCode if e.name != "NONE")

WORKLOAD_FIELDS: dict[str, tuple] = {
    "rate": (int, 0, 1_000_000),
    "value_bytes": (int, 1, 16384),  # the lab's own bound per data kind: session.py
    "threads": (int, 1, 64),
    "keys": (str,),
    "data": (str,),
    "pattern": (str,),
    "topic": (str,),
    "partitions": (int, 1, 64),
}
WORKLOAD_DATA = ("json-orders", "json-users", "random", "text", "fixed")
WORKLOAD_PATTERNS = ("steady", "bursty")

# type -> (allowed fields besides "type" and "ref")
COMMANDS: dict[str, tuple[str, ...]] = {
    "ping": (),
    "resync": ("have",),
    "pause": (),
    "resume": (),
    "step": ("count",),
    "speed": ("value",),
    "reset": ("seed",),
    "preset": ("id",),
    "config": ("set", "unset"),
    "workload": tuple(WORKLOAD_FIELDS),
    "fault": ("op", "broker", "extra_ms", "count", "error", "topic", "partition", "duration_ms"),
    "flush": (),
    "close": ("timeout_ms",),
}


class CommandError(ValueError):
    """A message the lab refuses; ``code`` is one of PROTOCOL.md's error codes."""

    def __init__(self, code: str, message: str, ref: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


@dataclass(frozen=True)
class Command:
    type: str
    args: dict[str, Any] = field(default_factory=dict)
    ref: str | int | None = None


def _check_number(name: str, value: Any, spec: tuple, ref: Any) -> int | float:
    kind, low, high = spec
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CommandError("invalid", f"{name} must be a number, got {_short(value)}", ref)
    # Bound the magnitude before any arithmetic: math.isfinite/float() of a 400-digit integer
    # raise OverflowError, and that must be an error message, never a closed socket.
    if isinstance(value, int) and abs(value) > _MAX_MAGNITUDE:
        raise CommandError("invalid", f"{name} must be between {low} and {high}, got a "
                                      f"{value.bit_length()}-bit integer", ref)
    if isinstance(value, float) and not math.isfinite(value):
        raise CommandError("invalid", f"{name} must be finite, got {value!r}", ref)
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise CommandError("invalid", f"{name} must be a whole number, got {value!r}", ref)
        value = int(value)
    elif not math.isfinite(value):
        raise CommandError("invalid", f"{name} must be finite, got {value!r}", ref)
    if not low <= value <= high:
        raise CommandError("invalid", f"{name} must be between {low} and {high}, got {value!r}",
                           ref)
    return value


_MAX_MAGNITUDE = 2**63


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_str(name: str, value: Any, ref: Any, max_len: int = 64) -> str:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise CommandError("invalid", f"{name} must be a non-empty string of at most {max_len} "
                                      f"characters, got {value!r}"[:300], ref)
    return value


def _check_scalar(name: str, value: Any, ref: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_MAGNITUDE:
        raise CommandError("invalid", f"value for {name} is out of range (at most 2**63)", ref)
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, str) and len(value) > 256:
            raise CommandError("invalid", f"value for {name} is too long", ref)
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise CommandError("invalid", f"value for {name} must be a string, number or boolean, "
                                  f"got {type(value).__name__}", ref)


def parse(text: str | bytes | None) -> Command:
    """Parse and shape-check one message from a browser."""
    if text is None:
        raise CommandError("bad_json", "binary frames are not accepted; send JSON text")
    if isinstance(text, bytes):
        raise CommandError("bad_json", "binary frames are not accepted; send JSON text")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise CommandError("too_large", f"message larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise CommandError("bad_json", "message is not valid JSON") from None
    if not isinstance(data, dict):
        raise CommandError("invalid", "message must be a JSON object with a \"type\"")
    ref = data.get("ref")
    if ref is not None and not (
        (isinstance(ref, str) and len(ref) <= 40)
        or (isinstance(ref, int) and not isinstance(ref, bool) and abs(ref) < 2**53)
    ):
        raise CommandError("invalid", "ref must be a short string or an integer")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise CommandError("invalid", "message needs a string \"type\"", ref)
    if kind not in COMMANDS:
        raise CommandError("unknown_type", f"unknown message type {kind[:40]!r}; known: "
                                           f"{', '.join(sorted(COMMANDS))}", ref)
    allowed = COMMANDS[kind]
    args = {k: v for k, v in data.items() if k not in ("type", "ref")}
    extra = sorted(set(args) - set(allowed))
    if extra:
        raise CommandError("invalid", f"{kind}: unexpected field(s) "
                                      f"{', '.join(repr(e[:40]) for e in extra[:5])}", ref)
    checker = _CHECKS.get(kind)
    if checker is not None:
        args = checker(args, ref)
    return Command(kind, args, ref)


def _step(args: dict, ref: Any) -> dict:
    count = args.get("count", 1)
    return {"count": _check_number("count", count, (int, 1, MAX_STEP_COUNT), ref)}


def _speed(args: dict, ref: Any) -> dict:
    if "value" not in args:
        raise CommandError("invalid", "speed needs a \"value\" (e.g. 0.01 or 1)", ref)
    return {"value": float(_check_number("speed", args["value"], (float, SPEEDS_MIN, SPEEDS_MAX),
                                         ref))}


def _reset(args: dict, ref: Any) -> dict:
    if args.get("seed") is None:
        return {"seed": None}
    return {"seed": _check_number("seed", args["seed"], (int, 0, MAX_SEED), ref)}


def _resync(args: dict, ref: Any) -> dict:
    have = args.get("have")
    if have is None:
        return {}
    return {"have": _check_number("have", have, (int, -1, 2**53), ref)}


def _close(args: dict, ref: Any) -> dict:
    """``close`` with an optional ``timeout_ms`` (absent: wait as long as it takes)."""
    if args.get("timeout_ms") is None:
        return {"timeout_ms": None}
    return {"timeout_ms": _check_number("timeout_ms", args["timeout_ms"],
                                        (int, 0, MAX_CLOSE_TIMEOUT_MS), ref)}


def _preset(args: dict, ref: Any) -> dict:
    from producer_core import presets

    preset_id = _check_str("preset id", args.get("id"), ref)
    if preset_id not in presets.names():
        raise CommandError("invalid", f"unknown preset {preset_id!r}; known: "
                                      f"{', '.join(presets.names())}", ref)
    return {"id": preset_id}


def _config(args: dict, ref: Any) -> dict:
    values = args.get("set", {})
    unset = args.get("unset", [])
    if not isinstance(values, dict):
        raise CommandError("invalid", "config \"set\" must be an object of Kafka properties", ref)
    if not isinstance(unset, list) or not all(isinstance(k, str) for k in unset):
        raise CommandError("invalid", "config \"unset\" must be a list of property names", ref)
    if not values and not unset:
        raise CommandError("invalid", "config needs \"set\" or \"unset\"", ref)
    if len(values) + len(unset) > 64:
        raise CommandError("invalid", "too many properties in one config message", ref)
    clean = {}
    for key, value in values.items():
        _check_str("property name", key, ref, max_len=80)
        clean[key] = _check_scalar(key, value, ref)
    for key in unset:
        _check_str("property name", key, ref, max_len=80)
    return {"set": clean, "unset": list(unset)}


def _workload(args: dict, ref: Any) -> dict:
    if not args:
        raise CommandError("invalid", "workload needs at least one field, e.g. \"rate\"", ref)
    clean: dict[str, Any] = {}
    for name, value in args.items():
        spec = WORKLOAD_FIELDS[name]
        if spec[0] is str:
            clean[name] = _check_str(name, value, ref)
        else:
            clean[name] = _check_number(name, value, spec, ref)
    if "data" in clean and clean["data"] not in WORKLOAD_DATA:
        raise CommandError("invalid", f"data must be one of {', '.join(WORKLOAD_DATA)}", ref)
    if "pattern" in clean and clean["pattern"] not in WORKLOAD_PATTERNS:
        raise CommandError("invalid", f"pattern must be one of {', '.join(WORKLOAD_PATTERNS)}",
                           ref)
    if "keys" in clean:
        keys = clean["keys"]
        head, _, tail = keys.partition(":")
        ok = keys in ("none", "sequential") or (
            head in ("uniform", "zipf") and tail.isdigit() and 1 <= int(tail) <= 100_000)
        if not ok:
            raise CommandError("invalid", "keys must be none, sequential, uniform:N or zipf:N "
                                          f"(N from 1 to 100000), got {keys!r}", ref)
    if "topic" in clean and not all(c.isalnum() or c in "._-" for c in clean["topic"]):
        raise CommandError("invalid", "topic names use letters, digits, '.', '_' and '-'", ref)
    return clean


def _fault(args: dict, ref: Any) -> dict:
    op = args.get("op")
    if not isinstance(op, str) or op not in FAULT_OPS:  # a dict/list op is unhashable
        raise CommandError("invalid", f"unknown fault op {str(op)[:40]!r}; known: "
                                      f"{', '.join(FAULT_OPS)}", ref)
    spec = FAULT_OPS[op]
    extra = sorted(set(args) - set(spec) - {"op"})
    if extra:
        raise CommandError("invalid", f"fault {op}: unexpected field(s) {', '.join(extra)}", ref)
    clean: dict[str, Any] = {"op": op}
    for name, rule in spec.items():
        if name not in args:
            raise CommandError("invalid", f"fault {op} needs {name!r}", ref)
        if rule[0] is str:
            clean[name] = _check_str(name, args[name], ref)
        else:
            clean[name] = _check_number(name, args[name], rule, ref)
    if op == "fail_next" and clean["error"] not in KAFKA_ERRORS:
        raise CommandError("invalid", f"unknown Kafka error {clean['error']!r}; known: "
                                      f"{', '.join(KAFKA_ERRORS)}", ref)
    return clean


def check_fault(args: dict) -> dict:
    """A fault's fields checked as the lab checks a ``fault`` command (rooms' scenes)."""
    return _fault(dict(args), None)


_CHECKS = {
    "step": _step,
    "speed": _speed,
    "reset": _reset,
    "resync": _resync,
    "preset": _preset,
    "config": _config,
    "workload": _workload,
    "fault": _fault,
    "close": _close,
}
