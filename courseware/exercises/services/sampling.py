"""Runs that are not grades: "run against the sample" and the in-app sweeps (worker only).

Both run in the worker as jobs (``courseware.exercises.jobs``), never in daphne: a learner's
code only in the sandbox, the sweeps on a pristine engine.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from courseware import sandbox
from courseware.exercises import graders
from courseware.exercises.graders import batching_benchmark as bb
from courseware.exercises.graders import compression_comparison as cc
from courseware.exercises.services.grading import LIMIT_MESSAGES, OUTPUT_CAP
from courseware.jobs.kinds import JobError

REPORT_CAP = 8 * 1024


def _variant(slug: str, learner: str) -> tuple[object, dict]:
    try:
        grader = graders.get(slug)
    except graders.UnknownExercise as exc:
        raise JobError(str(exc)) from None
    return grader, grader.variant(graders.variant_seed(learner, slug))


def sample_run(slug: str, learner: str, text: str) -> dict:
    grader, variant = _variant(slug, learner)
    problem = grader.validate(text, variant)
    if problem:
        raise JobError(problem)
    if grader.kind == "config":
        if slug != cc.GRADER.slug:
            raise JobError("This exercise has no sample run.")
        numbers = cc.simulate(variant, json.loads(text))
        return {"kind": "config", "numbers": numbers, "message":
                f"{numbers['records_per_s']:,.0f} records/s acknowledged, average latency "
                f"{numbers['avg_latency_ms']:.1f} ms, compressed to {numbers['ratio']:.0%}."}
    job = grader.sandbox_job(text, variant)
    run = sandbox.run(job)
    if run.killed:
        message = LIMIT_MESSAGES.get(run.killed, "Stopped.").format(**asdict(job.limits))
    elif run.exit_code != 0:
        message = f"Your program stopped with exit code {run.exit_code}; see its output."
    elif "result.json" not in run.outputs:
        message = "Your program finished without writing its report (result.json)."
    else:
        message = f"Your program finished in {run.wall_ms / 1000:.1f} s and wrote its report."
    return {"kind": "code", "exit_code": run.exit_code, "killed": run.killed,
            "stdout": run.stdout[-OUTPUT_CAP:], "stderr": run.stderr[-OUTPUT_CAP:],
            "report": run.outputs.get("result.json", "")[:REPORT_CAP],
            "isolation": run.isolation, "wall_ms": run.wall_ms, "message": message}


def sweep(slug: str, learner: str, progress) -> dict:
    _, v = _variant(slug, learner)
    if slug == bb.GRADER.slug:
        wl = json.dumps(bb._workload(v), sort_keys=True)
        cells = [(b, lg) for b in bb.BATCH_KB for lg in bb.LINGER_MS]
        rows = []
        for i, (b, lg) in enumerate(cells):
            progress(i / len(cells), f"batch.size={b} KB, linger.ms={lg}")
            rows.append({"batch_kb": b, "linger_ms": lg, **bb._truth_cell(wl, b, lg)})
        return {"kind": "grid", "batch_kb": list(bb.BATCH_KB), "linger_ms": list(bb.LINGER_MS),
                "rows": rows}
    if slug == cc.GRADER.slug:
        rows = []
        for i, codec in enumerate(cc.CODECS):
            progress(i / len(cc.CODECS), f"compression.type={codec}")
            rows.append({"codec": codec, **cc.simulate(v, {"compression.type": codec}),
                         "cpu_us": cc.cpu_us(v, codec)})
        return {"kind": "codecs", "rows": rows}
    raise JobError("This exercise has no sweep to run.")
