"""Producer configuration: Kafka's property names, Kafka 4.x defaults and Kafka's rules.

``ProducerConfig()`` is exactly Apache Kafka 4.x's default producer.  ``from_dict`` takes
Kafka names with Python values *or* the strings of a ``producer.properties`` file / HTML
form (``"16384"``, ``"all"``, ``"true"``), coerces them as Kafka's ``ConfigDef`` does and
rejects anything Kafka would reject with a :class:`~producer_core.errors.ConfigError`
naming the key, the value and the rule.  The object is immutable; ``with_overrides``
returns a new one, re-validated as a whole (so switching ``acks`` back to ``all`` turns
default idempotence back on, as in Kafka).

Cross-field rules, as Kafka applies them (``ProducerConfig.postProcessParsedConfig`` and
``KafkaProducer.configureDeliveryTimeout``):

- *Idempotence* (on by default).  If ``enable.idempotence`` was set explicitly to true,
  ``acks`` other than all or ``retries=0`` is an error; if it was left at its default, the
  producer silently switches idempotence off (``notes`` tells the learner why).
  ``max.in.flight.requests.per.connection`` above 5 is an error whenever idempotence is
  on before that switch (i.e. unless ``enable.idempotence=false`` was set) — Kafka 4.x made
  this an error even for the default.
- *Delivery timeout*: ``delivery.timeout.ms`` must be at least ``linger.ms +
  request.timeout.ms``.  Set explicitly, a smaller value is an error; left at its default,
  Kafka quietly raises it to that sum (a note says so).
- ``reconnect.backoff.ms`` set without ``reconnect.backoff.max.ms`` disables exponential
  reconnect backoff (the max becomes the base); ``retry.backoff.ms`` above
  ``retry.backoff.max.ms`` gives a fixed backoff of ``retry.backoff.max.ms``.

Simplifications, said plainly: ``key.serializer``/``value.serializer`` default to bytes
(Kafka requires them); ``transactional.id`` is refused because transactions are not
simulated; networking keys (``bootstrap.servers``, socket buffers, ...) are accepted and
shown but have no effect, and ``notes`` says so when they are set.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from producer_core.compression import effective_level
from producer_core.errors import ConfigError

INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1
INT_MIN = -(2**31)
LONG_MIN = -(2**63)

#: With idempotence the broker keeps the sequence state of this many in-flight batches.
MAX_IN_FLIGHT_FOR_IDEMPOTENCE = 5

COMPRESSION_TYPES = ("none", "gzip", "snappy", "lz4", "zstd")
GROUPS = ("batching", "memory", "delivery", "compression", "partitioning", "metadata",
          "serialization", "other")

_DECIMAL = re.compile(r"^[+-]?[0-9]+$")


@dataclass(frozen=True)
class ConfigKey:
    """Metadata of one producer setting, for validation, the lab's control panel and the
    course.  ``simulated=False`` marks settings we accept (so a real producer.properties
    loads) but which change nothing in a simulation without sockets."""

    name: str
    attr: str
    type: str  # int | long | bool | string | list | class | acks | compression | serializer
    default: Any
    doc: str
    group: str
    importance: str = "medium"  # high | medium | low, as Kafka ranks it
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] | None = None
    unit: str | None = None  # "ms" | "bytes" | None
    simulated: bool = True
    note: str | None = None  # a fact learners get wrong, shown beside the control

    @property
    def rule(self) -> str:
        """The validity rule in words, as the UI shows it."""
        if self.name == "compression.gzip.level":
            return "-1 (zlib default, 6) or between 1 and 9"
        if self.choices is not None:
            return "one of: " + ", ".join(self.choices)
        if self.min is not None and self.max is not None:
            return f"between {self.min} and {self.max}"
        if self.min is not None:
            return f"at least {self.min}"
        return {"bool": "true or false", "list": "a comma-separated list"}.get(self.type, "any")


def _k(name: str, type_: str, default: Any, group: str, doc: str, **kw: Any) -> ConfigKey:
    return ConfigKey(name=name, attr=name.replace(".", "_").replace("-", "_"), type=type_,
                     default=default, doc=doc, group=group, **kw)


_KEYS: list[ConfigKey] = [
    # batching
    _k("batch.size", "int", 16384, "batching",
       "Target size in bytes of one partition's batch; a batch is sent once it is full "
       "(one record larger than this gets a batch of its own). 0 disables batching.",
       importance="medium", min=0, unit="bytes"),
    _k("linger.ms", "long", 5, "batching",
       "How long a non-full batch may wait for more records before it becomes sendable.",
       importance="medium", min=0, unit="ms",
       note="The default is 5 ms since Kafka 4.0 (KIP-1030); it was 0 before, as most "
            "older articles still say."),
    # memory
    _k("buffer.memory", "long", 33554432, "memory",
       "Total bytes the producer may hold in batches waiting to be sent; when it is used "
       "up, send() blocks.", importance="high", min=0, unit="bytes"),
    _k("max.block.ms", "long", 60000, "memory",
       "How long send() may block waiting for buffer memory or topic metadata before it "
       "fails with a timeout.", importance="medium", min=0, unit="ms"),
    # compression
    _k("compression.type", "compression", "none", "compression",
       "Codec applied to each batch's records as they are appended.",
       importance="high", choices=COMPRESSION_TYPES),
    _k("compression.gzip.level", "int", -1, "compression",
       "gzip level; -1 means zlib's default (6).", importance="medium", min=-1, max=9),
    _k("compression.lz4.level", "int", 9, "compression",
       "lz4 level; 9 uses lz4's fast compressor, any other value its high-compression "
       "mode at that level.", importance="medium", min=1, max=17),
    _k("compression.zstd.level", "int", 3, "compression",
       "zstd level; negative levels trade ratio for speed.",
       importance="medium", min=-131072, max=22),
    # delivery
    _k("acks", "acks", "all", "delivery",
       "How many replicas must have the batch before the leader answers: 0 (no answer), "
       "1 (the leader) or all (every in-sync replica).", importance="low",
       choices=("all", "-1", "0", "1")),
    _k("enable.idempotence", "bool", True, "delivery",
       "Producer id plus per-partition sequence numbers, so retries never duplicate or "
       "reorder records.", importance="low"),
    _k("retries", "int", INT_MAX, "delivery",
       "How many times a failed batch may be resent (delivery.timeout.ms is the real "
       "limit).", importance="high", min=0, max=INT_MAX),
    _k("delivery.timeout.ms", "int", 120000, "delivery",
       "Upper bound from send() to success or failure, covering linger, queueing, "
       "retries and in-flight time.", importance="medium", min=0, unit="ms"),
    _k("request.timeout.ms", "int", 30000, "delivery",
       "How long the producer waits for a broker's answer to one request.",
       importance="medium", min=0, unit="ms"),
    _k("max.in.flight.requests.per.connection", "int", 5, "delivery",
       "Unanswered requests allowed per broker connection; 1 keeps strict order even "
       "without idempotence.", importance="low", min=1),
    _k("max.request.size", "int", 1048576, "delivery",
       "Largest request the producer sends, which also caps the size of one record.",
       importance="medium", min=0, unit="bytes"),
    _k("retry.backoff.ms", "long", 100, "delivery",
       "First wait before retrying a failed batch; it doubles per attempt.",
       importance="low", min=0, unit="ms"),
    _k("retry.backoff.max.ms", "long", 1000, "delivery",
       "Cap of the exponential retry backoff (with ±20% jitter).",
       importance="low", min=0, unit="ms"),
    _k("reconnect.backoff.ms", "long", 50, "delivery",
       "First wait before reconnecting to a broker that dropped.",
       importance="low", min=0, unit="ms"),
    _k("reconnect.backoff.max.ms", "long", 1000, "delivery",
       "Cap of the exponential reconnect backoff.", importance="low", min=0, unit="ms"),
    # metadata
    _k("metadata.max.age.ms", "long", 300000, "metadata",
       "Metadata is refreshed at least this often even without errors.",
       importance="low", min=0, unit="ms"),
    _k("metadata.max.idle.ms", "long", 300000, "metadata",
       "A topic not produced to for this long is dropped from the metadata cache.",
       importance="low", min=5000, unit="ms"),
    # partitioning
    _k("partitioner.class", "class", None, "partitioning",
       "A custom partitioner; unset means the built-in one (key hash, else sticky).",
       importance="medium"),
    _k("partitioner.adaptive.partitioning.enable", "bool", True, "partitioning",
       "Sticky partitioning prefers partitions whose brokers drain faster.",
       importance="low"),
    _k("partitioner.availability.timeout.ms", "long", 0, "partitioning",
       "A partition whose broker cannot take batches for this long is skipped by sticky "
       "partitioning (0 = never skip).", importance="low", min=0, unit="ms"),
    _k("partitioner.ignore.keys", "bool", False, "partitioning",
       "Ignore keys when choosing partitions (sticky for everything).", importance="medium"),
    # serialization
    _k("key.serializer", "serializer", "bytes", "serialization",
       "Turns keys into bytes: bytes, string, json or a Kafka serializer class name.",
       importance="high",
       note="Kafka requires this setting; here it defaults to bytes."),
    _k("value.serializer", "serializer", "bytes", "serialization",
       "Turns values into bytes: bytes, string, json or a Kafka serializer class name.",
       importance="high",
       note="Kafka requires this setting; here it defaults to bytes."),
    # other
    _k("interceptor.classes", "list", (), "other",
       "Interceptors that see every record before serialization and every "
       "acknowledgement.", importance="low"),
    _k("client.id", "string", "", "other",
       "A name for this producer in logs and metrics (default producer-1).",
       importance="medium"),
    _k("bootstrap.servers", "list", (), "other",
       "Brokers to contact first; the simulated cluster needs none.",
       importance="high", simulated=False),
    _k("send.buffer.bytes", "int", 131072, "other",
       "TCP send buffer size.", importance="medium", min=-1, unit="bytes", simulated=False),
    _k("receive.buffer.bytes", "int", 32768, "other",
       "TCP receive buffer size.", importance="medium", min=-1, unit="bytes",
       simulated=False),
    _k("connections.max.idle.ms", "long", 540000, "other",
       "Idle connections are closed after this long.", importance="medium", unit="ms",
       simulated=False),
    _k("security.protocol", "string", "PLAINTEXT", "other",
       "Transport security.", importance="medium",
       choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"), simulated=False),
    _k("transaction.timeout.ms", "int", 60000, "other",
       "Transaction timeout (transactions are not simulated).", importance="low",
       unit="ms", simulated=False),
]

CONFIG_KEYS: dict[str, ConfigKey] = {k.name: k for k in _KEYS}
_BY_ATTR: dict[str, ConfigKey] = {k.attr: k for k in _KEYS}

#: Keys Kafka knows but the simulation refuses, with the reason.
REFUSED_KEYS: dict[str, str] = {
    "transactional.id": "transactions are not simulated in Producer Lab (a documented "
                        "simplification); remove transactional.id",
}

# Defaults in their parsed form (acks "all" is -1 once parsed).
_PARSED_DEFAULTS: dict[str, Any] = {
    k.name: (-1 if k.type == "acks" else k.default) for k in _KEYS}

_GZIP_LEVELS = frozenset([-1, *range(1, 10)])


# ---- parsing (Kafka's ConfigDef.parseType, plus Python values) -------------------------

def _parse_integer(key: ConfigKey, value: Any) -> int:
    bits = 32 if key.type == "int" else 64
    kind = "INT" if bits == 32 else "LONG"
    if isinstance(value, bool):
        raise ConfigError(key.name, value,
                          f"Expected a {bits}-bit integer, but it was a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        # More than 20 significant digits cannot be a long: refuse before int() (Python
        # refuses int() of over 4300 digits with ValueError, and big ones cost time).
        if not _DECIMAL.match(text) or len(text.lstrip("+-").lstrip("0")) > 20:
            raise ConfigError(key.name, value[:40], f"Not a number of type {kind}")
        number = int(text)
    else:
        raise ConfigError(key.name, value,
                          f"Expected a {bits}-bit integer, but it was a {type(value).__name__}")
    low, high = (INT_MIN, INT_MAX) if bits == 32 else (LONG_MIN, LONG_MAX)
    if not low <= number <= high:
        raise ConfigError(key.name, value, f"Not a number of type {kind}")
    if key.name == "compression.gzip.level":
        if number not in _GZIP_LEVELS:
            raise ConfigError(key.name, number,
                              "Value must be between 1 and 9, or -1 for zlib's default (6)")
        return number
    if key.min is not None and number < key.min:
        raise ConfigError(key.name, number, f"Value must be at least {key.min}")
    if key.max is not None and number > key.max:
        raise ConfigError(key.name, number, f"Value must be no more than {key.max}")
    return number


def _parse_bool(key: ConfigKey, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "false"):
            return text == "true"
    raise ConfigError(key.name, value, "Expected value to be either true or false")


def _parse_string(key: ConfigKey, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key.name, value,
                          f"Expected value to be a string, but it was a {type(value).__name__}")
    text = value.strip()
    if key.name == "security.protocol":  # Kafka compares this one case-insensitively
        text = text.upper()
    if key.choices is not None and text not in key.choices:
        raise ConfigError(key.name, text, "String must be one of: " + ", ".join(key.choices))
    return text


def _parse_acks(key: ConfigKey, value: Any) -> int:
    """acks is a string in Kafka ("all", "-1", "0", "1"); Python ints -1/0/1 are accepted."""
    if isinstance(value, bool):
        raise ConfigError(key.name, value, "String must be one of: all, -1, 0, 1")
    if isinstance(value, int):
        if value in (-1, 0, 1):
            return value
        raise ConfigError(key.name, value, "String must be one of: all, -1, 0, 1")
    if isinstance(value, str):
        text = value.strip()
        if text == "all":
            return -1
        if text in ("-1", "0", "1"):
            return int(text)
    raise ConfigError(key.name, value, "String must be one of: all, -1, 0, 1")


def _parse_list(key: ConfigKey, value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        items: list[Any] = [] if not text else [p.strip() for p in text.split(",")]
    elif isinstance(value, (list, tuple)):
        items = [v.strip() if isinstance(v, str) else v for v in value]
    else:
        items = [value]  # a single class or instance
    for item in items:
        if isinstance(item, str) and not item:
            raise ConfigError(key.name, value, "Empty entry in the list")
    if key.name == "interceptor.classes":
        names = [item for item in items if isinstance(item, str)]
        if len(set(names)) != len(names):
            raise ConfigError(key.name, value, "Duplicate entries are not allowed")
        for item in items:
            _check_class_spec(key, item)
    return tuple(items)


def resolve_dotted(path: str) -> Any:
    """The engine's class for an allowed plugin name (issue 8): Kafka's class names, our
    short names and ``producer_core`` dotted names of the same classes, from
    :mod:`producer_core.plugins`.  Nothing is imported.  Raises ``ImportError`` naming the
    choices for anything else; Python code passes its own class or callable object, or
    opts in with ``ProducerConfig.from_dict(..., allow_import=True)``."""
    from producer_core import plugins

    name = path.strip()
    for kind in plugins.KINDS:
        cls = plugins.lookup(kind, name)
        if cls is not None:
            return cls
    raise ImportError(f"{path!r} is not one of the engine's plugins; allowed: "
                      + "; ".join(f"{kind}s: {plugins.describe_allowed(kind)}"
                                  for kind in plugins.KINDS))


#: Which allow-list a class-valued key resolves through.
_PLUGIN_KIND = {"key.serializer": "serializer", "value.serializer": "serializer",
                "partitioner.class": "partitioner", "interceptor.classes": "interceptor"}


def _check_class_spec(key: ConfigKey, spec: Any) -> None:
    if isinstance(spec, str):
        from producer_core import partitioner as _partitioner
        from producer_core import plugins

        if key.name == "partitioner.class" and spec in _partitioner.REMOVED_PARTITIONERS:
            raise ConfigError(key.name, spec, _partitioner.REMOVED_PARTITIONERS[spec])
        kind = _PLUGIN_KIND[key.name]
        if plugins.lookup(kind, spec) is None:
            raise ConfigError(
                key.name, spec[:200],
                f"Class {spec[:200]} cannot be found: it is not one of the allowed {kind}s "
                f"({plugins.describe_allowed(kind)}); Python code may pass its own class "
                "or callable object, or use ProducerConfig.from_dict(..., "
                "allow_import=True)")
    elif isinstance(spec, (bytes, bytearray, int, float)) or not callable(spec) and not any(
            callable(getattr(spec, m, None))
            for m in ("on_send", "on_acknowledgement", "partition", "serialize")):
        raise ConfigError(key.name, spec,
                          "Expected a class, an instance or a dotted class path")


def _import_plugins(given: dict[str, Any]) -> None:
    """``allow_import=True``: replace plugin names missing from the allow-list by the
    objects they import (in place), so the config holds objects and never imports again."""
    for name, kind in _PLUGIN_KIND.items():
        value = given.get(name)
        if value is None:
            continue
        if name == "interceptor.classes":
            items = ([v.strip() for v in value.split(",") if v.strip()]
                     if isinstance(value, str) else value)
            if isinstance(items, (list, tuple)):
                given[name] = [_import_one(name, kind, v) for v in items]
            continue
        given[name] = _import_one(name, kind, value)


def _import_one(name: str, kind: str, value: Any) -> Any:
    from producer_core import partitioner as _partitioner
    from producer_core import plugins

    if not isinstance(value, str):
        return value
    text = value.strip()
    if (not text or plugins.lookup(kind, text) is not None
            or text in _partitioner.REMOVED_PARTITIONERS or "." not in text):
        return value
    try:
        return plugins.import_dotted(text)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(name, text, f"Class {text} cannot be found ({exc})") from None


def _parse_class(key: ConfigKey, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    _check_class_spec(key, value)
    return value


def _parse_serializer(key: ConfigKey, value: Any) -> Any:
    from producer_core.serializers import get_serializer

    if value is None:
        raise ConfigError(key.name, value, "must be non-null")
    if isinstance(value, str):
        value = value.strip()
    try:
        get_serializer(value)
    except (TypeError, ValueError, ImportError, AttributeError) as exc:
        raise ConfigError(key.name, value, str(exc)) from None
    return value


_PARSERS: dict[str, Callable[[ConfigKey, Any], Any]] = {
    "int": _parse_integer, "long": _parse_integer, "bool": _parse_bool,
    "string": _parse_string, "compression": _parse_string, "acks": _parse_acks,
    "list": _parse_list, "class": _parse_class, "serializer": _parse_serializer,
}


_NULLABLE = frozenset({"class", "list", "serializer"})


def _parse(key: ConfigKey, value: Any) -> Any:
    if value is None and key.type not in _NULLABLE:
        raise ConfigError(key.name, None, "Value must be non-null")
    return _PARSERS[key.type](key, value)


def parse_value(name: str, value: Any) -> Any:
    """Coerce and check one setting on its own (the lab's inline validation)."""
    key = CONFIG_KEYS.get(name)
    if key is None:
        raise _unknown_key(name)
    return _parse(key, value)


def suggest_key(name: Any) -> str | None:
    """The known producer setting a misspelled key most likely meant (difflib), or None:
    ``suggest_key("linger.msec") == "linger.ms"``."""
    text = str(name)[:200]
    if not text:
        return None
    candidates = list(CONFIG_KEYS) + list(_BY_ATTR)
    guess = difflib.get_close_matches(text, candidates, n=1, cutoff=0.6)
    if not guess:
        guess = [k for k in CONFIG_KEYS if text in k or k.startswith(text)][:1]
    if not guess:
        return None
    return _BY_ATTR[guess[0]].name if guess[0] in _BY_ATTR else guess[0]


def unknown_key_warning(name: Any) -> str:
    """What every UI shows for a key Kafka does not know: "Kafka would ignore `linger.msec`
    — did you mean `linger.ms`?"."""
    text = str(name)[:200]
    guess = suggest_key(text)
    hint = f" — did you mean `{guess}`?" if guess else " — it is not a producer setting"
    return f"Kafka would ignore `{text}`{hint}"


def _unknown_key(name: Any) -> ConfigError:
    if name in REFUSED_KEYS:
        return ConfigError(f"{name} is not supported: {REFUSED_KEYS[name]}")
    text = str(name)[:200]
    guess = suggest_key(text)
    hint = f"; did you mean {guess}?" if guess else ""
    return ConfigError(f"Unknown producer configuration {text!r}{hint}")


def format_value(name: str, value: Any) -> str:
    """A value as a producer.properties file writes it (``true``, ``all``, ``a,b``)."""
    key = CONFIG_KEYS[name]
    if key.type == "acks":
        return "all" if value == -1 else str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(_spec_name(v) for v in value)
    if key.type in ("class", "serializer"):
        return _spec_name(value)
    return str(value)


def _spec_name(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    target = spec if isinstance(spec, type) or callable(spec) and hasattr(spec, "__qualname__") \
        else type(spec)
    module = getattr(target, "__module__", None) or ""
    qual = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target))
    return f"{module}.{qual}" if module else qual


