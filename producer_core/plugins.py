"""The allow-list of plugins a configuration may name as text (issue 8).

``key.serializer``/``value.serializer``, ``partitioner.class`` and ``interceptor.classes``
given as *text* — a form, a producer.properties file, anything that arrives over HTTP or a
WebSocket — resolve only through these tables: Kafka's class names
(``org.apache.kafka.common.serialization.StringSerializer``, …), our short names
(``string``) and the ``producer_core`` dotted names of the same classes, each mapped to the
engine's implementation.  Nothing outside the tables is imported, not even to check it.

Arbitrary dotted names are for Python code that builds its configuration itself and says so:
``ProducerConfig.from_dict(d, allow_import=True)`` imports a name missing from the tables
(a learner's own script, the sandboxed grader).  Passing a class, an instance or a callable
object needs no name at all and is always accepted.
"""

from __future__ import annotations

import importlib
from typing import Any

from producer_core import interceptors as _interceptors
from producer_core import partitioner as _partitioner
from producer_core import serializers as _serializers

KINDS = ("serializer", "partitioner", "interceptor")

_SERIALIZER_CLASSES = (
    _serializers.ByteArraySerializer, _serializers.StringSerializer,
    _serializers.IntegerSerializer, _serializers.ShortSerializer,
    _serializers.LongSerializer, _serializers.DoubleSerializer,
    _serializers.FloatSerializer, _serializers.UUIDSerializer,
    _serializers.VoidSerializer, _serializers.JsonSerializer)

#: Serializer names → classes: short names, Kafka's class names, bare and our dotted names.
SERIALIZERS: dict[str, type] = dict(_serializers._NAMED)
SERIALIZERS.update(_serializers._KAFKA_CLASSES)
SERIALIZERS.update({f"producer_core.serializers.{c.__name__}": c for c in _SERIALIZER_CLASSES})

#: Partitioner names → classes (leave ``partitioner.class`` unset for the built-in one).
PARTITIONERS: dict[str, type] = {
    "org.apache.kafka.clients.producer.RoundRobinPartitioner":
        _partitioner.RoundRobinPartitioner,
    "RoundRobinPartitioner": _partitioner.RoundRobinPartitioner,
    "producer_core.partitioner.RoundRobinPartitioner": _partitioner.RoundRobinPartitioner,
}

#: Interceptor names → classes: the pass-through base and the teaching examples.
INTERCEPTORS: dict[str, type] = {}
for _cls in (_interceptors.ProducerInterceptor, _interceptors.CountingInterceptor,
             _interceptors.HeaderInterceptor):
    INTERCEPTORS[_cls.__name__] = _cls
    INTERCEPTORS[f"producer_core.interceptors.{_cls.__name__}"] = _cls
INTERCEPTORS["counting"] = _interceptors.CountingInterceptor
INTERCEPTORS["header"] = _interceptors.HeaderInterceptor

_TABLES: dict[str, dict[str, type]] = {
    "serializer": SERIALIZERS, "partitioner": PARTITIONERS, "interceptor": INTERCEPTORS}


def allowed_names(kind: str) -> tuple[str, ...]:
    """Every name of ``kind`` a configuration may give as text."""
    return tuple(_table(kind))


def describe_allowed(kind: str) -> str:
    """The allowed choices in words, for error messages: Kafka names first."""
    names = _table(kind)
    kafka = [n for n in names if n.startswith(("org.", "io."))]
    short = [n for n in names if "." not in n]
    return ", ".join(kafka + short)


def lookup(kind: str, name: str) -> type | None:
    """The class an allowed name stands for, or None (never imports)."""
    table = _table(kind)
    cls = table.get(name)
    if cls is None and kind == "serializer":
        cls = table.get(name.lower())
    return cls


def resolve(kind: str, name: str, *, allow_import: bool = False) -> Any:
    """An allowed name's class; with ``allow_import`` (Python callers only) a dotted name
    missing from the table is imported.  Raises ``LookupError`` naming the choices."""
    cls = lookup(kind, name)
    if cls is not None:
        return cls
    if allow_import:
        return import_dotted(name)
    raise LookupError(f"{name!r} is not one of the allowed {kind}s ({describe_allowed(kind)}); "
                      "Python code may pass its own class or callable object, or use "
                      "ProducerConfig.from_dict(..., allow_import=True)")


def import_dotted(path: str) -> Any:
    """Import ``package.module.Name`` (or ``package.module:Name``) — only for Python code
    that opted in (``allow_import=True``); never for text from a visitor."""
    module_name, sep, attr = path.replace(":", ".").rpartition(".")
    if not sep or not module_name or not attr:
        raise ImportError(f"{path!r} is not a dotted path like package.module.Name")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise AttributeError(f"module {module_name} has no attribute {attr}") from None


def _table(kind: str) -> dict[str, type]:
    try:
        return _TABLES[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}") from None


__all__ = ["INTERCEPTORS", "KINDS", "PARTITIONERS", "SERIALIZERS", "allowed_names",
           "describe_allowed", "import_dotted", "lookup", "resolve"]
