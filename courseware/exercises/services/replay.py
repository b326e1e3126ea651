"""The lab scenario of a graded run, and the moment in it that mattered.

``/lab/?replay=<submission id>`` resolves a submission here, server-side (a config never
comes from the URL): the learner's variant gives the workload, the cluster and the fault
script the grader ran; the verdict's ``replay`` (or the submitted settings) gives the
config; ``at_ms`` is where the lab opens, paused.  Code exercises drove the producer from
the learner's program, which the lab cannot run: their replay is the same scenario at the
workload's base rate, and the lab says so.
"""

from __future__ import annotations

import json

from courseware.exercises import graders
from courseware.exercises.models import Submission

CODE_NOTE = ("The lab replays the scenario of your graded run (workload, cluster, faults, seed); "
             "your program's own decisions ran in the sandbox and are not replayed here.")


def _batching(v: dict, verdict: dict, text: str) -> dict:
    config = dict((verdict.get("replay") or {}).get("config") or {})
    run_ms = int(1000 * v["records"] / v["target_rate"])
    return {"config": config, "cluster": {"brokers": 3, "topics": {"bench": 3},
                                          "network": {"rtt_ms": v["rtt_ms"]}},
            "workload": [{"topic": "bench", "records": v["records"], "rate": v["target_rate"],
                          "value_bytes": v["value_bytes"], "keys": v["keys"]}],
            "duration_ms": run_ms + 5000, "at_ms": run_ms // 2,
            "note": "Your chosen config on your workload at your target rate, half-way "
                    "through the run."}


def _compression(v: dict, verdict: dict, text: str) -> dict:
    try:
        config = json.loads(text)
    except ValueError:
        config = {}
    run_ms = int(1000 * v["records"] / v["target_rate"])
    return {"config": config if isinstance(config, dict) else {},
            "cluster": {"brokers": 3, "topics": {"bench": 3},
                        "network": {"bandwidth_mbps": v["bandwidth_mbps"]}},
            "workload": [{"topic": "bench", "records": v["records"], "rate": v["target_rate"],
                          "value_bytes": v["value_bytes"], "data": v["data"]}],
            "duration_ms": run_ms + 5000, "at_ms": run_ms // 2,
            "note": "Your settings on your workload, half-way through the graded run."}


def _back_pressure(v: dict, verdict: dict, text: str) -> dict:
    f, end = v["outage_at_ms"], v["outage_at_ms"] + v["outage_ms"]
    return {"config": {"buffer.memory": v["buffer_memory"], "max.block.ms": 200,
                       "linger.ms": 5},
            "cluster": {"brokers": 3, "topics": {"events": 3}},
            "workload": [{"topic": "events", "rate": v["base_rate"],
                          "value_bytes": v["value_bytes"], "keys": "uniform:20"}],
            "faults": [{"at_ms": f, "op": "slow_broker", "broker": b, "extra_ms": 3000}
                       for b in (1, 2, 3)] +
                      [{"at_ms": end, "op": "slow_broker", "broker": b, "extra_ms": 0}
                       for b in (1, 2, 3)],
            "duration_ms": 25_000, "at_ms": f + 2000,
            "note": "Two seconds into the broker slow-down, when the pool fills. " + CODE_NOTE}


def _metrics(v: dict, verdict: dict, text: str) -> dict:
    f = v["fault_at_ms"]
    return {"config": {"linger.ms": v["linger_ms"], "retries": 0, "enable.idempotence": False},
            "cluster": {"brokers": 3, "topics": {"orders": 3, "clicks": 3}},
            "workload": [{"topic": "orders", "rate": v["orders_rate"],
                          "value_bytes": v["value_bytes"], "keys": "uniform:50"},
                         {"topic": "clicks", "rate": v["clicks_rate"],
                          "value_bytes": v["value_bytes"], "keys": "uniform:50"}],
            "faults": [{"at_ms": f, "op": "fail_next", "broker": 1, "count": v["errors_a"],
                        "error": "NOT_ENOUGH_REPLICAS"},
                       {"at_ms": f + 3000, "op": "fail_next", "broker": 2,
                        "count": v["errors_b"], "error": "NOT_LEADER_OR_FOLLOWER"}],
            "duration_ms": 20_000, "at_ms": f + 500,
            "note": "Just after the first burst of broker errors. " + CODE_NOTE}