# ---- the config object -----------------------------------------------------------------

_SLOTS = tuple(k.attr for k in _KEYS) + (
    "compression_level", "_originals", "_explicit", "_notes", "_effective", "_unknown")

#: Kafka's log line for supplied keys no part of the client uses (AbstractConfig.logUnused).
UNUSED_LOG = "These configurations '{keys}' were supplied but are not used yet."


class ProducerConfig:
    """An immutable, validated producer configuration (Kafka 4.x defaults).

    ``ProducerConfig()``; ``ProducerConfig({"linger.ms": 10})``;
    ``ProducerConfig(linger_ms=10)``; ``ProducerConfig.from_dict({...})``.
    Every setting is an attribute under its Python name (``cfg.batch_size``); ``acks`` is
    an int (-1 for all), ``compression_level`` the level the chosen codec really runs at
    (gzip's -1 is zlib's 6; None for none and snappy).

    Keys Kafka does not know are accepted in a mapping, as Kafka accepts them (it only
    logs "These configurations '…' were supplied but are not used yet."): they change
    nothing, :attr:`unknown_keys` names them and :attr:`warnings` says what each UI
    shows.  ``from_dict(d, strict=True)`` refuses them instead.  Keyword arguments
    (``linger_ms=10``) are Python names and stay strict.

    Plugins named as text (serializers, ``partitioner.class``, ``interceptor.classes``)
    resolve only through :mod:`producer_core.plugins`' allow-list; see :meth:`from_dict`.
    """

    __slots__ = _SLOTS

    def __init__(self, values: Mapping[str, Any] | None = None, /, **attrs: Any) -> None:
        given: dict[str, Any] = {}
        unknown: list[str] = []
        if values is not None:
            if not isinstance(values, Mapping):
                raise ConfigError(
                    f"Producer configuration must be a mapping of Kafka names to values, "
                    f"not {type(values).__name__}")
            for name, value in values.items():
                if not isinstance(name, str) or name in REFUSED_KEYS:
                    raise _unknown_key(name)
                if name not in CONFIG_KEYS:
                    unknown.append(name)
                given[name] = value
        for attr, value in attrs.items():
            key = _BY_ATTR.get(attr) or CONFIG_KEYS.get(attr)  # **{"linger.ms": 5} too
            if key is None:
                raise _unknown_key(attr)
            given[key.name] = value
        self._build(given, tuple(unknown))

    # construction ------------------------------------------------------------------

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, *, strict: bool = False,
                  allow_import: bool = False) -> ProducerConfig:
        """Validate Kafka-named settings (Python values or property strings).

        * Unknown keys are accepted and kept in :attr:`unknown_keys`, as Kafka accepts
          them; ``strict=True`` raises a ``ConfigError`` naming them (with a "did you
          mean" suggestion).
        * Plugin names given as text resolve only through the allow-list
          (:mod:`producer_core.plugins`); ``allow_import=True`` — for Python code that
          builds its own configuration, never for text from a visitor — imports a dotted
          name missing from it.  Classes and callable objects are always accepted.
        """
        values = values or {}
        if strict:
            if not isinstance(values, Mapping):
                return cls(values)
            unknown = [k for k in values if isinstance(k, str) and k not in CONFIG_KEYS
                       and k not in REFUSED_KEYS]
            if unknown:
                hints = "; ".join(unknown_key_warning(k) for k in unknown)
                raise ConfigError(
                    f"Unknown producer configuration{'s' if len(unknown) > 1 else ''} "
                    f"{', '.join(repr(k[:200]) for k in unknown)} (strict): {hints}")
        if allow_import and isinstance(values, Mapping):
            values = dict(values)
            _import_plugins(values)
        return cls(values)

    @classmethod
    def from_properties(cls, text: str) -> ProducerConfig:
        """Parse a ``producer.properties`` file's text (``key=value``, ``#`` comments)."""
        values: dict[str, str] = {}
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line[0] in "#!":
                continue
            sep = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
            if sep < 0:
                raise ConfigError(f"line {number}: expected key=value, got {raw!r}")
            values[line[:sep].strip()] = line[sep + 1:].strip()
        return cls(values)

    def with_overrides(self, overrides: Mapping[str, Any]) -> ProducerConfig:
        """A new config: this one's explicit settings updated with ``overrides`` (an
        unknown key given as None is dropped, so a typo can be taken back)."""
        merged = dict(self._originals)
        merged.update(overrides)
        for name in list(merged):
            if name not in CONFIG_KEYS and merged[name] is None:
                del merged[name]
        return ProducerConfig(merged)

    def _build(self, given: dict[str, Any], unknown: tuple[str, ...] = ()) -> None:
        for name, reason in REFUSED_KEYS.items():
            if name in given and given[name] is not None:
                raise ConfigError(name, given[name], reason)
        parsed: dict[str, Any] = {}
        for key in _KEYS:  # Kafka parses in definition order; the first error wins
            if key.name in given:
                parsed[key.name] = _parse(key, given[key.name])
            else:
                parsed[key.name] = _PARSED_DEFAULTS[key.name]
        explicit = frozenset(k for k in given if k in CONFIG_KEYS)
        notes: list[str] = []
        _post_process(parsed, explicit, notes)

        setattr_ = object.__setattr__
        setattr_(self, "_originals", dict(given))
        setattr_(self, "_explicit", explicit)
        setattr_(self, "_notes", tuple(notes))
        setattr_(self, "_unknown", unknown)
        for key in _KEYS:
            setattr_(self, key.attr, parsed[key.name])
        codec = parsed["compression.type"]
        level = None if codec in ("none", "snappy") else effective_level(
            codec, parsed[f"compression.{codec}.level"])
        setattr_(self, "compression_level", level)
        setattr_(self, "_effective", parsed)

    # reading -----------------------------------------------------------------------

    @property
    def explicit(self) -> frozenset[str]:
        """Kafka names of the settings that were given (the rest are defaults)."""
        return self._explicit

    @property
    def notes(self) -> tuple[str, ...]:
        """Human notes for the UI: values Kafka changed silently, settings with no effect."""
        return self._notes

    @property
    def unknown_keys(self) -> tuple[str, ...]:
        """Supplied keys Kafka does not know (accepted and ignored, as Kafka does)."""
        return self._unknown

    @property
    def warnings(self) -> tuple[str, ...]:
        """One prominent warning per unknown key: "Kafka would ignore `linger.msec` — did
        you mean `linger.ms`?"."""
        return tuple(unknown_key_warning(k) for k in self._unknown)

    @property
    def unused_log(self) -> str | None:
        """Kafka's log line for the unknown keys, or None when there are none."""
        if not self._unknown:
            return None
        return UNUSED_LOG.format(keys=",".join(self._unknown))

    @property
    def acks_name(self) -> str:
        """``acks`` as Kafka documents it: "all", "1" or "0"."""
        return format_value("acks", self.acks)

    def get(self, name: str) -> Any:
        """One effective setting by Kafka name."""
        if name not in CONFIG_KEYS:
            raise _unknown_key(name)
        return self.to_dict()[name]

    def to_dict(self) -> dict[str, Any]:
        """Every effective setting, Kafka names → JSON-safe values (acks as "all"/"1"/"0",
        lists as lists, classes and instances as dotted names)."""
        out: dict[str, Any] = {}
        for key in _KEYS:
            value = self._effective[key.name]
            if key.type == "acks":
                value = format_value("acks", value)
            elif key.type == "list":
                value = [_spec_name(v) for v in value]
            elif key.type in ("class", "serializer") and value is not None:
                value = _spec_name(value)
            out[key.name] = value
        return out

    def to_properties(self, only_changed: bool = False) -> str:
        """The config as ``producer.properties`` text."""
        lines = []
        for key in _KEYS:
            value = self._effective[key.name]
            if only_changed and format_value(key.name, value) == format_value(
                    key.name, _DEFAULT_EFFECTIVE()[key.name]):
                continue
            if value is None or (key.type == "list" and not value):
                continue
            lines.append(f"{key.name}={format_value(key.name, value)}")
        return "\n".join(lines) + "\n"

    def changed(self) -> dict[str, Any]:
        """Effective settings that differ from Kafka's defaults (JSON-safe, as to_dict)."""
        defaults = _DEFAULT_DICT()
        return {k: v for k, v in self.to_dict().items() if defaults.get(k) != v}

    # value semantics ---------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ProducerConfig is immutable; use with_overrides()")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ProducerConfig is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProducerConfig):
            return NotImplemented
        # Compared as Kafka would see them: a class and its dotted name are the same setting.
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple((k, _hashable(v)) for k, v in self.to_dict().items()))

    def __repr__(self) -> str:
        changed = ", ".join(f"{k!r}: {v!r}" for k, v in self.changed().items())
        return f"ProducerConfig({{{changed}}})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (ProducerConfig, (self._originals,))

    def __copy__(self) -> ProducerConfig:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ProducerConfig:
        return self


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    try:
        hash(value)
    except TypeError:
        return id(value)
    return value


