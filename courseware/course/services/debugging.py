"""Grading a debug-this answer by replaying the scenario with the learner's fix.

The scenario file names a healthy preset (how the service ran last week) and a degraded
one (today: same workload, something changed). The learner ticks the causes and writes
the settings to change. We apply those settings to the *degraded* preset, run it in
virtual time, and check two things: the named causes are exactly the real ones, and the
fix brings throughput back to at least ``recover_fraction`` of the healthy run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine import FixError, RunStats, cached_run, fix_warnings, parse_fix


@dataclass
class Grade:
    passed: bool = False
    causes_ok: bool = False
    recovered: bool = False
    fix: dict = field(default_factory=dict)
    rows: list = field(default_factory=list)
    feedback: list = field(default_factory=list)
    summary: str = ""
    error: str = ""
    warnings: list = field(default_factory=list)  # keys of the fix Kafka would ignore

    def as_dict(self) -> dict:
        return {"passed": self.passed, "causes_ok": self.causes_ok,
                "recovered": self.recovered, "rows": self.rows, "feedback": self.feedback}


def _fmt_rate(x: float) -> str:
    return f"{x:,.0f} msg/s"


def _baseline(preset: str, duration_ms: int) -> RunStats:
    return cached_run(preset, duration_ms)


def _row(st: RunStats) -> dict:
    m = st.metrics
    return {"throughput": st.throughput,
            "batch": m.get("batch-size-avg", 0.0),
            "rpr": m.get("records-per-request-avg", 0.0),
            "wait": m.get("bufferpool-wait-ratio", 0.0),
            "errors": sum(st.errors.values()) + st.records_failed}


# The causes a learner missed are named from this attempt on (before: a hint).
NAME_MISSED_FROM = 2


def real_causes(page) -> list[dict]:
    """The scenario's real causes (main first), for a learner who asks to see them."""
    order = {"required": 0, "contributing": 1}
    return sorted(({"id": c["id"], "text": c["text"], "why": c.get("why", ""),
                    "main": c.get("correct") == "required"}
                   for c in page.extra["causes"] if c.get("correct") in order),
                  key=lambda c: (not c["main"], c["id"]))


def grade(page, causes: list[str], fix_text: str, attempt: int = 1) -> Grade:
    """Check the causes, replay with the fix, compare throughput with the healthy run.

    ``attempt`` counts this learner's tries at the scenario (1 = first): the contributing
    causes they missed get a hint on a first try and are named from the second on."""
    spec = page.extra
    g = Grade()
    try:
        fix = parse_fix(fix_text, spec["degraded"])
    except FixError as exc:
        g.error = str(exc)
        return g
    g.fix = fix
    g.warnings = fix_warnings(fix)
    duration = int(spec.get("measure_ms", 5000))
    healthy = _row(_baseline(spec["healthy"], duration))
    degraded = _row(_baseline(spec["degraded"], duration))
    from producer_core.scenario import ScenarioError

    try:
        fixed = _row(cached_run(spec["degraded"], duration, config_overrides=fix))
    except ScenarioError as exc:
        g.error = f"that setting cannot be replayed: {exc}"
        return g

    # "required" causes must be named; "contributing" ones may be; false ones must not be.
    required = {c["id"] for c in spec["causes"] if c.get("correct") == "required"}
    contributing = {c["id"] for c in spec["causes"] if c.get("correct") == "contributing"}
    wrong = {c["id"] for c in spec["causes"] if not c.get("correct")}
    chosen = set(causes)
    unknown = chosen - required - contributing - wrong
    if unknown:
        g.error = f"unknown cause(s): {', '.join(sorted(unknown))}"
        return g
    g.causes_ok = required <= chosen and not (chosen & wrong)
    texts = {c["id"]: c for c in spec["causes"]}
    for cid in sorted(chosen & required):
        g.feedback.append(f"Right, the main cause: {texts[cid]['text']}. "
                          f"{texts[cid].get('why', '')}")
    for cid in sorted(required - chosen):
        g.feedback.append("You missed the main cause. Compare batch-size-avg and "
                          "records-per-request-avg with last week's, and the two configs.")
    for cid in sorted(chosen & contributing):
        g.feedback.append(f"Also changed, and it adds to the damage: {texts[cid]['text']}. "
                          f"{texts[cid].get('why', '')}")
    missed = sorted(contributing - chosen)
    if missed and attempt < NAME_MISSED_FROM:
        g.feedback.append(
            f"Hint: {'something else' if len(missed) == 1 else f'{len(missed)} more things'} "
            "changed in the same deploy and add to the damage. Compare the two configs line "
            "by line; try again, or ask for the causes.")
    else:
        for cid in missed:
            g.feedback.append(f"Also changed in the deploy, though not the main cause: "
                              f"{texts[cid]['text']}.")
    for cid in sorted(chosen & wrong):
        g.feedback.append(f"Not a cause: {texts[cid]['text']} — {texts[cid].get('why', '')}")
    need = float(spec.get("recover_fraction", 0.8)) * healthy["throughput"]
    g.recovered = fixed["throughput"] >= need
    g.passed = g.causes_ok and g.recovered
    g.rows = [
        ("throughput", _fmt_rate(healthy["throughput"]), _fmt_rate(degraded["throughput"]),
         _fmt_rate(fixed["throughput"])),
        ("batch-size-avg", f"{healthy['batch']:,.0f} B", f"{degraded['batch']:,.0f} B",
         f"{fixed['batch']:,.0f} B"),
        ("records-per-request-avg", f"{healthy['rpr']:,.1f}", f"{degraded['rpr']:,.1f}",
         f"{fixed['rpr']:,.1f}"),
        ("bufferpool-wait-ratio", f"{healthy['wait']:.2f}", f"{degraded['wait']:.2f}",
         f"{fixed['wait']:.2f}"),
        ("errors", str(healthy["errors"]), str(degraded["errors"]), str(fixed["errors"])),
    ]
    if g.recovered:
        g.summary = (f"With your settings the degraded service delivers "
                     f"{_fmt_rate(fixed['throughput'])}, at least "
                     f"{spec.get('recover_fraction', 0.8):.0%} of the healthy "
                     f"{_fmt_rate(healthy['throughput'])}.")
    else:
        g.summary = (f"With your settings throughput is {_fmt_rate(fixed['throughput'])}; "
                     f"it needs to reach {_fmt_rate(need)}.")
    if g.recovered and not g.causes_ok:
        g.summary += " Throughput is back, but the causes you named are not quite right."
    return g
