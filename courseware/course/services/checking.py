"""Checking a learner's answer to a checkpoint or an engine-computed question.

The answer is saved before it is checked, so nothing a learner writes is lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..models import Answer, Question
from . import computed

# A wrong answer gets a hint first; the answer shows after this many wrong tries (or when
# the learner asks for it).
REVEAL_AFTER = 2


class AnswerError(ValueError):
    """The submitted answer could not be read (not a number, no option chosen...)."""


@dataclass
class Verdict:
    correct: bool
    expected: str  # the correct answer as shown to the learner
    given: str
    message: str = ""
    hint: str = ""  # what to try next, without the answer
    reveal: bool = True  # show the answer and the explanation


def hint(q: Question, given: str, raw: str) -> str:
    """A nudge after a wrong answer that does not give the answer away."""
    if q.kind == Question.Kind.CHOICE:
        left = len(q.choices) - 1
        return (f"It is not “{given}”. Think about what the question changes, then pick "
                f"one of the {left} other options.")
    want = expected_number(q)
    try:
        mine = float(raw.replace(",", "").replace("_", ""))
    except ValueError:
        return ""
    way = "larger" if want > mine else "smaller"
    close = abs(want - mine) <= 0.25 * max(abs(want), 1e-9)
    around = " You are close." if close else ""
    within = f" Within {q.tolerance:.0%} counts." if q.tolerance else ""
    return f"The answer is {way} than {given}.{around}{within}"


def expected_number(q: Question) -> float:
    """The correct number: stored for numeric, computed by running the engine otherwise."""
    if q.kind == Question.Kind.COMPUTED:
        return computed.answer(q.compute, q.params)
    return float(q.answer)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.3g}"


def check(q: Question, raw: str) -> Verdict:
    """Check ``raw`` (the form value) against the question; raises AnswerError if unreadable."""
    raw = (raw or "").strip()
    if q.kind == Question.Kind.CHOICE:
        try:
            idx = int(raw)
        except ValueError as exc:
            raise AnswerError("choose one of the options") from exc
        if not 0 <= idx < len(q.choices):
            raise AnswerError(f"option {raw} does not exist")
        return Verdict(idx == q.answer, q.choices[q.answer], q.choices[idx])
    if q.kind in (Question.Kind.NUMERIC, Question.Kind.COMPUTED):
        try:
            given = float(raw.replace(",", "").replace("_", ""))
        except ValueError as exc:
            raise AnswerError(f"{raw!r} is not a number") from exc
        if not math.isfinite(given):
            raise AnswerError("enter a finite number")
        want = expected_number(q)
        tol = abs(want) * q.tolerance
        ok = abs(given - want) <= max(tol, 1e-9)
        return Verdict(ok, _fmt(want), _fmt(given))
    raise AnswerError("interview questions are self-checked, not graded")


def for_answer(q: Question, ans: Answer) -> Verdict:
    """The verdict on a saved answer as the learner sees it: after a first wrong try a
    hint, the answer only after ``REVEAL_AFTER`` wrong tries or when they asked for it.
    Raises AnswerError if the saved text is unreadable."""
    verdict = check(q, ans.text)
    if not verdict.correct:
        verdict.reveal = ans.revealed or ans.wrong_attempts >= REVEAL_AFTER
        if not verdict.reveal:
            verdict.hint = hint(q, verdict.given, ans.text)
    return verdict


def submit(who: dict, q: Question, raw: str) -> tuple[Answer, Verdict | None, str]:
    """Save the answer, then check it. Returns (answer row, verdict or None, error text)."""
    ans = Answer.objects.for_learner(who).filter(question=q).first() or Answer(question=q, **who)
    ans.text = (raw or "")[:20000]
    try:
        verdict = check(q, raw)
    except AnswerError as exc:
        ans.correct = None
        ans.save()
        return ans, None, str(exc)
    ans.correct = verdict.correct
    if not verdict.correct:
        ans.wrong_attempts += 1
    ans.save()
    return ans, for_answer(q, ans), ""


def reveal(who: dict, q: Question) -> Answer:
    """The learner asks for the answer: it shows from now on."""
    ans = Answer.objects.for_learner(who).filter(question=q).first() or Answer(question=q, **who)
    ans.revealed = True
    ans.save()
    return ans