HEALTH_FAULTS = {
    "filling-buffer": lambda f: [{"at_ms": f, "op": "slow_broker", "broker": b,
                                  "extra_ms": 400} for b in (1, 2, 3)],
    "failing-broker": lambda f: [{"at_ms": f, "op": "cut_network", "broker": 2}],
    "unreachable": lambda f: [{"at_ms": f, "op": "cut_network", "broker": b}
                              for b in (1, 2, 3)],
    "recovered": lambda f: [{"at_ms": f, "op": "cut_network", "broker": 2},
                            {"at_ms": f + 6000, "op": "restore_network", "broker": 2}],
    "healthy": lambda f: [],
}


def _health(v: dict, verdict: dict, text: str) -> dict:
    missed = [g["name"] for g in verdict.get("goals") or [] if not g.get("passed")]
    name = next((n for n in missed if n in HEALTH_FAULTS), "failing-broker")
    config = {"linger.ms": 5, "delivery.timeout.ms": 4000, "request.timeout.ms": 1500,
              "max.block.ms": 500}
    if name == "filling-buffer":
        config["buffer.memory"] = v["small_buffer"]
    return {"config": config, "cluster": {"brokers": 3, "topics": {"events": 3}},
            "workload": [{"topic": "events", "rate": v["rate"], "value_bytes": v["value_bytes"],
                          "keys": "uniform:30"}],
            "faults": HEALTH_FAULTS[name](v["fault_at_ms"]), "duration_ms": 90_000,
            "at_ms": v["fault_at_ms"] + 2000,
            "note": f"The {name!r} scenario{' (the first one your check got wrong)' if missed else ''}"
                    f", two seconds after its fault. " + CODE_NOTE}


BUILDERS = {"batching-benchmark": _batching, "compression-comparison": _compression,
            "back-pressure": _back_pressure, "metrics-dashboard": _metrics,
            "health-check": _health}


def for_submission(submission: Submission) -> dict | None:
    """{"scenario", "seed", "at_ms", "title", "note"} for a graded submission, else None."""
    if submission.status != "graded" or not submission.verdict:
        return None
    build = BUILDERS.get(submission.exercise)
    if build is None:
        return None
    grader = graders.get(submission.exercise)
    v = grader.variant(graders.variant_seed(submission.learner, submission.exercise))
    spec = build(v, submission.verdict, submission.text)
    at_ms, note = spec.pop("at_ms"), spec.pop("note")
    seed = int(v["sim_seed"])
    title = f"Replay: {submission.exercise}, attempt {submission.attempt}"
    scenario = {"title": title, "seed": seed, **spec}
    data = {"scenario": scenario, "seed": seed, "at_ms": int(at_ms), "title": title,
            "note": note, "submission": submission.pk}
    panel = dashboard_panel(submission.verdict)
    if panel is not None:
        data["dashboard"] = panel
    return data


def dashboard_panel(verdict: dict | None) -> dict | None:
    """metrics-dashboard: what the lab's "Your dashboard" panel shows beside its metrics
    panel — the learner's live readings of the graded run, each with the engine's figures at
    that instant (docs/GRADING.md, "The dashboard beside the lab"). Only what the trusted
    grader stored; every value a number, a short text, a bool or None — the page renders it
    as text."""
    board = (verdict or {}).get("dashboard") or {}
    readings = board.get("readings")
    if not isinstance(readings, list) or not readings:
        return None
    keep = ("figure", "key", "yours", "engine", "ok")
    return {"tolerances": board.get("tolerances") or {},
            "readings": [{"at_ms": int(r["at_ms"]),
                          "rows": [{k: row.get(k) for k in keep} for row in r["rows"]]}
                         for r in readings]}


def may_see_all(user) -> bool:
    """Instructors (the ``instructors`` group) and staff may replay anyone's graded run."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_staff or user.groups.filter(name="instructors").exists())


def resolve(request, submission_id) -> dict | None:
    """The replay of a submission this request may see, or None (unknown, not graded, or
    someone else's)."""
    from django.urls import reverse

    from courseware.exercises.services.learner import learner_of

    try:
        submission = Submission.objects.get(pk=int(submission_id))
    except (Submission.DoesNotExist, TypeError, ValueError, OverflowError):
        return None
    if submission.learner != learner_of(request) and not may_see_all(request.user):
        return None
    data = for_submission(submission)
    if data is not None:
        data["back"] = (reverse("exercises:detail", args=[submission.exercise])
                        + f"?submission={submission.pk}#result")
    return data
