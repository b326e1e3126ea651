"""compression-comparison: graded by re-simulation on the learner's variant."""

from __future__ import annotations

import json

import pytest

from courseware.exercises.graders import GRADERS
from courseware.exercises.graders.base import variant_seed
from tests.exercises.standin import content

SLUG = "compression-comparison"
G = GRADERS[SLUG]
LEARNERS = [f"learner{i}" for i in range(16)]


def variants(constraint: str | None = None) -> list[dict]:
    vs = [G.variant(variant_seed(n, SLUG)) for n in LEARNERS]
    return [v for v in vs if constraint in (None, v["constraint"])]


def test_variants_stable_and_differ() -> None:
    assert G.variant(variant_seed("ada", SLUG)) == G.variant(variant_seed("ada", SLUG))
    assert len({json.dumps(v, sort_keys=True) for v in variants()}) > 1
    assert {v["constraint"] for v in variants()} == {"network", "cpu"}


@pytest.mark.parametrize("v", variants(), ids=lambda v: f"{v['constraint']}-{v['data']}-"
                                                        f"{v['value_bytes']}-{v['sim_seed']}")
def test_reference_full_credit_and_no_compression_fails(v: dict) -> None:
    text = content(SLUG, "reference.json")
    assert G.validate(text, v) is None and G.sandbox_job(text, v) is None
    ref = G.score(text, v, None)
    assert ref.status == "graded" and ref.score == 1.0, [g.message for g in ref.goals]
    start = G.score(content(SLUG, "starter.json"), v, None)
    assert start.score < 0.5


def test_wrong_gets_partial_on_a_busy_cpu() -> None:
    v = variants("cpu")[0]
    w = G.score(content(SLUG, "wrong.json"), v, None)
    assert w.status == "graded" and 0 < w.score < 1
    assert [g.name for g in w.goals if not g.passed] == ["cpu"]


def test_cheap_codec_misses_on_a_thin_network() -> None:
    v = variants("network")[0]
    w = G.score(json.dumps({"compression.type": "lz4"}), v, None)
    assert w.score < 1 and not next(g for g in w.goals if g.name == "latency").passed


@pytest.mark.parametrize("text", ['{"compression.type": "brotli"}', '{"batch.size": -1}',
                                  "[1, 2]", "{oops"])
def test_invalid_configs_are_invalid(text: str) -> None:
    v = variants()[0]
    assert G.validate(text, v)
    assert G.score(text, v, None).status == "invalid"


def test_an_unknown_key_is_graded_as_kafka_would_run_it_with_a_warning() -> None:
    """Kafka ignores compression.typ: the config runs uncompressed, and the verdict says
    "Kafka would ignore `compression.typ` — did you mean `compression.type`?" aloud."""
    v = variants()[0]
    verdict = G.score(json.dumps({"compression.typ": "lz4"}), v, None)
    assert verdict.status == "graded"
    assert verdict.warnings == [
        "Kafka would ignore `compression.typ` — did you mean `compression.type`?"]
    assert verdict.message.startswith("⚠ Kafka would ignore `compression.typ`")
    ok = G.score(content(SLUG, "reference.json"), v, None)
    assert ok.warnings == []
