"""Seeded data that looks — and compresses — like real order and user events."""

from __future__ import annotations

import json
import random
import zlib

import pytest

from producer_core import datagen


@pytest.mark.parametrize("kind", ["json-orders", "json-users"])
def test_json_events_parse_and_repeat_field_names(kind):
    rng = random.Random(3)
    docs = [json.loads(datagen.generate(kind, rng, 300)) for _ in range(50)]
    keys = [frozenset(d) for d in docs]
    # the same schema over and over, with varied values
    common = frozenset.intersection(*keys)
    assert len(common) >= 4
    assert len({json.dumps(d, sort_keys=True) for d in docs}) == 50


def test_orders_have_realistic_fields():
    doc = json.loads(datagen.generate("json-orders", random.Random(1), 400))
    assert doc["order_id"].startswith("ord-") and doc["customer_id"].startswith("cust-")
    assert doc["status"] in datagen._STATUSES
    assert doc["total"] == pytest.approx(sum(i["qty"] * i["unit_price"] for i in doc["items"]),
                                         abs=0.05)
    assert doc["ts"].endswith("Z") and "T" in doc["ts"]


@pytest.mark.parametrize("kind", ["json-orders", "json-users"])
@pytest.mark.parametrize("hint", [100, 300, 1000])
def test_size_hint_is_roughly_respected(kind, hint):
    rng = random.Random(5)
    sizes = [len(datagen.generate(kind, rng, hint)) for _ in range(100)]
    mean = sum(sizes) / len(sizes)
    assert hint * 0.5 <= mean <= hint * 1.5 + 60


def test_exact_sizes_for_random_text_fixed():
    rng = random.Random(9)
    for kind in ("random", "text", "fixed"):
        assert len(datagen.generate(kind, rng, 137)) == 137


def test_json_compresses_well_and_random_does_not():
    rng = random.Random(2)
    orders = b"".join(datagen.generate("json-orders", rng, 300) for _ in range(60))
    noise = datagen.generate("random", rng, len(orders))
    assert len(zlib.compress(orders)) / len(orders) < 0.3
    assert len(zlib.compress(noise)) / len(noise) > 0.99


def test_same_seed_same_bytes_and_different_seed_differs():
    def run(seed):
        rng = random.Random(seed)
        return [datagen.generate(k, rng, 200) for k in datagen.KINDS for _ in range(5)]

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_bad_kind_and_size_are_named():
    with pytest.raises(ValueError, match="unknown kind 'xml'"):
        datagen.generate("xml", random.Random(1), 10)
    with pytest.raises(ValueError, match="size_hint"):
        datagen.generate("random", random.Random(1), -1)


def test_value_pool_visits_every_value_before_repeating():
    pool = datagen.ValuePool("json-users", random.Random(4), 200, count=97)
    seen = [pool.next() for _ in range(97)]
    assert len({id(v) for v in seen}) == 97
    assert pool.mean_size > 100


# A workload draws its values from a pre-generated pool (datagen.ValuePool) instead of
# calling the generator per record.  The codecs must see the same data either way: a batch
# of pool-drawn values compresses like a batch of freshly generated ones, within 10 %.
POOL_TOLERANCE = 0.10


@pytest.mark.parametrize("kind,size", [("json-orders", 300), ("json-orders", 2000),
                                       ("json-users", 200), ("text", 300), ("random", 300)])
def test_pool_drawn_batches_compress_like_generated_ones(kind, size):
    from producer_core.records import build_batch

    n = 400  # records per batch: a few full 16 KB batches' worth at these sizes
    pool = datagen.ValuePool(kind, random.Random(11), size)
    drawn = [pool.next() for _ in range(n)]
    fresh_rng = random.Random(12)
    fresh = [datagen.generate(kind, fresh_rng, size) for _ in range(n)]
    assert len(set(drawn)) == n  # the pool does not hand out one value twice in a batch
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        a = len(build_batch([(1000 + i, None, v) for i, v in enumerate(drawn)], codec))
        b = len(build_batch([(1000 + i, None, v) for i, v in enumerate(fresh)], codec))
        raw = len(build_batch([(1000 + i, None, v) for i, v in enumerate(fresh)], "none"))
        assert abs(a - b) <= POOL_TOLERANCE * b, (kind, codec, a, b, raw)
        if kind == "random":
            assert b > 0.95 * raw  # random bytes stay incompressible
        elif kind.startswith("json"):
            assert b < 0.5 * raw  # JSON keeps its 2x+ ratios
