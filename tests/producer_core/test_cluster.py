"""The mock cluster on its own: requests in, responses out, logs, leaders, ISR.

Batches are built with kafka-python's encoder (an independent implementation), so these
tests check the broker against bytes nobody here wrote.
"""

from __future__ import annotations

import pytest
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from producer_core.cluster import ClusterConfigError
from producer_core.cluster.client import RawClient
from producer_core.protocol import (
    Disconnected,
    ErrorCode,
    InitProducerIdRequest,
    MetadataRequest,
    TopicPartition,
)

TP0 = TopicPartition("orders", 0)


def make_batch(n: int = 3, *, pid: int = -1, epoch: int = -1, seq: int = -1,
               value: bytes = b"v" * 20) -> bytes:
    b = DefaultRecordBatchBuilder(2, 0, False, pid, epoch, seq, 1 << 22)
    for i in range(n):
        b.append(i, 1_000 + i, b"k%d" % i, value, [])
    return bytes(b.build())


class Rig(RawClient):
    """RawClient with this file's defaults: ``part`` defaults to orders-0."""

    def part(self, rid: int, tp: TopicPartition = TP0):
        return super().part(rid, tp)

    def request(self, node: int, req_cls, *args) -> int:
        if req_cls is MetadataRequest:
            return self.metadata(node, *args)
        return self.init_producer_id(node)


def test_produce_assigns_offsets_and_stores_decodable_bytes():
    rig = Rig()
    r1 = rig.produce(1, {TP0: make_batch(3)})
    r2 = rig.produce(1, {TP0: make_batch(4)})
    rig.run(50)
    assert rig.part(r1).error is ErrorCode.NONE and rig.part(r1).base_offset == 0
    assert rig.part(r2).base_offset == 3
    stored = rig.cluster.log("orders", 0)
    decoded = [DefaultRecordBatch(b) for b in stored]
    assert [d.base_offset for d in decoded] == [0, 3]
    assert all(d.validate_crc() for d in decoded)
    assert [r.offset for r in decoded[1]] == [3, 4, 5, 6]
    assert rig.cluster.log_end_offset("orders", 0) == 7


def test_responses_arrive_later_in_virtual_time_and_in_order():
    rig = Rig()
    big = make_batch(150, value=b"x" * 100)
    rids = [rig.produce(1, {TP0: big}) for _ in range(5)]
    assert rig.responses == {}
    rig.run(100)
    times = [rig.responses[r][0] for r in rids]
    assert times == sorted(times)
    assert times[0] >= 2  # a round trip plus broker and replication time
    # one request at a time per connection: pipelining overlaps only the network
    assert times[-1] - times[0] >= 4 * 1.5


def test_not_leader_carries_the_leader_hint():
    rig = Rig()
    rid = rig.produce(2, {TP0: make_batch()})
    rig.run(20)
    resp = rig.part(rid)
    assert resp.error is ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert resp.current_leader is not None and resp.current_leader.leader_id == 1
    assert rig.cluster.log("orders", 0) == []


def test_unknown_partition_and_oversized_and_corrupt_batches():
    rig = Rig(time_model={"max_message_bytes": 500})
    good = make_batch(2)
    corrupt = bytearray(make_batch(2))
    corrupt[-1] ^= 0xFF
    rids = [rig.produce(1, {TopicPartition("nope", 0): good}),
            rig.produce(1, {TP0: make_batch(20, value=b"y" * 50)}),
            rig.produce(1, {TP0: bytes(corrupt)})]
    rig.run(50)
    assert rig.part(rids[0], TopicPartition("nope", 0)).error is \
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    assert rig.part(rids[1]).error is ErrorCode.MESSAGE_TOO_LARGE
    assert rig.part(rids[2]).error is ErrorCode.CORRUPT_MESSAGE
    assert "CRC" in rig.part(rids[2]).error_message
    assert rig.cluster.log("orders", 0) == []


