"""Faults as data: validation, and what each operation does to the producer's view."""

from __future__ import annotations

import pytest
from kafka.record.default_records import DefaultRecordBatchBuilder

from producer_core.cluster import FaultError, validate_script
from producer_core.cluster.client import RawClient
from producer_core.protocol import ErrorCode, MetadataRequest, TopicPartition

TP0 = TopicPartition("orders", 0)


def make_batch(n: int = 3) -> bytes:
    b = DefaultRecordBatchBuilder(2, 0, False, -1, -1, -1, 1 << 20)
    for i in range(n):
        b.append(i, 1_000 + i, None, b"value-%d" % i, [])
    return bytes(b.build())


class Rig(RawClient):
    def part(self, rid, tp=TP0):
        return super().part(rid, tp)

    def request(self, node, req_cls, *args):
        return self.metadata(node, *args)


@pytest.mark.parametrize("fault, field", [
    ({"op": "explode"}, "op"),
    ({"op": "stop_broker"}, "broker"),
    ({"op": "stop_broker", "broker": 9}, "broker"),
    ({"op": "stop_broker", "broker": "1"}, "broker"),
    ({"op": "stop_broker", "broker": 1, "colour": "red"}, "colour"),
    ({"op": "slow_broker", "broker": 1, "extra_ms": -5}, "extra_ms"),
    ({"op": "fail_next", "broker": 1, "count": 0, "error": "NOT_LEADER_OR_FOLLOWER"}, "count"),
    ({"op": "fail_next", "broker": 1, "count": 2, "error": "OOPS"}, "error"),
    ({"op": "fail_next", "broker": 1, "count": 2, "error": "NONE"}, "error"),
    ({"op": "elect_leader", "topic": "ghost", "partition": 0}, "topic"),
    ({"op": "elect_leader", "topic": "orders", "partition": 6}, "partition"),
    ({"op": "stale_metadata", "broker": 1, "duration_ms": 0}, "duration_ms"),
    ({"op": "stop_broker", "broker": 1, "at_ms": -1}, "at_ms"),
    ("stop", "fault"),
])
def test_bad_fault_names_the_field_and_changes_nothing(fault, field):
    rig = Rig()
    before = rig.cluster.snapshot()
    with pytest.raises(FaultError, match=field):
        rig.cluster.apply_fault(fault)
    assert rig.cluster.snapshot() == before
    assert rig.trace == []


def test_fault_error_is_a_value_error():
    assert issubclass(FaultError, ValueError)


def test_script_is_sorted_by_time_keeping_ties_in_order():
    script = validate_script([
        {"at_ms": 300, "op": "start_broker", "broker": 1},
        {"at_ms": 100, "op": "stop_broker", "broker": 1},
        {"at_ms": 100, "op": "cut_network", "broker": 2},
    ], broker_ids=[1, 2, 3])
    assert [(f["at_ms"], f["op"]) for f in script] == [
        (100, "stop_broker"), (100, "cut_network"), (300, "start_broker")]
    with pytest.raises(FaultError, match=r"faults\[1\]\.broker"):
        validate_script([{"op": "stop_broker", "broker": 1},
                         {"op": "stop_broker", "broker": 7}], broker_ids=[1, 2, 3])


def test_fail_next_fails_exactly_n_requests_with_the_named_error():
    rig = Rig()
    rig.cluster.apply_fault({"op": "fail_next", "broker": 1, "count": 2,
                             "error": "NOT_ENOUGH_REPLICAS"})
    rids = [rig.produce(1, {TP0: make_batch()}) for _ in range(3)]
    rig.run(50)
    assert [rig.part(r).error for r in rids] == [
        ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.NOT_ENOUGH_REPLICAS, ErrorCode.NONE]
    assert len(rig.cluster.log("orders", 0)) == 1
    assert rig.trace[0].kind == "fault.injected"


def test_cut_network_is_silent_and_restore_reconnects():
    rig = Rig()
    rig.cluster.apply_fault({"op": "cut_network", "broker": 1})
    lost = rig.produce(1, {TP0: make_batch()})
    rig.run(5000)
    assert lost not in rig.responses
    rig.cluster.apply_fault({"op": "restore_network", "broker": 1})
    ok = rig.produce(1, {TP0: make_batch()})
    rig.run(20)
    assert rig.part(ok).error is ErrorCode.NONE
    kinds = [e.kind for e in rig.trace]
    assert kinds == ["network.cut", "network.restored"]


def test_cut_after_send_loses_the_response():
    rig = Rig()
    rid = rig.produce(1, {TP0: make_batch()})
    rig.cluster.cut_network(1)
    rig.run(100)
    assert rid not in rig.responses


def test_slow_broker_delays_its_responses():
    def latency(extra):
        rig = Rig(network={"jitter": 0})
        if extra:
            rig.cluster.apply_fault({"op": "slow_broker", "broker": 1, "extra_ms": extra})
        rid = rig.produce(1, {TP0: make_batch()})
        rig.run(500)
        return rig.responses[rid][0]

    assert latency(50) - latency(0) >= 50


def test_slow_follower_delays_acks_all():
    fast, slow = Rig(network={"jitter": 0}), Rig(network={"jitter": 0})
    slow.cluster.slow_broker(2, 40)  # a follower of orders-0
    a = fast.produce(1, {TP0: make_batch()})
    b = slow.produce(1, {TP0: make_batch()})
    fast.run(200)
    slow.run(200)
    assert slow.responses[b][0] - fast.responses[a][0] >= 40


def test_stale_metadata_keeps_reporting_the_old_leader():
    rig = Rig(election_delay_ms=100)
    rig.cluster.apply_fault({"op": "stale_metadata", "broker": 2, "duration_ms": 5000})
    rig.cluster.stop_broker(1)
    rig.run(500)
    assert rig.cluster.leader("orders", 0) == 2
    stale = rig.request(2, MetadataRequest, ("orders",))
    fresh = rig.request(3, MetadataRequest, ("orders",))
    rig.run(10)
    assert rig.responses[stale][1].topics["orders"][0].leader == 1
    assert rig.responses[fresh][1].topics["orders"][0].leader == 2
    rig.run(5000)
    again = rig.request(2, MetadataRequest, ("orders",))
    rig.run(10)
    assert rig.responses[again][1].topics["orders"][0].leader == 2


def test_elect_leader_fault_and_not_leader_for_the_old_one():
    rig = Rig()
    rig.cluster.apply_fault({"op": "elect_leader", "topic": "orders", "partition": 0,
                             "broker": 3})
    assert rig.cluster.leader("orders", 0) == 3
    rid = rig.produce(1, {TP0: make_batch()})
    rig.run(20)
    assert rig.part(rid).error is ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert rig.part(rid).current_leader.leader_id == 3


def test_elect_leader_to_a_dead_broker_is_refused():
    rig = Rig(election_delay_ms=10)
    rig.cluster.stop_broker(3)
    rig.run(50)
    with pytest.raises(FaultError, match="broker 3"):
        rig.cluster.apply_fault({"op": "elect_leader", "topic": "orders", "partition": 0,
                                 "broker": 3})


def test_injected_not_enough_replicas_after_append_has_written_the_records():
    rig = Rig()
    rig.cluster.fail_next(1, 1, "NOT_ENOUGH_REPLICAS_AFTER_APPEND")
    rid = rig.produce(1, {TP0: make_batch(3)})
    rig.run(20)
    assert rig.part(rid).error is ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
    # the name says the leader appended before answering: a blind retry duplicates
    assert rig.cluster.log_end_offset("orders", 0) == 3
