"""The interceptor chain: Kafka's rule that a failing interceptor is recorded and skipped."""

from __future__ import annotations

import pytest

from producer_core.errors import ConfigError, KafkaTimeoutError
from producer_core.interceptors import (
    ProducerInterceptor,
    ProducerInterceptors,
    load_interceptor,
    load_interceptors,
)
from producer_core.types import ProducerRecord, RecordMetadata


class AddHeader(ProducerInterceptor):
    def __init__(self, name="seen"):
        self.name = name
        self.acks = []
        self.closed = False

    def on_send(self, record):
        return record.replace(headers=[*record.headers, (self.name, b"1")])

    def on_acknowledgement(self, metadata, exception):
        self.acks.append((metadata, exception))

    def close(self):
        self.closed = True


class Broken(ProducerInterceptor):
    def on_send(self, record):
        raise RuntimeError("boom")

    def on_acknowledgement(self, metadata, exception):
        raise ValueError("ack boom")


class ReturnsNone(ProducerInterceptor):
    def on_send(self, record):
        return None


def test_chain_runs_in_order():
    chain = ProducerInterceptors([AddHeader("a"), AddHeader("b")])
    out = chain.on_send(ProducerRecord("orders", b"v"))
    assert out.headers == [("a", b"1"), ("b", b"1")]
    assert chain.errors == []


def test_failing_interceptor_is_recorded_and_the_chain_continues_with_the_previous_record():
    first, last = AddHeader("a"), AddHeader("c")
    failures = []
    chain = ProducerInterceptors([first, Broken(), ReturnsNone(), last],
                                 on_error=failures.append)
    out = chain.on_send(ProducerRecord("orders", b"v"))
    assert out.headers == [("a", b"1"), ("c", b"1")]
    assert [e["method"] for e in chain.errors] == ["on_send", "on_send"]
    assert chain.errors[0] == {"interceptor": "Broken", "method": "on_send",
                               "error": "RuntimeError: boom", "topic": "orders"}
    assert "not a ProducerRecord" in chain.errors[1]["error"]
    assert failures == chain.errors and chain.errors_total == 2


def test_acknowledgements_reach_everyone_despite_failures():
    good = AddHeader()
    chain = ProducerInterceptors([Broken(), good])
    md = RecordMetadata("orders", 1, 42, 1000)
    chain.on_acknowledgement(md, None)
    assert good.acks == [(md, None)]
    assert chain.errors[0]["method"] == "on_acknowledgement"
    assert chain.errors[0]["error"] == "ValueError: ack boom"


def test_send_error_is_reported_as_an_acknowledgement_like_kafka():
    good = AddHeader()
    chain = ProducerInterceptors([good])
    err = KafkaTimeoutError("Topic nope not present in metadata after 60000 ms.")
    chain.on_send_error(ProducerRecord("nope", b"v"), err)
    chain.on_send_error(ProducerRecord("orders", b"v", partition=3), err)
    chain.on_send_error(None, err)
    assert good.acks[0] == (RecordMetadata("nope", -1, -1, -1, -1, -1), err)
    assert good.acks[1][0].partition == 3 and good.acks[1][0].offset == -1
    assert good.acks[2] == (None, err)


def test_errors_are_bounded():
    chain = ProducerInterceptors([Broken()], max_errors=3)
    for _ in range(10):
        chain.on_send(ProducerRecord("t", b"v"))
    assert len(chain.errors) == 3 and chain.errors_total == 10


def test_close_closes_every_interceptor():
    a, b = AddHeader(), AddHeader()
    chain = ProducerInterceptors([a, b])
    chain.close()
    assert a.closed and b.closed


def test_loading_from_config_values():
    chain = load_interceptors(["producer_core.interceptors.ProducerInterceptor", AddHeader,
                               AddHeader("x")], config={"client.id": "p"})
    assert len(chain) == 3
    record = ProducerRecord("t", b"v")
    assert chain.on_send(record).headers == [("seen", b"1"), ("x", b"1")]

    class OnlyAck:
        def __init__(self):
            self.got = []
            self.configs = None

        def configure(self, configs):
            self.configs = configs

        def on_acknowledgement(self, metadata, exception):
            self.got.append(metadata)

    raw = OnlyAck()
    adapted = load_interceptor(raw, config={"client.id": "p"})
    assert raw.configs == {"client.id": "p"}
    assert adapted.on_send(record) is record  # missing on_send passes records through
    adapted.on_acknowledgement("md", None)
    assert raw.got == ["md"]


@pytest.mark.parametrize("spec, message", [
    ("no.such.Interceptor", "cannot be found"),
    (object(), "needs on_send"),
])
def test_bad_interceptor_specs(spec, message):
    with pytest.raises(ConfigError, match=message):
        load_interceptor(spec)


def test_chain_accepts_config_values_directly():
    chain = ProducerInterceptors(["producer_core.interceptors.ProducerInterceptor", AddHeader])
    assert [type(i).__name__ for i in chain.interceptors] == ["ProducerInterceptor",
                                                              "AddHeader"]
    assert chain.on_send(ProducerRecord("t", b"v")).headers == [("seen", b"1")]
