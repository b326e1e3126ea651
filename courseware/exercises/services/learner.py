"""What the exercise pages decide: who the learner is, what they handed in, and what to show.

A learner is named in ``Submission.learner`` as the username when signed in, and as
``anon:<id>`` for an anonymous browser (the course's session identity,
``courseware.course.services.progress``); a Django username cannot contain ``:``, so the two
never collide.  The variant seed is ``variant_seed(learner, slug)`` (docs/GRADING.md).
"""

from __future__ import annotations

import json

from courseware.course.services import progress
from courseware.exercises.models import Submission
from courseware.exercises.services import content, grading
from courseware.exercises.services.content import Exercise

MAX_BYTES = 64 * 1024  # a submission, typed or uploaded
MAX_PENDING = 3  # queued or running submissions per learner and exercise
SAMPLE_KIND = "exercises.sample_run"
SWEEP_KIND = "exercises.sweep"
SWEEPS = ("batching-benchmark", "compression-comparison")


class InputError(ValueError):
    """Bad input from a form: ``status`` is the HTTP status, the message says what to fix."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def learner_of(request) -> str:
    who = progress.learner(request)
    return who["user"].get_username() if "user" in who else f"anon:{who['anon_id']}"


def peek_learner(request) -> str | None:
    who = progress.peek_learner(request)
    if who is None:
        return None
    return who["user"].get_username() if "user" in who else f"anon:{who['anon_id']}"


def read_text(ex: Exercise, post, files) -> str:
    """The submission's text: the uploaded file if one was chosen, else the editor's text."""
    upload = files.get("upload") if files else None
    if upload is not None and upload.name:
        if upload.size > MAX_BYTES:
            raise InputError(f"The file {upload.name!r} is {upload.size:,} bytes; the limit is "
                             f"{MAX_BYTES // 1024} KB.", 413)
        if not upload.name.lower().endswith((ex.extension, ".txt")):
            raise InputError(f"Upload a {ex.extension} file (this exercise takes "
                             f"{'Python' if ex.kind == 'code' else 'JSON'}); got "
                             f"{upload.name!r}.", 415)
        raw = upload.read(MAX_BYTES + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"The file {upload.name!r} is not UTF-8 text (byte {exc.start} "
                             "cannot be decoded).", 400) from None
        source = f"The file {upload.name!r}"
    else:
        text = post.get("text")
        if text is None:
            raise InputError("Write your answer in the editor or choose a file to upload.")
        if len(text.encode("utf-8")) > MAX_BYTES:
            raise InputError(f"Your answer is longer than {MAX_BYTES // 1024} KB.", 413)
        source = "Your answer"
    if "\x00" in text:
        raise InputError(f"{source} contains NUL bytes — is it a binary file?", 400)
    if not text.strip():
        raise InputError(f"{source} is empty.", 400)
    return text


def check(ex: Exercise, learner: str, text: str) -> str | None:
    """The grader's fast in-process check (syntax, functions, config): a message or None."""
    return grading.graders.get(ex.slug).validate(text, content.variant_of(ex, learner))


def submit(ex: Exercise, learner: str, text: str, owner: str) -> Submission:
    pending = Submission.objects.filter(exercise=ex.slug, learner=learner,
                                        status__in=("queued", "running")).count()
    if pending >= MAX_PENDING:
        raise InputError(f"You have {pending} submissions of this exercise waiting to be "
                         "graded; wait for them before submitting again.", 429)
    return grading.submit(ex.slug, learner, text, owner=owner)


def run_sample(ex: Exercise, learner: str, text: str, owner: str):
    """Queue a sandboxed run on the learner's workload (not graded, not an attempt)."""
    from courseware.jobs.services import submit as submit_job

    problem = check(ex, learner, text)
    if problem:
        raise InputError(problem, 422)
    _not_busy(owner, SAMPLE_KIND, "runs")
    return submit_job(SAMPLE_KIND, {"slug": ex.slug, "learner": learner, "text": text},
                      owner=owner)


def start_sweep(ex: Exercise, learner: str, owner: str):
    from courseware.jobs.services import submit as submit_job

    if ex.slug not in SWEEPS:
        raise InputError("This exercise has no sweep to run.", 404)
    _not_busy(owner, SWEEP_KIND, "sweeps")
    return submit_job(SWEEP_KIND, {"slug": ex.slug, "learner": learner}, owner=owner)


def _not_busy(owner: str, kind: str, what: str) -> None:
    from courseware.jobs.models import Job

    busy = Job.objects.filter(owner=owner, kind=kind,
                              status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).count()
    if busy >= MAX_PENDING:
        raise InputError(f"You already have {busy} {what} waiting or running; wait for them "
                         "to finish.", 429)


def own_submission(ex: Exercise, learner: str | None, pk) -> Submission | None:
    if learner is None:
        return None
    try:
        return Submission.objects.get(pk=int(pk), exercise=ex.slug, learner=learner)
    except (Submission.DoesNotExist, TypeError, ValueError, OverflowError):
        return None


def summary(ex: Exercise, learner: str | None) -> dict:
    """Attempts (graded or error; never invalid), best score, solved, the latest submission."""
    if learner is None:
        return {"attempts": 0, "best": None, "solved": False, "latest": None, "recent": []}
    mine = Submission.objects.filter(exercise=ex.slug, learner=learner)
    counted = mine.filter(status__in=("graded", "error"))
    scores = [float((s.verdict or {}).get("score") or 0.0)
              for s in counted.filter(status="graded").only("verdict")]
    best = max(scores) if scores else None
    solved = any(x >= 1.0 for x in scores)
    return {"attempts": counted.count(), "best": best, "solved": solved,
            "latest": mine.first(), "recent": list(mine[:5])}


def page(ex: Exercise, learner: str) -> dict:
    """Everything the exercise page shows for this learner."""
    from courseware.course.services.render import md

    variant = content.variant_of(ex, learner)
    state = summary(ex, learner)
    latest = state["latest"]
    return {
        "ex": ex, "variant": variant,
        "variant_rows": [(k, content._show(v)) for k, v in variant.items()],
        "statement_html": md(content.fill(ex.statement, variant)),
        "goals": content.goals_for(ex, variant),
        "hints": [md(h) for h in ex.hints],
        "explanation_html": md(ex.explanation) if state["solved"] else "",
        "text": latest.text if latest is not None else ex.starter,
        "starter": ex.starter, **state,
        "sweep": ex.slug in SWEEPS,
    }


def learner_api_html() -> str:
    from pathlib import Path

    from courseware.course.services.render import md

    return md((Path(__file__).resolve().parents[1] / "learner_api.md").read_text())


def dashboard_rows(verdict: dict | None) -> list[dict]:
    """metrics-dashboard: the learner's figures beside the engine's, from the graded run."""
    board = (verdict or {}).get("dashboard") or {}
    yours, engine = board.get("yours") or {}, board.get("engine") or {}
    rows = []
    for name, want in engine.items():
        mine = yours.get(name) if isinstance(yours, dict) else None
        if isinstance(want, dict):
            mine = mine if isinstance(mine, dict) else {}
            for k, w in want.items():
                rows.append({"name": f"{name} · {k}", "yours": _fmt(mine.get(k)),
                             "engine": _fmt(w)})
        else:
            rows.append({"name": name, "yours": _fmt(mine), "engine": _fmt(want)})
    return rows


def _fmt(x) -> str:
    if isinstance(x, bool) or x is None:
        return "—" if x is None else json.dumps(x)
    if isinstance(x, (int, float)):
        return f"{x:,.3f}".rstrip("0").rstrip(".")
    return json.dumps(x)[:60]
