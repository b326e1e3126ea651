"""metrics-dashboard: reported figures compared with a pristine engine run."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from courseware.exercises.graders import GRADERS
from courseware.exercises.graders.base import variant_seed
from courseware.exercises.graders.metrics_dashboard import truth
from tests.exercises.standin import content, grade, run_job

SLUG = "metrics-dashboard"
G = GRADERS[SLUG]


@pytest.fixture(scope="module")
def variant() -> dict:
    return G.variant(variant_seed("ada", SLUG))


def test_variants_stable_and_differ() -> None:
    assert G.variant(variant_seed("bo", SLUG)) == G.variant(variant_seed("bo", SLUG))
    assert len({json.dumps(G.variant(variant_seed(f"l{i}", SLUG))) for i in range(8)}) > 1


def test_truth_sees_both_error_types(variant: dict) -> None:
    t = truth(variant)
    assert set(t["error_rate_per_s"]) == {"NotEnoughReplicasError", "NotLeaderOrFollowerError"}
    assert set(t["records_per_s"]) == {"orders", "clicks"}


def test_reference_full_wrong_partial_starter_low(variant: dict) -> None:
    ref, _ = grade(G, content(SLUG, "reference.py"), variant)
    assert ref.status == "graded" and ref.score == 1.0, [g.message for g in ref.goals]
    wrong, _ = grade(G, content(SLUG, "wrong.py"), variant)
    assert wrong.status == "graded" and 0 < wrong.score < 1
    assert not next(g for g in wrong.goals if g.name == "error_rate_per_s").passed
    start, _ = grade(G, content(SLUG, "starter.py"), variant)
    assert start.score < 0.3


def test_invalid_and_forged(variant: dict) -> None:
    assert G.validate("class Collector(:\n", variant)
    assert G.validate("def report():\n    return {}\n", variant)
    # The scenario runs on the trusted side; a forged result.json changes nothing.
    run = run_job(G.sandbox_job(content(SLUG, "starter.py"), variant))
    honest = G.score("", variant, run)
    forged = {"records_per_s": {"orders": 1e9, "clicks": 1e9}, "batch_size_avg": 16384,
              "buffer_utilisation_pct": 1.0, "latency_ms": {"p50": 0, "p95": 0, "p99": 0},
              "error_rate_per_s": {}}
    v = G.score("", variant, replace(run, outputs={"result.json": json.dumps(forged)}))
    assert v.status == "graded" and v.score == honest.score < 0.3


def test_the_trusted_run_is_the_engines_truth_and_keeps_live_readings(variant: dict) -> None:
    run = run_job(G.sandbox_job(content(SLUG, "reference.py"), variant))
    assert run.peer_error is None
    assert run.peer["truth"] == truth(variant)  # feeding the learner changes no figure
    v = G.score("", variant, run)
    board = v.dashboard
    readings = board["readings"]
    assert len(readings) == 20
    assert [r["at_ms"] // 1000 for r in readings] == list(range(1, 21))
    assert board["tolerances"]["records_per_s"] == {"rel": 0.02, "abs": 0.05}
    # The reference reads right at every instant, not only at the end.
    for r in readings:
        assert {(row["figure"], row["key"]) for row in r["rows"]} >= {
            ("records_per_s", "orders"), ("records_per_s", "clicks"),
            ("batch_size_avg", None), ("latency_ms", "p99")}
        assert all(row["ok"] for row in r["rows"]), r
    # Rates over the run so far: the engine's own figure grows with the acknowledged count.
    first, last = readings[0]["rows"], readings[-1]["rows"]
    orders = [next(x for x in rows if x["key"] == "orders")["engine"] for rows in (first, last)]
    assert orders[0] > 0 and abs(orders[1] - truth(variant)["records_per_s"]["orders"]) < \
        0.05 * orders[1]


def test_live_readings_of_a_wrong_dashboard_say_where_it_is_off(variant: dict) -> None:
    v, _ = grade(G, content(SLUG, "wrong.py"), variant)
    late = v.dashboard["readings"][-1]["rows"]
    assert any(not row["ok"] for row in late if row["figure"] == "error_rate_per_s")
    crashing = content(SLUG, "reference.py").replace(
        "    def report(self):\n",
        "    def report(self):\n        if len(self.utilisation) < 20:\n"
        "            raise RuntimeError('<b>not yet</b>')\n")
    v, _ = grade(G, crashing, variant)
    assert v.status == "graded" and v.score == 1.0  # only the last report is graded
    early = v.dashboard["readings"][0]["rows"]
    assert early[-1]["figure"] == "error" and "RuntimeError: <b>not yet</b>" in \
        early[-1]["yours"]
