"""Gradebook pages for the ``instructors`` group: the table, submissions, one submission, CSV.

Anonymous visitors are sent to the sign-in page; signed-in non-instructors get a 403 page.
Views only parse the filters, call the services and render.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import JsonLexer, PythonLexer, TextLexer

from courseware.exercises import graders
from courseware.exercises.models import Submission
from courseware.exercises.services.links import replay_url
from courseware.gradebook import export, services

STATUSES = tuple(s for s, _ in Submission.STATUSES)
PAGE_SIZE = 200


def instructor_required(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not services.is_instructor(request.user):
            return render(request, "gradebook/forbidden.html", status=403)
        return view(request, *args, **kwargs)
    return wrapped


def _filters(request: HttpRequest) -> dict[str, str]:
    """learner / exercise / status from the query string; an unknown exercise or status is
    a 404 naming it rather than an empty table that looks like "no submissions"."""
    learner = request.GET.get("learner", "").strip()[:150]
    exercise = request.GET.get("exercise", "").strip()
    status = request.GET.get("status", "").strip()
    if exercise and exercise not in graders.GRADERS and \
            not Submission.objects.filter(exercise=exercise).exists():
        raise Http404(f"There is no exercise called {exercise!r}.")
    if status and status not in STATUSES:
        raise Http404(f"Unknown status {status!r}; one of {', '.join(STATUSES)}.")
    return {"learner": learner, "exercise": exercise, "status": status}


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@instructor_required
def table(request: HttpRequest) -> HttpResponse:
    f = _filters(request)
    book = services.gradebook(f["learner"], f["exercise"])
    columns = [{"slug": s, "title": services.exercise_title(s)} for s in book.exercises]
    return render(request, "gradebook/table.html", {
        "book": book, "rows": book.rows(), "columns": columns, "filters": f,
        "query": request.GET.urlencode()})


@require_GET
@instructor_required
def table_csv(request: HttpRequest) -> HttpResponse:
    f = _filters(request)
    return _csv_response(export.table_csv(services.gradebook(f["learner"], f["exercise"])),
                         "gradebook.csv")


@require_GET
@instructor_required
def submissions(request: HttpRequest) -> HttpResponse:
    f = _filters(request)
    qs = services.submissions(**f).defer("text")
    total = qs.count()
    rows = [{"s": s, "goals": services.goals_summary(s.verdict)} for s in qs[:PAGE_SIZE]]
    return render(request, "gradebook/submissions.html", {
        "rows": rows, "total": total, "shown": len(rows), "filters": f,
        "exercises": services.exercise_slugs(), "statuses": STATUSES,
        "query": request.GET.urlencode()})


@require_GET
@instructor_required
def submissions_csv(request: HttpRequest) -> HttpResponse:
    f = _filters(request)
    base = request.build_absolute_uri("/").rstrip("/")
    return _csv_response(export.submissions_csv(services.submissions(**f).iterator(), base),
                         "submissions.csv")


def _highlighted(submission: Submission) -> tuple[str, str]:
    try:
        kind = graders.get(submission.exercise).kind
    except graders.UnknownExercise:
        kind = ""
    lexer = {"code": PythonLexer, "config": JsonLexer}.get(kind, TextLexer)()
    # Pygments escapes the text: what a learner wrote is shown, never interpreted.
    html = highlight(submission.text, lexer, HtmlFormatter(cssclass="codehilite",
                                                           linenos="inline"))
    return html, kind


@require_GET
@instructor_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission = get_object_or_404(Submission.objects.select_related("job"), pk=pk)
    verdict = submission.verdict or {}
    siblings = list(Submission.objects.filter(exercise=submission.exercise,
                                              learner=submission.learner)
                    .order_by("created", "pk").values_list("pk", flat=True))
    at = siblings.index(submission.pk)
    code, kind = _highlighted(submission)
    return render(request, "gradebook/detail.html", {
        "s": submission, "verdict": verdict, "goals": verdict.get("goals") or [],
        "code": code, "kind": kind, "timing": services.timing(submission),
        "replay_url": replay_url(submission),
        "title": services.exercise_title(submission.exercise),
        "previous": siblings[at - 1] if at else None,
        "next": siblings[at + 1] if at + 1 < len(siblings) else None,
        "position": at + 1, "count": len(siblings)})
