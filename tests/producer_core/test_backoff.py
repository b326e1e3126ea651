"""Kafka's ExponentialBackoffTest scenarios, ported, plus the cap-after-jitter cases of issue 11."""

from random import Random

import pytest

from producer_core.metadata import exponential_backoff


def test_exponential_backoff_within_jitter_and_never_past_max():
    rng = Random(7)
    for _ in range(101):
        for attempts in range(11):
            got = exponential_backoff(100, 2000, attempts, rng, jitter=0.2)
            if attempts <= 4:
                want = 100 * 2 ** attempts
                assert abs(got - want) <= want * 0.2
            assert got <= 2000  # the cap comes after the jitter


def test_exponential_backoff_without_jitter():
    rng = Random(1)
    assert [exponential_backoff(100, 400, a, rng, jitter=0.0) for a in range(4)] == \
        [100, 200, 400, 400]


def test_invalid_jitter_is_refused():
    for bad in (-1, 3000):
        with pytest.raises(ValueError, match="jitter must be between 0 and 1"):
            exponential_backoff(100, 400, 0, Random(1), jitter=bad)


def test_wait_at_the_cap_is_never_jittered_above_it():
    rng = Random(3)
    waits = [exponential_backoff(100, 1000, a, rng) for a in range(4, 12) for _ in range(50)]
    assert max(waits) <= 1000
    assert min(waits) >= 800  # from attempt 4 the term is the max, so jitter only lowers it
    assert len(set(waits)) > 1


def test_base_above_max_waits_a_constant_max():
    rng = Random(5)
    assert {exponential_backoff(2000, 500, a, rng) for a in range(10)} == {500}
