"""The gradebook's CSV files (columns documented in docs/GRADING.md).

Learner names and messages are text others wrote: a cell that a spreadsheet would read as a
formula (``=``, ``+``, ``-``, ``@``, tab, CR) is prefixed with ``'`` so it stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from courseware.exercises.services.links import replay_url
from courseware.gradebook.services import Gradebook, goals_summary, timing

TABLE_COLUMNS = ("learner", "exercise", "attempts", "best_score", "latest_score",
                 "latest_status", "invalid", "pending", "last_submitted",
                 "latest_submission_id")
SUBMISSION_COLUMNS = ("id", "learner", "exercise", "submitted", "status", "attempt", "score",
                      "goals_passed", "goals_total", "message", "queued_ms", "grading_ms",
                      "sandbox_ms", "replay_url")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _when(value) -> str:
    return value.isoformat() if value else ""


def _csv(columns: tuple[str, ...], rows: Iterable[Iterable[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_safe("" if v is None else v) for v in row])
    return buf.getvalue()


def table_csv(book: Gradebook) -> str:
    """One row per learner × exercise (every exercise for every learner who submitted)."""
    return _csv(TABLE_COLUMNS, (
        (c.learner, c.exercise, c.attempts, _score(c.best), _score(c.latest), c.latest_status,
         c.invalid, c.pending, _when(c.last_submitted), c.latest_id)
        for _, cells in book.rows() for c in cells))


def submissions_csv(submissions: Iterable, base_url: str = "") -> str:
    """One row per submission, newest first."""
    def row(s) -> tuple:
        verdict = s.verdict or {}
        passed, total = goals_summary(verdict)
        t = timing(s)
        score = verdict.get("score") if s.status in ("graded", "error") else None
        replay = replay_url(s)
        return (s.pk, s.learner, s.exercise, _when(s.created), s.status, s.attempt,
                _score(score if isinstance(score, (int, float)) else None),
                passed if verdict else "", total if verdict else "", verdict.get("message", ""),
                t["queued_ms"], t["grading_ms"], t["sandbox_ms"],
                base_url + replay if replay else "")
    return _csv(SUBMISSION_COLUMNS, (row(s) for s in submissions))
