"""The network model between the producer and each broker, and one connection per broker.

Times here are *float* milliseconds: a request may cost 0.3 ms of broker time, and a
pipeline of such requests must add up correctly.  Only the moment an event is delivered
is rounded up to the scheduler's integer millisecond (``due()``), so rounding never
accumulates along a connection.

Model of one request on a connection:

1. the bytes go out on the producer's link to that broker (``bandwidth``): requests on
   one TCP connection leave one after another;
2. they arrive after half a round trip, scaled by seeded jitter — never before the
   previous request on the same connection (TCP keeps order);
3. the broker handles requests of a connection **one at a time, in order** (Kafka mutes a
   connection while one of its requests is in progress), paying a per-request and a
   per-byte cost plus any ``slow_broker`` extra;
4. the response comes back after half a round trip.

So pipelining (``max.in.flight.requests.per.connection`` > 1) overlaps only network time,
as it does against a real broker.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields
from random import Random
from typing import Any

from producer_core import timemodel

PARAM_KEYS = ("rtt_ms", "bandwidth_mbps", "jitter", "broker_request_ms", "broker_byte_ns",
              "replication_ms", "catch_up_ms")


class NetworkConfigError(ValueError):
    """A bad ``cluster.network`` setting; the message names the key, value and rule."""


def due(t_f: float) -> int:
    """The scheduler millisecond at which something that happens at float time ``t_f`` is seen."""
    # The epsilon absorbs float noise (0.1 + 0.2) so an exact 3.0 is not pushed to 4.
    return math.ceil(t_f - 1e-9)


@dataclass(frozen=True, slots=True)
class LinkParams:
    """Network and broker costs for one broker (defaults: ``timemodel``)."""

    rtt_ms: float = timemodel.NETWORK["rtt_ms"]
    bandwidth_mbps: float = timemodel.NETWORK["bandwidth_mbps"]
    jitter: float = timemodel.NETWORK["jitter"]
    broker_request_ms: float = timemodel.BROKER["broker_request_ms"]
    broker_byte_ns: float = timemodel.BROKER["broker_byte_ns"]
    replication_ms: float = timemodel.BROKER["replication_ms"]
    catch_up_ms: float = timemodel.BROKER["catch_up_ms"]

    def to_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _check_params(d: dict, where: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in d.items():
        if key not in PARAM_KEYS:
            raise NetworkConfigError(
                f"{where}.{key}: unknown network setting; known: {', '.join(PARAM_KEYS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise NetworkConfigError(f"{where}.{key}: must be a number, got {value!r}")
        if key == "bandwidth_mbps" and value <= 0:
            raise NetworkConfigError(f"{where}.{key}: must be > 0, got {value!r}")
        if key == "jitter" and not 0 <= value < 1:
            raise NetworkConfigError(f"{where}.{key}: must be in [0, 1), got {value!r}")
        if value < 0:
            raise NetworkConfigError(f"{where}.{key}: must be >= 0, got {value!r}")
        out[key] = float(value)
    return out


class NetworkModel:
    """Per-broker costs plus seeded jitter.

    ``network`` is the scenario's ``cluster.network`` dict: any of ``PARAM_KEYS`` apply
    to every broker, and ``"brokers": {"2": {"rtt_ms": 20}}`` overrides per broker.
    """

    def __init__(self, rng: Random, broker_ids: list[int],
                 network: dict[str, Any] | None = None) -> None:
        network = dict(network or {})
        per_broker = network.pop("brokers", None) or {}
        if not isinstance(per_broker, dict):
            raise NetworkConfigError("network.brokers: must be a mapping of broker id to settings")
        base = _check_params(network, "network")
        self._rng = rng
        self._params: dict[int, LinkParams] = {}
        overrides: dict[int, dict[str, float]] = {}
        for key, d in per_broker.items():
            try:
                bid = int(key)
            except (TypeError, ValueError):
                raise NetworkConfigError(f"network.brokers.{key}: not a broker id") from None
            if bid not in broker_ids:
                raise NetworkConfigError(f"network.brokers.{key}: no such broker")
            if not isinstance(d, dict):
                raise NetworkConfigError(f"network.brokers.{key}: must be a mapping")
            overrides[bid] = _check_params(d, f"network.brokers.{key}")
        for bid in broker_ids:
            self._params[bid] = LinkParams(**{**base, **overrides.get(bid, {})})

    def params(self, broker: int) -> LinkParams:
        return self._params[broker]

    def one_way_ms(self, broker: int) -> float:
        """Half a round trip with seeded jitter."""
        p = self._params[broker]
        half = p.rtt_ms / 2.0
        if p.jitter:
            half *= 1.0 + p.jitter * (2.0 * self._rng.random() - 1.0)
        return half

    def wire_ms(self, broker: int, nbytes: int) -> float:
        """Time to push ``nbytes`` onto the link (bandwidth in Mbit/s = 1000 bits per ms)."""
        return nbytes * 8.0 / (self._params[broker].bandwidth_mbps * 1000.0)

    def processing_ms(self, broker: int, nbytes: int, extra_ms: float = 0.0) -> float:
        p = self._params[broker]
        return p.broker_request_ms + nbytes * p.broker_byte_ns / 1e6 + extra_ms

    def replication_ms(self, follower: int, extra_ms: float = 0.0) -> float:
        """How long after the leader's append the follower acknowledges (jittered)."""
        p = self._params[follower]
        base = p.replication_ms
        if p.jitter:
            base *= 1.0 + p.jitter * (2.0 * self._rng.random() - 1.0)
        return base + extra_ms

    def describe(self) -> dict[str, dict[str, float]]:
        return {str(b): p.to_dict() for b, p in self._params.items()}


class Connection:
    """One TCP connection from the producer to a broker (Kafka multiplexes every request
    type on it).  ``state`` is ``open``, ``closed`` (the client closed it: answers are
    dropped, what the broker already read still runs) or ``lost`` (broker stopped or
    network cut: everything on it is gone).  A closed connection is replaced by its
    ``successor()``; the producer's link to the broker (``uplink_free_f``) carries over."""

    __slots__ = ("broker", "busy", "busy_f", "generation", "last_arrival_f", "outstanding",
                 "queue", "state", "uplink_free_f")

    def __init__(self, broker: int, generation: int = 0, uplink_free_f: float = 0.0) -> None:
        self.broker = broker
        self.generation = generation
        self.state = "open"
        self.uplink_free_f = uplink_free_f  # when the producer's link is free again
        self.last_arrival_f = 0.0  # TCP order: nothing arrives before its predecessor
        self.busy_f = 0.0  # when the broker finished the previous request (float ms)
        self.busy = False  # a request of this connection is being handled (muted)
        self.queue: deque = deque()  # arrived or in-transit requests, in order
        self.outstanding: dict[int, Any] = {}  # request_id -> callback awaiting a response

    def close(self, state: str) -> None:
        """End this connection: unread requests and pending answers are dropped."""
        self.state = state
        self.queue.clear()
        self.outstanding.clear()

    def successor(self) -> Connection:
        return Connection(self.broker, self.generation + 1, self.uplink_free_f)

    def transmit(self, now_f: float, wire_ms: float, one_way_ms: float) -> float:
        """Put a request on the wire; return its (float) arrival time at the broker."""
        start = max(now_f, self.uplink_free_f)
        self.uplink_free_f = start + wire_ms
        arrival = max(self.uplink_free_f + one_way_ms, self.last_arrival_f)
        self.last_arrival_f = arrival
        return arrival
