"""The course's heavy work, run by ``manage.py worker`` (docs/JOBS.md), never by daphne."""

from __future__ import annotations

import dataclasses
import os

from courseware.jobs.kinds import JobError, job_kind

from .services import replay


@job_kind("course.incident_replay")
def incident_replay(params: dict, progress) -> dict:
    """Replay the incident with the learner's settings (tens of seconds of CPU)."""
    progress(0.05, f"replaying {replay.REPLAY_MS // 1000} s of the incident")
    result = dataclasses.asdict(replay.replay(str(params.get("fix", ""))))
    result["pid"] = os.getpid()  # which process did the work (tests: never daphne)
    return result


@job_kind("course.debug_grade")
def debug_grade(params: dict, progress) -> dict:
    """Grade a debug-this answer by replaying the scenario with the fix; saves the learner's
    ``DebugSubmission`` once, keyed by ``params["submission"]`` (a re-run stores nothing twice)."""
    from .models import DebugSubmission
    from .services import content, debugging

    page = content.find(content.debug_scenarios(), params["slug"])
    if page is None:
        raise JobError(f"There is no debug scenario {params['slug']!r} any more.")
    progress(0.05, "replaying today's traffic with your fix")
    grade = debugging.grade(page, list(params.get("causes") or []), str(params.get("fix", "")),
                            attempt=int(params.get("attempt") or 1))
    if grade.error:
        raise JobError(grade.error)
    out = dataclasses.asdict(grade)
    out["pid"] = os.getpid()
    key = str(params["submission"])
    if not DebugSubmission.objects.filter(result__submission=key).exists():
        who = ({"user_id": params["user_id"]} if params.get("user_id")
               else {"anon_id": params.get("anon_id", "")})
        DebugSubmission.objects.create(
            scenario=page.slug, causes=list(params.get("causes") or []), fix=grade.fix,
            passed=grade.passed, result={**grade.as_dict(), "submission": key}, **who)
    return out


@job_kind("course.measure")
def measure_codecs(params: dict, progress) -> dict:
    """Measure the real codecs on a sample (the speeds are this worker's, not daphne's)."""
    from .services import measure

    try:
        result = measure.run(str(params.get("kind", "")), str(params.get("text", "")))
    except measure.MeasureError as exc:
        raise JobError(str(exc)) from None
    return {**dataclasses.asdict(result), "pid": os.getpid()}