def test_idempotent_duplicate_gets_original_offset_and_gap_is_out_of_order():
    rig = Rig()
    rid = rig.request(1, InitProducerIdRequest)
    rig.run(10)
    pid = rig.responses[rid][1].producer_id
    first = make_batch(2, pid=pid, epoch=0, seq=0)
    a = rig.produce(1, {TP0: first})
    b = rig.produce(1, {TP0: make_batch(3, pid=pid, epoch=0, seq=2)})
    dup = rig.produce(1, {TP0: first})  # a retry of a batch the broker already has
    gap = rig.produce(1, {TP0: make_batch(1, pid=pid, epoch=0, seq=9)})
    rig.run(50)
    assert rig.part(a).base_offset == 0 and rig.part(b).base_offset == 2
    assert rig.part(dup).error is ErrorCode.NONE and rig.part(dup).base_offset == 0
    assert rig.part(gap).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert len(rig.cluster.log("orders", 0)) == 2


def test_new_producer_must_start_at_sequence_zero():
    rig = Rig()
    r = rig.produce(1, {TP0: make_batch(2, pid=77, epoch=0, seq=4)})
    rig.run(20)
    assert rig.part(r).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER


def test_acks_zero_gets_no_response_but_is_appended():
    rig = Rig()
    rig.produce(1, {TP0: make_batch(2)}, acks=0)
    rig.run(50)
    assert rig.responses == {}
    assert len(rig.cluster.log("orders", 0)) == 1


def test_acks_one_answers_before_replication():
    fast, slow = Rig(), Rig()
    a = fast.produce(1, {TP0: make_batch()}, acks=1)
    b = slow.produce(1, {TP0: make_batch()}, acks=-1)
    fast.run(50)
    slow.run(50)
    assert fast.responses[a][0] < slow.responses[b][0]


def test_metadata_lists_leaders_isr_and_unknown_topics():
    rig = Rig(topics={"orders": 3, "users": 2}, auto_create_topics=False)
    rid = rig.request(2, MetadataRequest, ("orders", "ghost"))
    rig.run(10)
    resp = rig.responses[rid][1]
    assert resp.brokers == (1, 2, 3)
    assert [p.leader for p in resp.topics["orders"]] == [1, 2, 3]
    assert resp.topics["orders"][1].isr == (2, 3, 1)
    assert resp.topic_errors == {"ghost": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}
    assert "users" not in resp.topics


def test_a_metadata_request_auto_creates_an_unknown_topic():
    """auto.create.topics.enable=true (Kafka's default): the broker creates the topic with
    num.partitions=1 and answers LEADER_NOT_AVAILABLE; the next request sees it."""
    rig = Rig(topics={"orders": 3})
    first = rig.request(2, MetadataRequest, ("ghost",))
    rig.run(10)
    assert rig.responses[first][1].topic_errors == {"ghost": ErrorCode.LEADER_NOT_AVAILABLE}
    assert rig.cluster.topics() == {"orders": 3, "ghost": 1}
    created = [e for e in rig.trace if e.kind == "topic.created"]
    assert [(e.data["topic"], e.data["partitions"]) for e in created] == [("ghost", 1)]
    again = rig.request(1, MetadataRequest, ("ghost",))
    rig.run(10)
    (pm,) = rig.responses[again][1].topics["ghost"]
    assert pm.leader is not None and len(pm.replicas) == 1  # default.replication.factor 1
    # A request for all topics creates nothing; an illegal name is not created either.
    rig.request(1, MetadataRequest, ("bad name!",))
    rig.run(10)
    assert "bad name!" not in rig.cluster.topics()
    snap = rig.cluster.snapshot()
    assert {(p["topic"], p["partition"]) for p in snap["partitions"]} >= {("ghost", 0)}


def test_init_producer_id_hands_out_distinct_ids():
    rig = Rig()
    a = rig.request(1, InitProducerIdRequest)
    b = rig.request(3, InitProducerIdRequest)
    rig.run(10)
    ra, rb = rig.responses[a][1], rig.responses[b][1]
    assert ra.producer_id != rb.producer_id and ra.producer_epoch == 0


