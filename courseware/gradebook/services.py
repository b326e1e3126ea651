"""What the gradebook shows, computed from the stored submissions (never re-graded here).

A cell is one learner × one exercise. *Attempts* count the submissions that were graded or
ended in ``error`` (an ``invalid`` one — syntax error, bad config — is not an attempt, as in
docs/GRADING.md); *best* and *latest* are the scores (0..1) of those counted submissions,
an ``error`` scoring 0. Queued or running submissions show as pending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from courseware.exercises import graders
from courseware.exercises.models import Submission
from courseware.exercises.services import catalog

COUNTED = ("graded", "error")
PENDING = ("queued", "running")


def is_instructor(user) -> bool:
    """A signed-in member of the ``instructors`` group (or a superuser)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or user.groups.filter(name="instructors").exists()


def exercise_title(slug: str) -> str:
    """The exercise's title from its front matter, else the slug."""
    return catalog.title(slug)


def exercise_slugs(seen: set[str] | None = None) -> list[str]:
    """The course's exercises in their fixed order, then any other slug that has submissions."""
    fixed = list(graders.GRADERS)
    return fixed + sorted((seen or set()) - set(fixed))


@dataclass
class Cell:
    learner: str
    exercise: str
    attempts: int = 0
    best: float | None = None
    latest: float | None = None
    latest_status: str = ""
    latest_id: int | None = None
    invalid: int = 0
    pending: int = 0
    last_submitted: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.attempts or self.invalid or self.pending)


@dataclass
class Gradebook:
    exercises: list[str]
    learners: list[str]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def cell(self, learner: str, exercise: str) -> Cell:
        return self.cells.get((learner, exercise)) or Cell(learner, exercise)

    def rows(self) -> list[tuple[str, list[Cell]]]:
        return [(who, [self.cell(who, ex) for ex in self.exercises]) for who in self.learners]


def gradebook(learner: str = "", exercise: str = "") -> Gradebook:
    """Every learner × exercise cell from the stored submissions (oldest first, so the last
    counted one seen is the latest)."""
    qs = Submission.objects.order_by("created", "pk")
    if learner:
        qs = qs.filter(learner=learner)
    if exercise:
        qs = qs.filter(exercise=exercise)
    cells: dict[tuple[str, str], Cell] = {}
    for row in qs.values("pk", "learner", "exercise", "status", "created", "verdict__score"):
        key = (row["learner"], row["exercise"])
        cell = cells.setdefault(key, Cell(*key))
        cell.last_submitted = row["created"]
        if row["status"] == "invalid":
            cell.invalid += 1
        elif row["status"] in PENDING:
            cell.pending += 1
        elif row["status"] in COUNTED:
            score = _score(row["verdict__score"]) if row["status"] == "graded" else 0.0
            cell.attempts += 1
            cell.best = score if cell.best is None else max(cell.best, score)
            cell.latest, cell.latest_status, cell.latest_id = score, row["status"], row["pk"]
    seen = {ex for _, ex in cells}
    exercises = [exercise] if exercise else exercise_slugs(seen)
    # Signed-in learners by name, then anonymous browsers (``anon:<id>``, exercise-ui's naming).
    learners = sorted({who for who, _ in cells}, key=lambda w: (w.startswith("anon:"), w.lower()))
    return Gradebook(exercises, learners, cells)


def _score(value) -> float:
    try:
        return max(0.0, min(1.0, float(value)))
    except (TypeError, ValueError):
        return 0.0


def submissions(learner: str = "", exercise: str = "", status: str = ""):
    """The stored submissions, newest first, narrowed by the filters that are given."""
    qs = Submission.objects.select_related("job").order_by("-created", "-pk")
    if learner:
        qs = qs.filter(learner=learner)
    if exercise:
        qs = qs.filter(exercise=exercise)
    if status:
        qs = qs.filter(status=status)
    return qs


def timing(submission: Submission) -> dict:
    """When it was submitted, how long it queued and how long the worker took (ms)."""
    verdict = submission.verdict or {}
    t = verdict.get("timing") if isinstance(verdict.get("timing"), dict) else {}
    job = submission.job
    queued_ms = None
    if job is not None and job.started_at:
        queued_ms = max(0, int((job.started_at - submission.created).total_seconds() * 1000))
    finished = job.finished_at if job is not None else None
    total_ms = (max(0, int((finished - submission.created).total_seconds() * 1000))
                if finished else None)
    return {"submitted": submission.created, "finished": finished, "queued_ms": queued_ms,
            "grading_ms": t.get("grading_ms"), "sandbox_ms": t.get("sandbox_ms"),
            "total_ms": total_ms}


def goals_summary(verdict: dict | None) -> tuple[int, int]:
    """(goals passed, goals) of a verdict."""
    goals = (verdict or {}).get("goals") or []
    return sum(1 for g in goals if isinstance(g, dict) and g.get("passed")), len(goals)
