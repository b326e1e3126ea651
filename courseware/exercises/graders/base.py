"""What every grader shares: the verdict shapes of docs/GRADING.md, the learner's seed, and
the engine runs graders use as ground truth.

Everything here is trusted code: it runs in the worker, never in the sandbox, and it
computes its figures from a pristine ``producer_core`` in fresh deterministic simulations.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from courseware.sandbox import Limits, SandboxJob, SandboxResult

# The graders take the sandbox's shapes (docs/GRADING.md) from here.
__all__ = ["OUTPUT_CAP", "Goal", "Limits", "SandboxJob", "SandboxResult", "Verdict",
           "variant_seed"]

OUTPUT_CAP = 8 * 1024


@dataclass
class Goal:
    name: str
    passed: bool
    points: float
    max_points: float
    message: str


@dataclass
class Verdict:
    status: str  # "graded" | "invalid" | "error"
    score: float = 0.0
    goals: list[Goal] = field(default_factory=list)
    message: str = ""
    output: str = ""
    replay: dict | None = None
    # "Kafka would ignore `linger.msec` — did you mean `linger.ms`?" per unknown key of a
    # learner's config: Kafka accepts such keys silently, so the verdict says so aloud
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def variant_seed(learner: str, slug: str) -> int:
    """First 8 bytes of sha256("slug:learner"): stable for one learner, different between."""
    return int.from_bytes(hashlib.sha256(f"{slug}:{learner}".encode()).digest()[:8], "big")


def goal(name: str, passed: bool, weight: float, message: str, *,
         fraction: float | None = None) -> Goal:
    """A goal worth ``weight``; ``fraction`` (0..1) gives partial points."""
    share = (1.0 if passed else 0.0) if fraction is None else max(0.0, min(1.0, fraction))
    return Goal(name, passed, round(weight * share, 3), float(weight), message)


def graded(goals: list[Goal], output: str = "", replay: dict | None = None,
           warnings: list[str] | None = None) -> Verdict:
    total = sum(g.max_points for g in goals) or 1.0
    score = round(sum(g.points for g in goals) / total, 4)
    failed = [g.name for g in goals if not g.passed]
    msg = ("All goals met." if not failed
           else f"{len(goals) - len(failed)} of {len(goals)} goals met; not yet: "
                f"{', '.join(failed)}.")
    warnings = list(warnings or [])
    if warnings:
        msg = " ".join(f"⚠ {w}." for w in warnings) + " " + msg
    return Verdict("graded", score, goals, msg, output[:OUTPUT_CAP], replay, warnings)


def config_warnings(config: object) -> list[str]:
    """The "Kafka would ignore …" warnings of a learner's config (empty if it has none or
    is not a valid config — validation reports that)."""
    from producer_core import ProducerConfig

    if not isinstance(config, dict):
        return []
    try:
        return list(ProducerConfig.from_dict(config).warnings)
    except Exception:  # noqa: BLE001 - invalid configs are reported by the grader itself
        return []


def invalid(message: str) -> Verdict:
    return Verdict("invalid", 0.0, [], message)


def error(message: str, output: str = "") -> Verdict:
    return Verdict("error", 0.0, [], message, output[:OUTPUT_CAP])


def check_python(text: str, functions: tuple[str, ...]) -> str | None:
    """Syntax and required top-level functions, without running anything."""
    try:
        tree = ast.parse(text)
    except SyntaxError as e:
        return f"Syntax error on line {e.lineno}: {e.msg}."
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef,
                                                           ast.AsyncFunctionDef))}
    missing = [f for f in functions if f not in defined]
    if missing:
        return f"Define the function{'s' if len(missing) > 1 else ''} {', '.join(missing)}."
    return None


def run_problem(run: SandboxResult | None) -> Verdict | None:
    """An ``error`` verdict when the sandboxed run did not produce a usable result."""
    if run is None:
        return error("The program was not run.")
    out = (run.stdout + ("\n" + run.stderr if run.stderr else ""))
    if run.killed:
        limit = {"cpu": "its CPU time", "wall": "its wall-clock time", "memory": "its memory",
                 "output": "its output size", "processes": "its process count"}
        return error(f"Stopped: the program exceeded {limit.get(run.killed, run.killed)} "
                     "limit.", out)
    if run.exit_code != 0:
        return error(f"The program exited with status {run.exit_code}; see the output.", out)
    if "result.json" not in run.outputs:
        return error("The program finished without reporting a result.", out)
    return None


def claims(run: SandboxResult) -> tuple[dict | None, str]:
    """The learner program's claims (never a score) and its output for the verdict."""
    out = (run.stdout + ("\n" + run.stderr if run.stderr else ""))
    try:
        data = json.loads(run.outputs.get("result.json", ""))
    except ValueError:
        return None, out
    return (data if isinstance(data, dict) else None), out


