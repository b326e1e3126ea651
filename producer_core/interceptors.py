"""Producer interceptors (Kafka's ``ProducerInterceptor`` and ``ProducerInterceptors``).

``on_send`` runs first in ``send()``, before serialization and partitioning, and may
return a changed record; ``on_acknowledgement`` runs when a record completes, with its
metadata or its error.  Kafka's rule for a misbehaving interceptor: its exception is
logged and swallowed — the chain goes on with the record as it was before that
interceptor — because an interceptor must never break the producer.  Here "logged" means
kept in :attr:`ProducerInterceptors.errors`, so the trace and the lab can show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from producer_core.errors import ConfigError
from producer_core.types import ProducerRecord, RecordMetadata


class ProducerInterceptor:
    """Base class: override what you need.  The defaults pass records through."""

    def on_send(self, record: ProducerRecord) -> ProducerRecord:
        return record

    def on_acknowledgement(self, metadata: RecordMetadata | None,
                           exception: BaseException | None) -> None:
        pass

    def close(self) -> None:
        pass


class CountingInterceptor(ProducerInterceptor):
    """A teaching interceptor (the ``lesson-interceptors`` preset): counts its calls and
    stamps every record with a ``lab-seq`` header, so the lab can show what an interceptor
    sees.  ``on_send`` runs in the application's thread inside ``send()``, before the
    record is serialized; ``on_acknowledgement`` runs on the Sender's I/O thread, once per
    record, when its batch is acknowledged or fails — keep both fast."""

    HEADER = "lab-seq"

    def __init__(self) -> None:
        self.on_send_calls = 0
        self.acknowledged = 0
        self.failed = 0

    def on_send(self, record: ProducerRecord) -> ProducerRecord:
        self.on_send_calls += 1
        headers = (*tuple(record.headers or ()), (self.HEADER, str(self.on_send_calls).encode()))
        return replace(record, headers=headers)

    def on_acknowledgement(self, metadata: RecordMetadata | None,
                           exception: BaseException | None) -> None:
        if exception is None:
            self.acknowledged += 1
        else:
            self.failed += 1

    def stats(self) -> dict[str, Any]:
        return {"on_send": self.on_send_calls,
                "on_acknowledgement": self.acknowledged + self.failed,
                "acknowledged": self.acknowledged, "failed": self.failed,
                "header": self.HEADER}

    def counts(self) -> dict[str, int]:
        return {"on_send": self.on_send_calls, "acknowledged": self.acknowledged,
                "errors": self.failed}


class HeaderInterceptor(ProducerInterceptor):
    """A teaching example: ``on_send`` returns a copy of the record with a header
    ``interceptor-seq`` (the record's number, as ASCII) added — the header then travels
    in the stored batch, which shows that interceptors run before serialization."""

    header = "interceptor-seq"

    def __init__(self) -> None:
        self.seq = 0

    def on_send(self, record: ProducerRecord) -> ProducerRecord:
        self.seq += 1
        return replace(
            record, headers=(*record.headers, (self.header, str(self.seq).encode())))


class InterceptorFailure(dict):
    """One swallowed interceptor exception: interceptor, method, error, topic."""


class ProducerInterceptors:
    """The configured chain (instances, classes or dotted paths).  ``errors`` keeps the most recent ``max_errors`` failures
    (``errors_total`` counts all); ``on_error`` is called with each failure as it
    happens (the producer publishes it as an event)."""

    def __init__(self, interceptors: Iterable[Any] = (), *, max_errors: int = 100,
                 on_error: Callable[[InterceptorFailure], None] | None = None) -> None:
        # Config values (dotted paths, classes) are loaded here, so a chain can be built
        # straight from ``config.interceptor_classes``.
        self.interceptors: list[Any] = [
            i if isinstance(i, ProducerInterceptor) else load_interceptor(i)
            for i in interceptors]
        self.errors: list[InterceptorFailure] = []
        self.errors_total = 0
        self.max_errors = max_errors
        self.on_error = on_error

    def __len__(self) -> int:
        return len(self.interceptors)

    def __bool__(self) -> bool:
        return bool(self.interceptors)

    def _failed(self, interceptor: Any, method: str, exc: BaseException,
                topic: str | None) -> None:
        failure = InterceptorFailure(
            interceptor=_name(interceptor), method=method,
            error=f"{type(exc).__name__}: {exc}", topic=topic)
        self.errors_total += 1
        self.errors.append(failure)
        if len(self.errors) > self.max_errors:
            del self.errors[0]
        if self.on_error is not None:
            self.on_error(failure)

    def on_send(self, record: ProducerRecord) -> ProducerRecord:
        """Run every ``on_send`` in order.  A failing interceptor (or one returning
        something that is not a ProducerRecord) is skipped: the next one gets the record
        as it was before it."""
        current = record
        for interceptor in self.interceptors:
            try:
                result = interceptor.on_send(current)
            except Exception as exc:  # noqa: BLE001 - Kafka's rule: never break send()
                self._failed(interceptor, "on_send", exc, current.topic)
                continue
            if not isinstance(result, ProducerRecord):
                self._failed(interceptor, "on_send",
                             TypeError(f"on_send returned {type(result).__name__}, "
                                       "not a ProducerRecord"), current.topic)
                continue
            current = result
        return current

    def on_acknowledgement(self, metadata: RecordMetadata | None,
                           exception: BaseException | None) -> None:
        """Tell every interceptor a record completed; their exceptions are swallowed."""
        for interceptor in self.interceptors:
            try:
                interceptor.on_acknowledgement(metadata, exception)
            except Exception as exc:  # noqa: BLE001 - Kafka's rule: log and go on
                topic = metadata.topic if metadata is not None else None
                self._failed(interceptor, "on_acknowledgement", exc, topic)

    def on_send_error(self, record: ProducerRecord | None, exception: BaseException,
                      topic: str | None = None, partition: int | None = None) -> None:
        """A record failed before it reached a batch (serialization, partitioning, buffer
        wait...).  As Kafka does, interceptors hear of it through ``on_acknowledgement``
        with metadata that has the topic, the partition if known (else -1) and offset -1.
        """
        if record is None and topic is None:
            metadata = None
        else:
            if topic is None and record is not None:
                topic = record.topic
            if partition is None:
                partition = record.partition if record is not None and \
                    record.partition is not None else -1
            metadata = RecordMetadata(topic, partition, -1, -1, -1, -1)
        self.on_acknowledgement(metadata, exception)

    def close(self) -> None:
        for interceptor in self.interceptors:
            try:
                interceptor.close()
            except Exception as exc:  # noqa: BLE001 - one failing close must not stop others
                self._failed(interceptor, "close", exc, None)


def chain_stats(chain: ProducerInterceptors | None) -> list[dict[str, Any]]:
    """What each interceptor of a producer's chain reports (those with ``stats()``), with
    its name and the chain's swallowed errors — for the lab."""
    if not chain:
        return []
    out = []
    for interceptor in chain.interceptors:
        inner = getattr(interceptor, "inner", interceptor)
        stats = getattr(inner, "stats", None)
        entry = {"name": _name(inner)}
        if callable(stats):
            entry.update(stats())
        out.append(entry)
    if out:
        out[0]["chain_errors"] = chain.errors_total
    return out


def _name(interceptor: Any) -> str:
    return type(interceptor).__qualname__


class _Adapter(ProducerInterceptor):
    """Gives an object with only some of the methods the missing defaults."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        if callable(getattr(inner, "on_send", None)):
            self.on_send = inner.on_send  # type: ignore[method-assign]
        if callable(getattr(inner, "on_acknowledgement", None)):
            self.on_acknowledgement = inner.on_acknowledgement  # type: ignore[method-assign]
        if callable(getattr(inner, "close", None)):
            self.close = inner.close  # type: ignore[method-assign]


def load_interceptor(spec: Any, config: Mapping[str, Any] | None = None) -> Any:
    """One ``interceptor.classes`` entry → an interceptor object (dotted path, class or
    instance).  If it has ``configure(configs)``, it is called with ``config`` as Kafka
    does."""
    original = spec
    if isinstance(spec, str):
        # Text resolves through the allow-list only (issue 8): nothing is imported.
        from producer_core import plugins

        try:
            spec = plugins.resolve("interceptor", spec.strip())
        except LookupError as exc:
            raise ConfigError("interceptor.classes", original,
                              f"Class {original} cannot be found: {exc}") from None
    if isinstance(spec, type):
        try:
            spec = spec()
        except Exception as exc:  # noqa: BLE001 - reported as a config error
            raise ConfigError("interceptor.classes", original,
                              f"could not instantiate {spec.__qualname__}: {exc}") from None
    if not (callable(getattr(spec, "on_send", None))
            or callable(getattr(spec, "on_acknowledgement", None))):
        raise ConfigError("interceptor.classes", original,
                          "an interceptor needs on_send() and/or on_acknowledgement()")
    configure = getattr(spec, "configure", None)
    if callable(configure) and config is not None:
        configure(dict(config))
    if isinstance(spec, ProducerInterceptor):
        return spec
    return _Adapter(spec)


def load_interceptors(specs: Iterable[Any], config: Mapping[str, Any] | None = None,
                      **kwargs: Any) -> ProducerInterceptors:
    """The chain for a config's ``interceptor.classes``."""
    return ProducerInterceptors([load_interceptor(s, config) for s in specs], **kwargs)


__all__ = [
    "CountingInterceptor",
    "HeaderInterceptor",
    "InterceptorFailure",
    "ProducerInterceptor",
    "ProducerInterceptors",
    "load_interceptor",
    "load_interceptors",
]
