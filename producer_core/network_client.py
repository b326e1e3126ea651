"""Connections from the producer to brokers (Kafka's ``NetworkClient`` and
``ClusterConnectionStates``), over the mock cluster's simulated network.

Rules enforced here:

* At most ``max.in.flight.requests.per.connection`` requests without an answer per
  broker (produce, metadata and init-producer-id requests all count, as in Kafka).
* ``request.timeout.ms``: a request unanswered for that long fails, and — as Kafka does —
  the connection is closed, failing every other request in flight on it too.  A response
  that arrives afterwards is ignored.
* A dropped connection (a stopped broker, or a timeout) is re-opened only after the
  reconnect backoff: ``reconnect.backoff.ms`` doubling per failed attempt up to
  ``reconnect.backoff.max.ms`` with ±20 % jitter; a successful response resets it.
* ``acks=0`` produce requests expect no response: they complete as soon as they are
  handed to the network (Kafka completes them once written to the socket).

Simplified: opening a connection costs no time of its own (no TCP/TLS handshake model);
the first request to a stopped broker fails after the time the cluster takes to refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random
from typing import Any

from producer_core.metadata import exponential_backoff
from producer_core.protocol import Disconnected, ProduceRequest
from producer_core.scheduler import PRIORITY_NETWORK


class RequestTimedOut:
    """Local outcome: no answer within ``request.timeout.ms`` (Kafka: ``wasTimedOut``)."""

    __slots__ = ("node", "request_id", "timeout_ms")

    def __init__(self, request_id: int, node: int, timeout_ms: int) -> None:
        self.request_id = request_id
        self.node = node
        self.timeout_ms = timeout_ms


class NoResponse:
    """Local outcome of an ``acks=0`` produce: written, no answer expected."""

    __slots__ = ("node", "request_id")

    def __init__(self, request_id: int, node: int) -> None:
        self.request_id = request_id
        self.node = node


class InFlightRequest:
    __slots__ = (
        "batches",
        "kind",
        "node",
        "on_response",
        "records",
        "request",
        "sent_ms",
        "timer",
    )

    def __init__(self, request: Any, node: int, sent_ms: int,
                 on_response: Callable[[Any], None], kind: str) -> None:
        self.request = request
        self.node = node
        self.sent_ms = sent_ms
        self.on_response = on_response
        self.timer = None
        self.kind = kind
        self.records = 0
        self.batches: list = []  # the ProducerBatch objects of a produce request


class _Node:
    __slots__ = ("backoff_until", "failures", "id", "in_flight", "state")

    def __init__(self, node_id: int) -> None:
        self.id = node_id
        self.in_flight: dict[int, InFlightRequest] = {}
        self.backoff_until = 0
        self.failures = 0
        self.state = "disconnected"  # disconnected | ready | backoff


class NetworkClient:
    """In-flight tracking, request timeouts and reconnect backoff, per broker."""

    def __init__(self, cluster: Any, scheduler: Any, *, max_in_flight: int,
                 request_timeout_ms: int, reconnect_backoff_ms: int,
                 reconnect_backoff_max_ms: int, rng: Random,
                 on_disconnect: Callable[[int], None] | None = None) -> None:
        self.cluster = cluster
        self.scheduler = scheduler
        self.max_in_flight = max_in_flight
        self.request_timeout_ms = request_timeout_ms
        self.reconnect_backoff_ms = reconnect_backoff_ms
        self.reconnect_backoff_max_ms = reconnect_backoff_max_ms
        self._rng = rng
        self._nodes: dict[int, _Node] = {}
        self._next_request_id = 0
        self.on_disconnect = on_disconnect
        self.max_in_flight_seen = 0  # for the invariant checks
        self.closed = False

    # -- ids and nodes ------------------------------------------------------------------

    def next_request_id(self) -> int:
        self._next_request_id += 1
        return self._next_request_id

    def _node(self, node_id: int) -> _Node:
        n = self._nodes.get(node_id)
        if n is None:
            n = self._nodes[node_id] = _Node(node_id)
        return n

    def nodes(self) -> list[int]:
        return sorted(self._nodes)

    # -- readiness ----------------------------------------------------------------------

    def is_ready(self, node_id: int, now_ms: int) -> bool:
        """Connected (or connectable now) with a spare in-flight slot."""
        n = self._node(node_id)
        if n.backoff_until > now_ms:
            return False
        return len(n.in_flight) < self.max_in_flight

    def connection_delay(self, node_id: int, now_ms: int) -> int:
        """Milliseconds until the node may be tried again (0 if now)."""
        n = self._nodes.get(node_id)
        if n is None:
            return 0
        return max(0, n.backoff_until - now_ms)

    def in_flight_count(self, node_id: int | None = None) -> int:
        if node_id is None:
            return sum(len(n.in_flight) for n in self._nodes.values())
        n = self._nodes.get(node_id)
        return 0 if n is None else len(n.in_flight)

    def in_flight_requests(self, node_id: int) -> list[InFlightRequest]:
        n = self._nodes.get(node_id)
        return [] if n is None else list(n.in_flight.values())

    def has_in_flight(self, kind: str | None = None) -> bool:
        """Any request (of ``kind``: produce, metadata, init_producer_id) awaiting an answer."""
        if kind is None:
            return any(n.in_flight for n in self._nodes.values())
        return any(inf.kind == kind for n in self._nodes.values()
                   for inf in n.in_flight.values())

    def state(self, node_id: int, now_ms: int) -> str:
        n = self._nodes.get(node_id)
        if n is None:
            return "disconnected"
        if n.backoff_until > now_ms:
            return "backoff"
        return n.state

    def least_loaded_node(self, candidates: list[int], now_ms: int) -> int | None:
        """Kafka's ``leastLoadedNode``: a usable node with the fewest requests in flight,
        starting the scan at a random offset so load spreads."""
        if not candidates:
            return None
        nodes = sorted(candidates)
        start = self._rng.randrange(len(nodes))
        best, best_load = None, None
        for i in range(len(nodes)):
            nid = nodes[(start + i) % len(nodes)]
            if not self.is_ready(nid, now_ms):
                continue
            load = self.in_flight_count(nid)
            if best_load is None or load < best_load:
                best, best_load = nid, load
                if load == 0:
                    break
        return best

    # -- sending ------------------------------------------------------------------------

    def send(self, node_id: int, request: Any, on_response: Callable[[Any], None],
             kind: str = "produce") -> InFlightRequest:
        """Hand ``request`` to the network; ``on_response`` gets exactly one outcome:
        the broker's response, ``Disconnected``, ``RequestTimedOut`` or ``NoResponse``."""
        now = self.scheduler.now_ms
        n = self._node(node_id)
        if len(n.in_flight) >= self.max_in_flight:
            raise RuntimeError(
                f"node {node_id} already has {len(n.in_flight)} requests in flight "
                f"(max.in.flight.requests.per.connection={self.max_in_flight})")
        rid = request.request_id
        inf = InFlightRequest(request, node_id, now, on_response, kind)
        n.in_flight[rid] = inf
        if n.state != "ready":
            n.state = "ready"
        count = len(n.in_flight)
        self.max_in_flight_seen = max(self.max_in_flight_seen, count)
        expects_response = not (isinstance(request, ProduceRequest) and request.acks == 0)
        if expects_response:
            inf.timer = self.scheduler.call_at(
                now + self.request_timeout_ms, lambda: self._timed_out(node_id, rid),
                priority=PRIORITY_NETWORK, label="request.timeout")
            self.cluster.send(node_id, request, lambda resp: self._receive(node_id, rid, resp))
        else:
            self.cluster.send(node_id, request, lambda resp: None)
            self.scheduler.call_later(
                0, lambda: self._receive(node_id, rid, NoResponse(rid, node_id)),
                priority=PRIORITY_NETWORK, label="acks0.done")
        return inf

    def _receive(self, node_id: int, rid: int, response: Any) -> None:
        n = self._node(node_id)
        inf = n.in_flight.pop(rid, None)
        if inf is None:
            return  # answered after a timeout or disconnect: Kafka has forgotten it
        if inf.timer is not None:
            inf.timer.cancel()
        if isinstance(response, Disconnected):
            self._disconnected(n)
            inf.on_response(response)
            # Kafka fails every request in flight on a dropped connection.
            self._fail_all(n, lambda r: Disconnected(r, node_id, response.reason))
            return
        if not isinstance(response, NoResponse):
            n.failures = 0
        inf.on_response(response)

    def _timed_out(self, node_id: int, rid: int) -> None:
        n = self._node(node_id)
        inf = n.in_flight.pop(rid, None)
        if inf is None:
            return
        self._disconnected(n)
        inf.on_response(RequestTimedOut(rid, node_id, self.request_timeout_ms))
        self._fail_all(n, lambda r: Disconnected(r, node_id, "connection closed after a "
                                                 "request timed out"))

    def _fail_all(self, n: _Node, make: Callable[[int], Any]) -> None:
        while n.in_flight:
            rid = next(iter(n.in_flight))
            inf = n.in_flight.pop(rid)
            if inf.timer is not None:
                inf.timer.cancel()
            inf.on_response(make(rid))

    def _disconnected(self, n: _Node) -> None:
        now = self.scheduler.now_ms
        n.state = "disconnected"
        # Tell the broker side the socket is gone: its unanswered requests are dropped and
        # the next connection does not queue behind them (MockCluster.close_connection).
        close = getattr(self.cluster, "close_connection", None)
        if close is not None:
            close(n.id)
        n.backoff_until = now + exponential_backoff(
            self.reconnect_backoff_ms, self.reconnect_backoff_max_ms, n.failures, self._rng)
        n.failures += 1
        if self.on_disconnect is not None:
            self.on_disconnect(n.id)

    def snapshot(self, broker_ids: list[int], now_ms: int) -> list[dict]:
        """SEAMS §1 ``inflight``: one entry per broker."""
        out = []
        for b in broker_ids:
            n = self._nodes.get(b)
            reqs = []
            if n is not None:
                for inf in list(n.in_flight.values())[:16]:
                    req = inf.request
                    if isinstance(req, ProduceRequest):
                        reqs.append({"id": req.request_id, "batches": len(req.batches),
                                     "records": inf.records,
                                     "bytes": req.size_bytes, "sent_ms": inf.sent_ms,
                                     "kind": "produce"})
                    else:
                        reqs.append({"id": req.request_id, "batches": 0, "records": 0,
                                     "bytes": 0, "sent_ms": inf.sent_ms, "kind": inf.kind})
            out.append({"broker": b, "count": 0 if n is None else len(n.in_flight),
                        "max": self.max_in_flight, "state": self.state(b, now_ms),
                        "requests": reqs})
        return out