def test_stopped_leader_disconnects_then_controller_elects_after_delay():
    rig = Rig(election_delay_ms=3000)
    rig.run(5)
    rig.cluster.stop_broker(1)
    rid = rig.produce(1, {TP0: make_batch()})
    rig.run(10)
    t, resp = rig.responses[rid]
    assert isinstance(resp, Disconnected) and t <= rig.sched.now_ms
    assert rig.cluster.leader("orders", 0) == 1  # not yet noticed
    rig.run(3000)
    assert rig.cluster.leader("orders", 0) == 2
    assert rig.cluster.leader_epoch("orders", 0) == 1
    assert rig.cluster.isr("orders", 0) == [2, 3]
    kinds = [e.kind for e in rig.trace]
    assert kinds[0] == "broker.stopped" and "leader.elected" in kinds


def test_in_flight_requests_on_a_stopped_broker_see_disconnected():
    rig = Rig()
    rid = rig.produce(1, {TP0: make_batch()})
    rig.cluster.stop_broker(1)  # before the request is handled
    rig.run(20)
    assert isinstance(rig.responses[rid][1], Disconnected)
    assert rig.cluster.log("orders", 0) == []


def test_restarted_broker_catches_up_then_rejoins_isr():
    rig = Rig(election_delay_ms=100)
    rig.cluster.stop_broker(3)
    rig.run(200)
    assert 3 not in rig.cluster.isr("orders", 0)
    rig.cluster.start_broker(3)
    rig.run(100)
    assert 3 not in rig.cluster.isr("orders", 0)  # still catching up
    rig.run(3000)
    assert rig.cluster.isr("orders", 0) == [1, 2, 3]
    assert rig.cluster.leader("orders", 2) == 1  # leadership does not move back by itself


def test_last_isr_member_down_leaves_partition_offline_until_it_returns():
    rig = Rig(topics={"t": 1}, brokers=2, replication_factor=2, election_delay_ms=50)
    rig.cluster.stop_broker(2)
    rig.run(100)
    rig.cluster.stop_broker(1)
    rig.run(100)
    assert rig.cluster.leader("t", 0) is None
    assert rig.cluster.isr("t", 0) == [1]  # Kafka keeps the last ISR member recorded
    rig.cluster.start_broker(2)  # not in ISR: no unclean election
    rig.run(100)
    assert rig.cluster.leader("t", 0) is None
    rig.cluster.start_broker(1)
    assert rig.cluster.leader("t", 0) == 1


def test_acks_all_below_min_insync_is_rejected_without_append():
    rig = Rig(min_insync_replicas=3, election_delay_ms=10)
    rig.cluster.stop_broker(3)
    rig.run(50)
    rid = rig.produce(1, {TP0: make_batch()})
    ok = rig.produce(1, {TP0: make_batch()}, acks=1)
    rig.run(20)
    assert rig.part(rid).error is ErrorCode.NOT_ENOUGH_REPLICAS
    assert rig.part(ok).error is ErrorCode.NONE
    assert len(rig.cluster.log("orders", 0)) == 1


def test_acks_all_waits_for_a_dead_follower_until_isr_shrinks():
    rig = Rig(election_delay_ms=500)
    rig.cluster.stop_broker(2)  # a follower of orders-0
    rid = rig.produce(1, {TP0: make_batch()})
    rig.run(100)
    assert rid not in rig.responses  # waiting on broker 2's acknowledgement
    rig.run(500)
    t, resp = rig.responses[rid]
    assert 500 <= t < 520 and resp.partitions[TP0].error is ErrorCode.NONE


def test_acks_all_after_append_isr_below_min_insync():
    rig = Rig(min_insync_replicas=3, election_delay_ms=500)
    rig.cluster.stop_broker(2)
    rid = rig.produce(1, {TP0: make_batch()})
    rig.run(600)
    assert rig.part(rid).error is ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
    assert len(rig.cluster.log("orders", 0)) == 1  # written, just not acknowledged


def test_acks_all_times_out_if_followers_never_answer():
    rig = Rig(election_delay_ms=60_000)
    rig.cluster.stop_broker(2)
    rid = rig.produce(1, {TP0: make_batch()}, timeout_ms=1000)
    rig.run(1100)
    assert rig.part(rid).error is ErrorCode.REQUEST_TIMED_OUT