_DEFAULTS_CACHE: list[dict[str, Any]] = []
_EFFECTIVE_CACHE: list[dict[str, Any]] = []


def _DEFAULT_EFFECTIVE() -> dict[str, Any]:
    if not _EFFECTIVE_CACHE:
        _EFFECTIVE_CACHE.append(ProducerConfig()._effective)
    return _EFFECTIVE_CACHE[0]


def _DEFAULT_DICT() -> dict[str, Any]:
    if not _DEFAULTS_CACHE:
        _DEFAULTS_CACHE.append(ProducerConfig().to_dict())
    return _DEFAULTS_CACHE[0]


# ---- cross-field rules (ProducerConfig.postProcessParsedConfig, configureDeliveryTimeout)

def _post_process(cfg: dict[str, Any], explicit: frozenset[str], notes: list[str]) -> None:
    """Apply Kafka's cross-field rules in Kafka's order, mutating ``cfg``."""
    # Exponential backoff sanity (CommonClientConfigs.warnDisablingExponentialBackoff).
    if cfg["retry.backoff.ms"] > cfg["retry.backoff.max.ms"]:
        notes.append(
            f"retry.backoff.ms ({cfg['retry.backoff.ms']}) is above retry.backoff.max.ms "
            f"({cfg['retry.backoff.max.ms']}): retries use a fixed backoff of "
            f"{cfg['retry.backoff.max.ms']} ms")
    # reconnect.backoff.ms alone disables exponential reconnect backoff.
    if "reconnect.backoff.ms" in explicit and "reconnect.backoff.max.ms" not in explicit:
        cfg["reconnect.backoff.max.ms"] = cfg["reconnect.backoff.ms"]
        notes.append(
            "reconnect.backoff.max.ms was set to reconnect.backoff.ms "
            f"({cfg['reconnect.backoff.ms']}) because only reconnect.backoff.ms was given, "
            "which turns exponential reconnect backoff off")
    elif cfg["reconnect.backoff.ms"] > cfg["reconnect.backoff.max.ms"]:
        notes.append(
            f"reconnect.backoff.ms is above reconnect.backoff.max.ms: reconnects wait a fixed "
            f"{cfg['reconnect.backoff.max.ms']} ms")

    _idempotence(cfg, explicit, notes)

    if "client.id" not in explicit:
        # Kafka numbers producers from a process-wide counter; a simulation has one.
        cfg["client.id"] = "producer-1"

    # KafkaProducer.configureDeliveryTimeout
    linger = min(cfg["linger.ms"], INT_MAX)
    floor = min(linger + cfg["request.timeout.ms"], INT_MAX)
    if cfg["delivery.timeout.ms"] < floor:
        if "delivery.timeout.ms" in explicit:
            raise ConfigError(
                "delivery.timeout.ms", cfg["delivery.timeout.ms"],
                f"Value must be equal to or larger than linger.ms + request.timeout.ms "
                f"({linger} + {cfg['request.timeout.ms']} = {floor})")
        notes.append(
            f"delivery.timeout.ms was raised from {cfg['delivery.timeout.ms']} to {floor} "
            f"(linger.ms + request.timeout.ms) because it was not set explicitly")
        cfg["delivery.timeout.ms"] = floor

    # Helpful notes Kafka does not give but learners need.
    codec = cfg["compression.type"]
    for other in ("gzip", "lz4", "zstd"):
        level_key = f"compression.{other}.level"
        if level_key in explicit and other != codec:
            notes.append(f"{level_key} has no effect because compression.type={codec}")
    if cfg["partitioner.class"] is not None:
        if "partitioner.adaptive.partitioning.enable" in explicit:
            notes.append("partitioner.adaptive.partitioning.enable has no effect with a "
                         "custom partitioner.class")
        if "partitioner.ignore.keys" in explicit:
            notes.append("partitioner.ignore.keys has no effect with a custom "
                         "partitioner.class (it decides about keys itself)")
    for name in sorted(explicit):
        key = CONFIG_KEYS.get(name)
        if key is not None and not key.simulated:
            notes.append(f"{name} is accepted but has no effect in the simulation")