def close(claimed: Any, truth: float, rel: float, abs_tol: float = 0.0) -> bool:
    """``claimed`` is a number within ``rel`` (relative) or ``abs_tol`` of ``truth``."""
    if isinstance(claimed, bool) or not isinstance(claimed, (int, float)):
        return False
    if math.isnan(claimed):
        return False
    return abs(claimed - truth) <= max(abs_tol, rel * abs(truth))


def run_workload(config: dict, *, records: int, value_bytes: int, keys: str = "none",
                 data: str = "random", rate: float | None = None, topic: str = "bench",
                 partitions: int = 3, network: dict | None = None, seed: int = 0) -> dict:
    """The engine's own bench path (``producer_core.cli.run_scenario``) on one workload."""
    from producer_core.cli import run_scenario
    from producer_core.scenario import Scenario

    cluster: dict[str, Any] = {"brokers": 3, "topics": {topic: partitions}}
    if network:
        cluster["network"] = dict(network)
    spec = {"topic": topic, "records": records, "value_bytes": value_bytes, "keys": keys,
            "data": data, "rate": rate}
    sc = Scenario.from_dict({"seed": seed, "config": dict(config), "cluster": cluster,
                             "duration_ms": 3_600_000, "workload": [spec]})
    return run_scenario(sc)


class CodeGrader:
    """The skeleton the code exercises share: the learner's ``solution.py`` beside our
    ``harness.py`` and one JSON data file in the sandbox; the harness writes the program's
    claims to result.json; ``score`` turns a failed run or an unreadable report into
    ``error`` and hands the claims to ``score_claims``, which each exercise writes.

    A subclass sets ``slug``, ``harness``, the ``functions``/``classes`` it requires and its
    ``limits``, and may override ``data_file``/``job_data`` (what the harness reads).
    """

    slug: str
    kind = "code"
    harness: str
    functions: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    data_file = "variant.json"
    limits = Limits(cpu_s=20, wall_s=40)

    def validate(self, text: str, variant: dict) -> str | None:
        msg = check_python(text, self.functions)
        if msg or not self.classes:
            return msg
        names = {n.name for n in ast.parse(text).body if isinstance(n, ast.ClassDef)}
        missing = [c for c in self.classes if c not in names]
        return f"Define a class {', '.join(missing)}." if missing else None

    def job_data(self, variant: dict) -> dict:
        return variant

    def prepare(self, variant: dict) -> None:
        """Ground truth that does not depend on the learner's run, computed (and cached)
        while the sandbox runs: grading then waits for the longer of the two, not both."""

    def sandbox_job(self, text: str, variant: dict) -> SandboxJob:
        return SandboxJob(files={"solution.py": text, "harness.py": self.harness,
                                 self.data_file: json.dumps(self.job_data(variant))},
                          argv=["python3", "harness.py"], limits=self.limits)

    def score(self, text: str, variant: dict, run: SandboxResult | None) -> Verdict:
        problem = run_problem(run)
        if problem:
            return problem
        data, out = claims(run)
        if data is None:
            return error("The program's report (result.json) is not a JSON object.", out)
        return self.score_claims(variant, data, out)

    def score_claims(self, variant: dict, data: dict, out: str) -> Verdict:
        raise NotImplementedError