def test_elect_leader_moves_leadership_and_bumps_epoch():
    rig = Rig()
    assert rig.cluster.elect_leader("orders", 0) == 2
    assert rig.cluster.leader_epoch("orders", 0) == 1
    assert rig.cluster.elect_leader("orders", 0) == 1  # preferred replica again
    rid = rig.produce(2, {TP0: make_batch()})
    rig.run(20)
    assert rig.part(rid).current_leader.leader_id == 1


def test_bad_cluster_settings_name_the_field():
    with pytest.raises(ClusterConfigError, match="replication_factor"):
        Rig(brokers=2, replication_factor=3)
    with pytest.raises(ClusterConfigError, match="topics.orders"):
        Rig(topics={"orders": 0})
    with pytest.raises(ClusterConfigError, match="network.rtt_ms"):
        Rig(network={"rtt_ms": -1})
    with pytest.raises(ClusterConfigError, match="network.warp"):
        Rig(network={"warp": 9})


def test_snapshot_is_json_safe_and_describes_the_cluster():
    import json

    rig = Rig(min_insync_replicas=2, election_delay_ms=3000)
    rig.produce(1, {TP0: make_batch(5)})
    rig.run(20)
    snap = rig.cluster.snapshot()
    json.dumps(snap)
    assert [b["id"] for b in snap["brokers"]] == [1, 2, 3]
    assert snap["partitions"][0]["log_end_offset"] == 5
    assert snap["min_insync_replicas"] == 2 and snap["election_delay_ms"] == 3000
    assert snap["controller"] == 1


def test_same_seed_same_timings():
    def run(seed):
        rig = Rig(seed=seed, network={"jitter": 0.5})
        for _ in range(20):
            rig.produce(1, {TP0: make_batch(50)})
        rig.run(200)
        return [rig.responses[r][0] for r in sorted(rig.responses)]

    assert run(7) == run(7)


def test_client_close_drops_answers_but_the_request_in_progress_still_lands():
    rig = Rig(network={"jitter": 0})
    rig.cluster.slow_broker(1, 100)  # each request takes ~100 ms on broker 1
    first = rig.produce(1, {TP0: make_batch(2)})
    queued = rig.produce(1, {TP0: make_batch(3)})
    rig.run(20)  # the first is being processed, the second waits behind it (muted)
    rig.cluster.close_connection(1)  # the producer gave up (request.timeout.ms)
    rig.cluster.slow_broker(1, 0)
    fresh = rig.produce(1, {TP0: make_batch(4)})
    rig.run(30)
    # the new connection does not wait for the old one's 100 ms request
    assert rig.part(fresh).error is ErrorCode.NONE and rig.responses[fresh][0] < 50
    rig.run(200)
    assert first not in rig.responses and queued not in rig.responses
    counts = [DefaultRecordBatch(b).records_count for b in rig.cluster.log("orders", 0)]
    assert sorted(counts) == [2, 4]  # the request in progress landed; the unread one did not


def test_failed_acks0_request_closes_the_connection():
    rig = Rig()
    rid_meta = rig.metadata(2, ("orders",))  # sent first on the same connection
    rig.produce(2, {TP0: make_batch()}, acks=0)  # broker 2 does not lead orders-0
    rig.run(20)
    assert rig.cluster.log("orders", 0) == []
    rid_after = rig.metadata(2, ("orders",))
    rig.run(20)
    # the metadata request sent first was answered before the produce was handled ...
    assert not isinstance(rig.responses[rid_meta][1], Disconnected)
    # ... and the connection was then closed; a new one works
    assert rig.responses[rid_after][1].topics["orders"][0].leader == 1


def test_failed_acks0_request_disconnects_requests_behind_it():
    rig = Rig()
    rig.produce(2, {TP0: make_batch()}, acks=0)
    behind = rig.metadata(2, ("orders",))
    rig.run(20)
    assert isinstance(rig.responses[behind][1], Disconnected)
