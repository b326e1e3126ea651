"""Grader for ``metrics-dashboard`` (Exercise 4: a Micrometer-style collector).

One scenario — two topics at the learner's rates, a burst of broker errors of two types —
runs once, here, in the trusted worker; the learner's ``Collector`` runs in the sandbox and
is fed over the sandbox's peer pipes (``courseware/sandbox/peer.py``): every completion, a
metrics sample each second, and after each sample we read its ``report()`` — the dashboard
as a learner would watch it — and finally the report that is graded. ``score()`` compares
each final figure with the engine's own: records/s by topic and errors/s by type from our
count, average batch size and send-latency percentiles from the engine's metrics, buffer
utilisation from the samples. Each per-second reading is kept beside the engine's figures
at that instant (the same definitions over the run so far) for the lab's "Your dashboard"
panel (docs/GRADING.md, "The dashboard beside the lab"). Readings are data; nothing the
program sends is run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache, partial
from random import Random

from courseware.exercises.graders.base import (
    CodeGrader,
    SandboxJob,
    SandboxResult,
    Verdict,
    close,
    error,
    goal,
    graded,
    run_problem,
)

SCENARIO = r'''
from producer_core import Simulation

DURATION_MS = 20_000
TOPICS = ("orders", "clicks")


def drive(v, completion, sample, clock=None):
    """Run the scenario; completion(topic, sent_ms, done_ms, error_name|None) per record,
    sample(metrics) every second. Returns the simulation (for the trusted side)."""
    sim = Simulation(config={"linger.ms": v["linger_ms"], "retries": 0,
                             "enable.idempotence": False},
                     brokers=3, topics={t: 3 for t in TOPICS}, seed=v["sim_seed"])
    if clock is not None:
        clock["sim"] = sim
    sim.schedule_faults([
        {"at_ms": v["fault_at_ms"], "op": "fail_next", "broker": 1, "count": v["errors_a"],
         "error": "NOT_ENOUGH_REPLICAS"},
        {"at_ms": v["fault_at_ms"] + 3000, "op": "fail_next", "broker": 2,
         "count": v["errors_b"], "error": "NOT_LEADER_OR_FOLLOWER"}])
    rates = {"orders": v["orders_rate"], "clicks": v["clicks_rate"]}
    owed = {t: 0.0 for t in TOPICS}
    value = b"x" * v["value_bytes"]
    n = 0
    next_sample = 1000
    while sim.now_ms < DURATION_MS:
        for t in TOPICS:
            owed[t] += rates[t] / 100.0
            while owed[t] >= 1:
                owed[t] -= 1
                sent = sim.now_ms
                f = sim.producer.send(t, value=value, key=b"k%d" % (n % 50))
                n += 1
                f.add_callback(lambda md, exc, t=t, sent=sent: completion(
                    t, sent, sim.now_ms, type(exc).__name__ if exc else None))
        sim.run_for(10)
        if sim.now_ms >= next_sample:
            next_sample += 1000
            sample(dict(sim.producer.metrics()))
    sim.producer.flush()
    return sim
'''

HARNESS = r'''
import json
import os

import solution

collector = solution.Collector()
# The grader runs the scenario and feeds us; see courseware/sandbox/peer.py.
r, w = (int(fd) for fd in os.environ["PRODUCER_LAB_PEER"].split(","))
feed, answers = os.fdopen(r, "r"), os.fdopen(w, "w")
report = None
for line in feed:
    msg = json.loads(line)
    for topic, sent_ms, done_ms, error in msg["completions"]:
        collector.record_completion(topic, sent_ms, done_ms, error)
    if msg.get("end"):
        report = collector.report()
        answers.write(json.dumps({"report": report}, default=str) + "\n")
        answers.flush()
        break
    collector.sample(msg["metrics"])
    try:  # the dashboard read live, as a learner would watch it; only the last is graded
        reading = collector.report()
    except Exception as exc:
        reading = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    answers.write(json.dumps({"reading": reading}, default=str) + "\n")
    answers.flush()
with open("result.json", "w") as f:  # for "run against the sample"; grading does not read it
    json.dump(report, f, default=str)
'''

# (relative, absolute) tolerance per figure: the goals' and the live panel's
TOLERANCES = {"records_per_s": (0.02, 0.05), "batch_size_avg": (0.05, 1.0),
              "buffer_utilisation_pct": (0.10, 0.5), "latency_ms": (0.15, 0.05),
              "error_rate_per_s": (0.02, 0.05)}
READING_CAP = 4000  # characters of one live reading's JSON


def _scenario() -> dict:
    ns: dict = {}
    exec(compile(SCENARIO, "metrics_dashboard_scenario", "exec"), ns)  # noqa: S102 - ours
    return ns


def _figures(acked: dict, errors: dict, utilisation: list, m: dict, secs: float) -> dict:
    return {"records_per_s": {t: n / secs for t, n in acked.items()},
            "batch_size_avg": m["batch-size-avg"],
            "buffer_utilisation_pct": sum(utilisation) / max(1, len(utilisation)),
            "latency_ms": {p: m[f"send-latency-{p}"] for p in ("p50", "p95", "p99")},
            "error_rate_per_s": {k: n / secs for k, n in sorted(errors.items())}}


def observe(v: dict, channel=None) -> dict:
    """Run the scenario once. With ``channel`` (the peer's), feed the learner's Collector
    and read its dashboard after every sample. Returns the engine's final figures
    (``truth``), the learner's final report (``report``, a claim) and the live ``readings``
    ({"at_ms", "yours", "engine"} per second)."""
    ns = _scenario()
    acked: dict[str, int] = {t: 0 for t in ns["TOPICS"]}
    errors: dict[str, int] = {}
    utilisation: list[float] = []
    pending: list[list] = []
    readings: list[dict] = []
    clock = {"sim": None}

    def completion(topic: str, sent: int, done: int, err: str | None) -> None:
        if err:
            errors[err] = errors.get(err, 0) + 1
        else:
            acked[topic] += 1
        if channel is not None:
            pending.append([topic, sent, done, err])

    def sample(m: dict) -> None:
        utilisation.append(100.0 * (1 - m["buffer-available-bytes"] / m["buffer-total-bytes"]))
        if channel is None:
            return
        now = clock["sim"].now_ms if clock["sim"] is not None else 1000 * len(utilisation)
        channel.send({"completions": pending, "metrics": m, "now_ms": now})
        pending.clear()
        reply = channel.receive()
        reading = reply.get("reading") if isinstance(reply, dict) else None
        readings.append({"at_ms": now, "yours": _capped(reading),
                         "engine": _figures(acked, errors, utilisation, m, now / 1000.0)})

    sim = ns["drive"](v, completion, sample, clock)
    report = None
    if channel is not None:
        channel.send({"completions": pending, "end": True})
        reply = channel.receive()
        report = reply.get("report") if isinstance(reply, dict) else None
    truth = _figures(acked, errors, utilisation, sim.producer.metrics(),
                     ns["DURATION_MS"] / 1000.0)
    return {"truth": truth, "report": report, "readings": readings}


def _capped(reading: object) -> object:
    text = json.dumps(reading, default=str)
    return reading if len(text) <= READING_CAP else {"error": "this reading was too large"}


@lru_cache(maxsize=32)
def _truth(variant_json: str) -> dict:
    return observe(json.loads(variant_json))["truth"]


def truth(v: dict) -> dict:
    return _truth(json.dumps(v, sort_keys=True))


@dataclass
class DashboardVerdict(Verdict):
    dashboard: dict | None = None  # {"yours": claims, "engine": truth}, shown on the page


def _num(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class MetricsDashboard(CodeGrader):
    slug = "metrics-dashboard"
    harness = HARNESS
    classes = ("Collector",)

    def variant(self, seed: int) -> dict:
        rng = Random(seed)
        return {"orders_rate": rng.choice([200, 300, 500]),
                "clicks_rate": rng.choice([800, 1000, 1500]),
                "value_bytes": rng.choice([100, 300, 600]),
                "linger_ms": rng.choice([2, 5, 10]),
                "fault_at_ms": rng.choice([4000, 6000, 8000]),
                "errors_a": rng.choice([2, 3, 4]), "errors_b": rng.choice([1, 2]),
                "sim_seed": rng.randrange(1, 10_000)}

    def sandbox_job(self, text: str, variant: dict) -> SandboxJob:
        job = super().sandbox_job(text, variant)
        job.peer = partial(observe, dict(variant))
        return job

    def score(self, text: str, variant: dict, run: SandboxResult | None) -> Verdict:
        if run is None or run.killed or run.exit_code != 0:
            return run_problem(run)
        out = run.stdout + ("\n" + run.stderr if run.stderr else "")
        if run.peer_error or run.peer is None:
            return error(f"The run did not finish: {run.peer_error or 'no answer'}.", out)
        if not isinstance(run.peer["report"], dict):
            return error("report() did not return a dict of figures.", out)
        return self.score_claims(variant, run.peer["report"], out, run.peer)

    def score_claims(self, variant: dict, got: dict, out: str,
                     observed: dict | None = None) -> Verdict:
        """``observed``: the trusted run (its truth and live readings); without one the
        truth is computed afresh (tests)."""
        t = observed["truth"] if observed else truth(variant)

        def mapping(name: str, rel: float, weight: float, unit: str) -> object:
            want, mine = t[name], got.get(name)
            mine = mine if isinstance(mine, dict) else {}
            bad = [k for k in want if not close(mine.get(k), want[k], rel, 0.05)]
            extra = [k for k in mine if k not in want]
            ok = not bad and not extra
            msg = ("All match the engine's own figures." if ok else
                   "; ".join([f"{k}: you said {mine.get(k)!r}, engine {want[k]:.3f} {unit}"
                              for k in bad] + [f"{k}: not seen by the engine" for k in extra]))
            return goal(name, ok, weight, msg)

        def scalar(name: str, rel: float, abs_tol: float, weight: float, unit: str) -> object:
            mine = got.get(name)
            ok = _num(mine) and close(mine, t[name], rel, abs_tol)
            return goal(name, ok, weight, f"You said {mine!r}, the engine measured "
                                          f"{t[name]:.3f} {unit}.")

        tol = TOLERANCES
        goals = [mapping("records_per_s", tol["records_per_s"][0], 2, "records/s"),
                 scalar("batch_size_avg", *tol["batch_size_avg"], 1, "bytes"),
                 scalar("buffer_utilisation_pct", *tol["buffer_utilisation_pct"], 1, "%"),
                 mapping("latency_ms", tol["latency_ms"][0], 2, "ms"),
                 mapping("error_rate_per_s", tol["error_rate_per_s"][0], 2, "errors/s")]
        # The page shows the learner's dashboard beside the engine's own figures; the lab's
        # replay shows each live reading beside the engine's figures at that instant.
        yours = {k: got.get(k) for k in t if len(json.dumps(got.get(k), default=str)) <= 2000}
        readings = [{"at_ms": r["at_ms"], "rows": compare(r["yours"], r["engine"])}
                    for r in (observed or {}).get("readings", [])]
        return DashboardVerdict(**vars(graded(goals, out)),
                                dashboard={"yours": yours, "engine": t,
                                           "tolerances": {k: {"rel": a, "abs": b}
                                                          for k, (a, b) in tol.items()},
                                           "readings": readings})


def _shown(x: object) -> object:
    """A learner's value as the panel shows it: a finite number, or a short text."""
    if _num(x):
        return x
    return None if x is None else json.dumps(x, default=str)[:60]


def compare(yours: object, engine: dict) -> list[dict]:
    """One row per figure of the engine's: {"figure", "key", "yours", "engine", "ok"} —
    ``ok`` when the learner's number is within the figure's TOLERANCES. The rows are data;
    the lab renders them as text."""
    yours = yours if isinstance(yours, dict) else {}
    rows = []
    for figure, want in engine.items():
        rel, abs_tol = TOLERANCES[figure]
        mine = yours.get(figure)
        pairs = ([(k, w, (mine if isinstance(mine, dict) else {}).get(k))
                  for k, w in want.items()] if isinstance(want, dict)
                 else [(None, want, mine)])
        for key, w, m in pairs:
            rows.append({"figure": figure, "key": key, "yours": _shown(m), "engine": w,
                         "ok": _num(m) and close(m, w, rel, abs_tol)})
    if "error" in yours:
        rows.append({"figure": "error", "key": None, "yours": _shown(yours["error"]),
                     "engine": None, "ok": False})
    return rows


GRADER = MetricsDashboard()
