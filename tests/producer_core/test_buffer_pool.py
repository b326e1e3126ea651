"""BufferPool, after Kafka's BufferPoolTest: allocation, free list, FIFO waiters,
timeouts and their message, non-pooled sizes."""

from __future__ import annotations

import pytest

from producer_core.buffer_pool import BufferPool
from producer_core.errors import BufferExhaustedError
from producer_core.events import EventBus
from producer_core.scheduler import Scheduler


def make_pool(total: int = 1024, poolable: int = 256):
    sched = Scheduler()
    events = EventBus(sched.clock)
    return BufferPool(total, poolable, sched, events), sched, events


def test_simple_allocate_and_free_returns_buffers_to_the_free_list():
    pool, _, _ = make_pool(1024, 256)
    assert pool.try_allocate(256)
    assert pool.available_memory() == 768
    assert pool.unallocated_memory() == 768
    pool.deallocate(256)
    assert pool.available_memory() == 1024
    assert pool.free_count == 1 and pool.unallocated_memory() == 768
    # The free buffer is reused for the next poolable request.
    assert pool.try_allocate(256)
    assert pool.free_count == 0 and pool.unallocated_memory() == 768


def test_non_poolable_sizes_come_from_the_budget_and_go_back_to_it():
    pool, _, _ = make_pool(1024, 256)
    assert pool.try_allocate(500)
    assert pool.available_memory() == 524
    assert pool.non_pooled_in_use == 500
    pool.deallocate(500)
    assert pool.available_memory() == 1024 and pool.free_count == 0
    assert pool.non_pooled_in_use == 0


def test_non_poolable_request_frees_up_free_list_buffers():
    pool, _, _ = make_pool(1024, 256)
    for _ in range(4):
        assert pool.try_allocate(256)
    for _ in range(4):
        pool.deallocate(256)
    assert pool.free_count == 4 and pool.unallocated_memory() == 0
    assert pool.try_allocate(600)  # needs three free buffers released into the budget
    assert pool.free_count == 1
    assert pool.available_memory() == 424


def test_cannot_allocate_more_than_the_total():
    pool, _, _ = make_pool(1024, 256)
    with pytest.raises(ValueError, match="1025 bytes.*hard limit of 1024"):
        pool.try_allocate(1025)
    assert pool.available_memory() == 1024


def test_delayed_allocation_waits_until_memory_is_freed():
    pool, sched, _ = make_pool(1024, 256)
    for _ in range(4):
        assert pool.try_allocate(256)
    outcomes = []
    assert not pool.allocate_or_wait(256, 1000, lambda ok, err: outcomes.append((ok, err)))
    assert pool.queued() == 1
    sched.call_at(10, lambda: pool.deallocate(256))
    sched.run_until(20)
    assert outcomes == [(True, None)]
    assert pool.queued() == 0
    assert pool.wait_time_ms_total == 10


def test_waiters_are_served_first_in_first_out():
    pool, sched, _ = make_pool(1024, 256)
    for _ in range(4):
        assert pool.try_allocate(256)
    order = []
    pool.allocate_or_wait(512, 10_000, lambda ok, err: order.append(("big", ok)))
    pool.allocate_or_wait(256, 10_000, lambda ok, err: order.append(("small", ok)))
    # One freed buffer is not enough for the first (512) waiter: the second must not jump
    # the queue even though 256 bytes would satisfy it.
    sched.call_at(5, lambda: pool.deallocate(256))
    sched.run_until(6)
    assert order == []
    sched.call_at(7, lambda: pool.deallocate(256))
    sched.call_at(8, lambda: pool.deallocate(256))
    sched.run_until(9)
    assert order == [("big", True), ("small", True)]


def test_newcomers_do_not_take_memory_held_back_for_waiters():
    pool, _, _ = make_pool(1024, 256)
    for _ in range(4):
        assert pool.try_allocate(256)
    got = []
    pool.allocate_or_wait(512, 10_000, lambda ok, err: got.append(ok))
    pool.deallocate(256)  # collected by the waiter
    assert not pool.try_allocate(256)
    assert pool.available_memory() == 0


def test_timeout_fails_with_kafkas_message_and_returns_collected_memory():
    pool, sched, events = make_pool(1024, 256)
    for _ in range(3):
        assert pool.try_allocate(256)
    seen = []
    events.subscribe(seen.append, ["pool.exhausted"])
    errors = []
    pool.allocate_or_wait(512, 100, lambda ok, err: errors.append(err))
    assert pool.available_memory() == 0  # the waiter collected the free 256 bytes
    sched.run_until(200)
    (err,) = errors
    assert isinstance(err, BufferExhaustedError)
    msg = str(err)
    assert "Failed to allocate 512 bytes within the configured max blocking time 100 ms" in msg
    assert "Total memory: 1024 bytes" in msg and "Available memory: 256 bytes" in msg
    assert pool.available_memory() == 256  # given back
    assert pool.exhausted_total == 1 and pool.queued() == 0
    assert [e.data["requested"] for e in seen] == [512]


def test_a_timed_out_head_waiter_lets_the_next_one_proceed():
    pool, sched, _ = make_pool(1024, 256)
    for _ in range(4):
        assert pool.try_allocate(256)
    results = []
    pool.allocate_or_wait(1024, 50, lambda ok, err: results.append(("a", ok)))
    pool.allocate_or_wait(256, 5_000, lambda ok, err: results.append(("b", ok)))
    pool.deallocate(256)  # goes to "a", which then times out and gives it back
    sched.run_until(60)
    assert results == [("a", False), ("b", True)]


def test_over_free_is_detected():
    pool, _, _ = make_pool(1024, 256)
    with pytest.raises(RuntimeError, match="over-freed"):
        pool.deallocate(256)


def test_snapshot_matches_seams_fields():
    pool, _, _ = make_pool(1024, 256)
    pool.try_allocate(256)
    pool.try_allocate(300)
    snap = pool.snapshot()
    assert set(snap) == {"total", "available", "free_list_count", "free_list_bytes",
                         "non_pooled_bytes", "used", "waiters", "blocked_ms_total",
                         "exhausted_total", "longest_wait_ms"}
    assert snap["used"] == 556 and snap["non_pooled_bytes"] == 300
