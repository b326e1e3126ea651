"""The network model: wire time, jitter, per-connection order, broker cost."""

from __future__ import annotations

import random

import pytest

from producer_core.cluster.network import Connection, NetworkConfigError, NetworkModel, due


def test_defaults_come_from_the_time_model():
    from producer_core import timemodel

    net = NetworkModel(random.Random(1), [1, 2, 3])
    p = net.params(2)
    assert p.rtt_ms == timemodel.NETWORK["rtt_ms"]
    assert p.broker_request_ms == timemodel.BROKER["broker_request_ms"]


def test_wire_time_follows_bandwidth():
    net = NetworkModel(random.Random(1), [1], {"bandwidth_mbps": 100})
    # 125 000 bytes = 1 Mbit -> 10 ms at 100 Mbit/s
    assert net.wire_ms(1, 125_000) == pytest.approx(10.0)


def test_per_broker_override():
    net = NetworkModel(random.Random(1), [1, 2], {"rtt_ms": 2, "brokers": {"2": {"rtt_ms": 40}}})
    assert net.params(1).rtt_ms == 2 and net.params(2).rtt_ms == 40


def test_jitter_is_bounded_seeded_and_varies():
    a = NetworkModel(random.Random(5), [1], {"rtt_ms": 10, "jitter": 0.2})
    b = NetworkModel(random.Random(5), [1], {"rtt_ms": 10, "jitter": 0.2})
    xs = [a.one_way_ms(1) for _ in range(200)]
    assert xs == [b.one_way_ms(1) for _ in range(200)]
    assert all(4.0 <= x <= 6.0 for x in xs)
    assert len(set(xs)) > 100


def test_zero_jitter_is_exact():
    net = NetworkModel(random.Random(5), [1], {"rtt_ms": 3, "jitter": 0})
    assert {net.one_way_ms(1) for _ in range(10)} == {1.5}


def test_processing_cost_has_fixed_and_per_byte_parts():
    net = NetworkModel(random.Random(1), [1], {"broker_request_ms": 0.5, "broker_byte_ns": 10})
    assert net.processing_ms(1, 0) == pytest.approx(0.5)
    assert net.processing_ms(1, 100_000) == pytest.approx(1.5)
    assert net.processing_ms(1, 0, extra_ms=7) == pytest.approx(7.5)


def test_connection_keeps_tcp_order_and_serialises_the_link():
    conn = Connection(1)
    first = conn.transmit(0.0, wire_ms=5.0, one_way_ms=1.0)
    second = conn.transmit(0.0, wire_ms=1.0, one_way_ms=0.1)  # smaller, sent right after
    assert first == pytest.approx(6.0)
    assert second >= first  # cannot overtake on one TCP connection
    assert conn.uplink_free_f == pytest.approx(6.0)


def test_due_rounds_up_without_float_noise():
    assert due(3.0) == 3
    assert due(0.1 + 0.2 + 2.7) == 3
    assert due(3.0001) == 4


@pytest.mark.parametrize("bad, field", [
    ({"rtt_ms": -1}, "network.rtt_ms"),
    ({"jitter": 1.5}, "network.jitter"),
    ({"bandwidth_mbps": 0}, "network.bandwidth_mbps"),
    ({"rtt_ms": "fast"}, "network.rtt_ms"),
    ({"speed": 1}, "network.speed"),
    ({"brokers": {"9": {"rtt_ms": 1}}}, "network.brokers.9"),
    ({"brokers": {"1": {"rtt_ms": True}}}, "network.brokers.1.rtt_ms"),
])
def test_bad_settings_name_the_key(bad, field):
    with pytest.raises(NetworkConfigError, match=field.replace(".", r"\.")):
        NetworkModel(random.Random(1), [1, 2, 3], bad)
