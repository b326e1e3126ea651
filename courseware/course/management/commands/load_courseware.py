"""Load lessons and questions from courseware/content into the database.

Idempotent: rows are upserted by slug, so running it twice changes nothing, and edits made
to a file replace the row's content. Lessons and questions whose files are gone are
removed. Checkpoints live inside lesson files; interview questions in content/interview/;
engine-computed quiz questions in content/quiz.json.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from courseware.course.models import Lesson, Question
from courseware.course.services import content
from courseware.course.services.frontmatter import ContentError


class Command(BaseCommand):
    help = "Load lessons and questions from courseware/content into the database (idempotent)."

    def handle(self, *args, **options):
        try:
            lessons = content.lesson_files()
            interview = content.interview_files()
            quiz = content.quiz_questions()
            pages = content.checkpoint_pages()
        except ContentError as exc:
            raise CommandError(str(exc)) from exc
        with transaction.atomic():
            counts = load(lessons, interview, quiz, pages)
        self.stdout.write("courseware: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def _checkpoint_defaults(cp: dict, lesson, order: int, page: str) -> dict:
    return {"kind": cp["kind"], "lesson": lesson, "order": order, "page": page, "title": "",
            "prompt": cp["prompt"], "choices": cp["choices"], "answer": cp["answer"],
            "tolerance": cp["tolerance"], "explanation": cp["explanation"],
            "compute": "", "params": {}, "model_answer": "", "rubric": [],
            "demo_preset": "", "demo_note": ""}


def load(lessons: list[dict], interview: list[dict], quiz: list[dict],
         pages: list[tuple[str, list[dict]]] = ()) -> dict[str, int]:
    """Upsert everything; returns counts by kind."""
    question_slugs: list[str] = []
    for url, cps in pages:
        for i, cp in enumerate(cps, start=1):
            Question.objects.update_or_create(
                slug=cp["slug"], defaults=_checkpoint_defaults(cp, None, i, url))
            question_slugs.append(cp["slug"])
    for le in lessons:
        lesson, _ = Lesson.objects.update_or_create(
            slug=le["slug"],
            defaults={k: le[k] for k in ("title", "order", "summary", "body", "source_path")})
        for i, cp in enumerate(le["checkpoints"], start=1):
            Question.objects.update_or_create(
                slug=cp["slug"], defaults=_checkpoint_defaults(cp, lesson, i, ""))
            question_slugs.append(cp["slug"])
    for q in interview:
        Question.objects.update_or_create(slug=q["slug"], defaults={
            "kind": Question.Kind.INTERVIEW, "lesson": None, "order": q["order"], "page": "",
            "title": q["title"], "prompt": q["prompt"], "choices": [], "answer": None,
            "tolerance": 0.0, "explanation": "", "compute": "", "params": {},
            "model_answer": q["model_answer"], "rubric": q["rubric"],
            "demo_preset": q["demo_preset"], "demo_note": q["demo_note"]})
        question_slugs.append(q["slug"])
    for q in quiz:
        Question.objects.update_or_create(slug=q["slug"], defaults={
            "kind": Question.Kind.COMPUTED, "lesson": None, "order": q["order"], "page": "",
            "title": q["title"], "prompt": q["prompt"], "choices": [], "answer": None,
            "tolerance": q["tolerance"], "explanation": q["explanation"],
            "compute": q["compute"], "params": q["params"], "model_answer": "",
            "rubric": [], "demo_preset": q["demo_preset"], "demo_note": ""})
        question_slugs.append(q["slug"])
    if len(set(question_slugs)) != len(question_slugs):
        dupes = sorted({s for s in question_slugs if question_slugs.count(s) > 1})
        raise CommandError(f"duplicate question ids: {', '.join(dupes)}")
    Question.objects.exclude(slug__in=question_slugs).delete()
    Lesson.objects.exclude(slug__in=[le["slug"] for le in lessons]).delete()
    return {"lessons": len(lessons), "questions": len(question_slugs)}