def _idempotence(cfg: dict[str, Any], explicit: frozenset[str], notes: list[str]) -> None:
    user_set = "enable.idempotence" in explicit
    if not cfg["enable.idempotence"]:
        return
    disable_reasons: list[str] = []
    if cfg["retries"] == 0:
        if user_set:
            raise ConfigError(
                "retries", 0,
                "Must be non-zero when enable.idempotence=true: the idempotent producer "
                "relies on retries (set enable.idempotence=false to send without retries)")
        disable_reasons.append("retries=0")
    if cfg["acks"] != -1:
        if user_set:
            raise ConfigError(
                "acks", format_value("acks", cfg["acks"]),
                "Must be all (or -1) when enable.idempotence=true; otherwise idempotence "
                "cannot be guaranteed")
        disable_reasons.append(f"acks={format_value('acks', cfg['acks'])}")
    in_flight = cfg["max.in.flight.requests.per.connection"]
    if in_flight > MAX_IN_FLIGHT_FOR_IDEMPOTENCE:
        # Kafka 4.x: an error even when idempotence is only on by default.
        raise ConfigError(
            "max.in.flight.requests.per.connection", in_flight,
            f"To use the idempotent producer (on by default), it must be at most "
            f"{MAX_IN_FLIGHT_FOR_IDEMPOTENCE}; set enable.idempotence=false to allow more")
    if disable_reasons:
        cfg["enable.idempotence"] = False
        notes.append(
            f"enable.idempotence was switched off because {' and '.join(disable_reasons)} "
            "(it was not set explicitly)")


def config_keys_by_group() -> dict[str, list[ConfigKey]]:
    """``CONFIG_KEYS`` grouped for the control panel, in ``GROUPS`` order."""
    groups: dict[str, list[ConfigKey]] = {g: [] for g in GROUPS}
    for key in _KEYS:
        groups[key.group].append(key)
    return groups


def iter_keys() -> Iterable[ConfigKey]:
    return iter(_KEYS)


__all__ = [
    "COMPRESSION_TYPES",
    "CONFIG_KEYS",
    "GROUPS",
    "MAX_IN_FLIGHT_FOR_IDEMPOTENCE",
    "REFUSED_KEYS",
    "ConfigKey",
    "ProducerConfig",
    "config_keys_by_group",
    "format_value",
    "parse_value",
    "resolve_dotted",
    "suggest_key",
    "unknown_key_warning",
]
