"""Who the learner is, what they have done, and merging it on sign-in.

Anonymous visitors get a random ``anon_id`` in their session. Django keeps session data
across ``login()`` (it only cycles the key), so when ``user_logged_in`` fires we can still
read the anon id and move that visitor's rows to the user, keeping the better of two rows
when both exist.
"""

from __future__ import annotations

import secrets

from django.utils import timezone

from ..models import Answer, DebugSubmission, Lesson, LessonProgress

SESSION_KEY = "course_anon_id"


def learner(request) -> dict:
    """Filter kwargs naming this learner: {"user": u} or {"anon_id": s} (created on demand)."""
    if request.user.is_authenticated:
        return {"user": request.user}
    anon = request.session.get(SESSION_KEY)
    if not anon:
        anon = secrets.token_hex(16)
        request.session[SESSION_KEY] = anon
    return {"anon_id": anon}


def peek_learner(request) -> dict | None:
    """Like :func:`learner` but never creates an anon id (for read-only pages)."""
    if request.user.is_authenticated:
        return {"user": request.user}
    anon = request.session.get(SESSION_KEY)
    return {"anon_id": anon} if anon else None


def progress_map(who: dict | None) -> dict[int, LessonProgress]:
    if not who:
        return {}
    return {p.lesson_id: p for p in LessonProgress.objects.for_learner(who)}


def mark_visited(who: dict, lesson: Lesson) -> LessonProgress:
    row = LessonProgress.objects.for_learner(who).filter(lesson=lesson).first()
    return row or LessonProgress.objects.create(lesson=lesson, **who)


def set_completed(who: dict, lesson: Lesson, done: bool = True) -> LessonProgress:
    row = mark_visited(who, lesson)
    row.completed_at = timezone.now() if done else None
    row.save(update_fields=["completed_at"])
    return row


def merge_anonymous(anon_id: str, user) -> int:
    """Move an anonymous learner's rows to ``user``; returns how many rows moved or merged."""
    moved = 0
    for row in LessonProgress.objects.filter(anon_id=anon_id):
        mine = LessonProgress.objects.filter(user=user, lesson=row.lesson).first()
        if mine:
            if row.completed_at and not mine.completed_at:
                mine.completed_at = row.completed_at
                mine.save(update_fields=["completed_at"])
            row.delete()
        else:
            row.user, row.anon_id = user, ""
            row.save(update_fields=["user", "anon_id"])
        moved += 1
    for ans in Answer.objects.filter(anon_id=anon_id):
        mine = Answer.objects.filter(user=user, question=ans.question).first()
        if mine and (mine.correct or not ans.correct) and mine.text:
            ans.delete()
        else:
            if mine:
                mine.delete()
            ans.user, ans.anon_id = user, ""
            ans.save(update_fields=["user", "anon_id"])
        moved += 1
    moved += DebugSubmission.objects.filter(anon_id=anon_id).update(user=user, anon_id="")
    return moved


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    """Signal receiver: merge the visitor's anonymous progress into the account."""
    if request is None or not hasattr(request, "session"):
        return
    anon = request.session.get(SESSION_KEY)
    if anon:
        merge_anonymous(anon, user)
        request.session.pop(SESSION_KEY, None)
