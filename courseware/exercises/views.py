"""The learner's exercise pages. Views parse, call one service, render (htmx gets the partial).

Bad input is a 4xx whose body says what to fix (htmx swaps 4xx answers into the page too:
``templates/exercises/detail.html`` sets ``htmx.config.responseHandling``).
"""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from courseware.exercises.services.links import replay_url
from courseware.jobs.models import Job
from courseware.jobs.services import owner_of, visible_job

from .services import content
from .services import learner as learners
from .services.learner import InputError

TEMPLATE = "exercises/detail.html"


class NotFound(Exception):
    """A 404 whose message the learner reads (Django's 404 page shows none with DEBUG off)."""


def not_found(request, message: str) -> HttpResponse:
    return render(request, "exercises/not_found.html", {"message": message}, status=404)


def _answers_not_found(view):
    from functools import wraps

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return not_found(request, str(exc))
    return wrapper


def _exercise(slug: str):
    ex = content.get(slug)
    if ex is None:
        raise NotFound(f"There is no exercise called {slug!r}.")
    return ex


def _own_job(request, job_id, kind: str, slug: str) -> Job:
    job = visible_job(job_id, owner_of(request))
    if job is None or job.kind != kind or job.params.get("slug") != slug:
        raise NotFound("No such run for this browser.")
    return job


@_answers_not_found
@require_GET
def index(request):
    who = learners.peek_learner(request)
    rows = [{"ex": ex, **learners.summary(ex, who)} for ex in content.all_exercises()]
    return render(request, "exercises/index.html", {"rows": rows})


@_answers_not_found
@require_GET
def api_doc(request):
    return render(request, "exercises/api.html", {"api_html": learners.learner_api_html()})


@_answers_not_found
@require_GET
def detail(request, slug: str):
    """The page; ``?submission=<id>``, ``?run=<job>``, ``?sweep=<job>`` show (or, for htmx,
    return) that part — the polling partials and the no-JS "refresh" links use these."""
    ex = _exercise(slug)
    who = learners.learner_of(request)
    ctx = learners.page(ex, who)
    part = None
    if "submission" in request.GET:
        ctx["shown"] = learners.own_submission(ex, who, request.GET["submission"])
        if ctx["shown"] is None:
            raise NotFound("No such submission of yours.")
        part = "result"
    else:
        ctx["shown"] = ctx["latest"]
    if "run" in request.GET:
        ctx["run"] = _own_job(request, request.GET["run"], learners.SAMPLE_KIND, slug)
        part = "run"
    if "sweep" in request.GET:
        ctx["sweep_job"] = _own_job(request, request.GET["sweep"], learners.SWEEP_KIND, slug)
        part = "sweep"
    return _render(request, ctx, part)


def _render(request, ctx: dict, part: str | None, status: int = 200):
    shown = ctx.get("shown")
    if shown is not None and ctx["ex"].slug == "metrics-dashboard":
        ctx["dashboard"] = learners.dashboard_rows(shown.verdict)
    ctx["replay_url"] = replay_url(shown) if shown is not None else None
    name = f"{TEMPLATE}#{part}" if (part and request.htmx) else TEMPLATE
    return render(request, name, ctx, status=status)


def _handed_in_text(request, ex) -> str:
    """The code or config a learner typed or uploaded (InputError: too large, unreadable)."""
    if _too_big(request):
        raise InputError(f"That upload is too large: the limit is "
                         f"{learners.MAX_BYTES // 1024} KB.", 413)
    return learners.read_text(ex, request.POST, request.FILES)


def _too_big(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > learners.MAX_BYTES * 2 + 16 * 1024


def _refuse(request, ex, who: str, part: str, exc: InputError):
    ctx = learners.page(ex, who)
    ctx["shown"] = ctx["latest"]
    ctx[f"{part}_error"] = str(exc)
    return _render(request, ctx, part, status=exc.status)


@_answers_not_found
@require_POST
def submit(request, slug: str):
    """Save the submission and queue its grading; the page then polls its status."""
    ex = _exercise(slug)
    who = learners.learner_of(request)
    try:
        text = _handed_in_text(request, ex)
        submission = learners.submit(ex, who, text, owner_of(request))
    except InputError as exc:
        return _refuse(request, ex, who, "result", exc)
    if not request.htmx:
        return redirect(f"{reverse('exercises:detail', args=[slug])}"
                        f"?submission={submission.pk}#result")
    ctx = learners.page(ex, who)
    ctx["shown"] = submission
    return _render(request, ctx, "result")


@_answers_not_found
@require_POST
def run(request, slug: str):
    """Run the code against the sample (a sandboxed job in the worker; not an attempt)."""
    ex = _exercise(slug)
    who = learners.learner_of(request)
    try:
        text = _handed_in_text(request, ex)
        job = learners.run_sample(ex, who, text, owner_of(request))
    except InputError as exc:
        return _refuse(request, ex, who, "run", exc)
    if not request.htmx:
        return redirect(f"{reverse('exercises:detail', args=[slug])}?run={job.id}#run")
    ctx = learners.page(ex, who)
    ctx["shown"], ctx["run"] = ctx["latest"], job
    return _render(request, ctx, "run")


@_answers_not_found
@require_POST
def sweep(request, slug: str):
    ex = _exercise(slug)
    if ex.slug not in learners.SWEEPS:
        raise NotFound("This exercise has no sweep to run.")
    who = learners.learner_of(request)
    try:
        job = learners.start_sweep(ex, who, owner_of(request))
    except InputError as exc:
        return _refuse(request, ex, who, "sweep", exc)
    if not request.htmx:
        return redirect(f"{reverse('exercises:detail', args=[slug])}?sweep={job.id}#sweep")
    ctx = learners.page(ex, who)
    ctx["shown"], ctx["sweep_job"] = ctx["latest"], job
    return _render(request, ctx, "sweep")


@_answers_not_found
@require_GET
def starter(request, slug: str):
    """The starter file, as a download."""
    ex = _exercise(slug)
    response = HttpResponse(ex.starter, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ex.slug}-starter{ex.extension}"'
    return response


@_answers_not_found
@require_GET
def table_csv(request, slug: str):
    """The codec comparison of a finished sweep as CSV (``?sweep=<job id>``)."""
    ex = _exercise(slug)
    if ex.slug != "compression-comparison":
        raise NotFound("Only the compression comparison has a table to export.")
    if "sweep" not in request.GET:
        return HttpResponse("Name the comparison to export: ?sweep=<id> (run the comparison "
                            "on the exercise page first).", status=400,
                            content_type="text/plain; charset=utf-8")
    job = _own_job(request, request.GET["sweep"], learners.SWEEP_KIND, slug)
    if job.status != Job.Status.DONE:
        return HttpResponse("This comparison has not finished yet; try again in a moment.",
                            status=409, content_type="text/plain; charset=utf-8")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["codec", "compression_ratio", "producer_cpu_us_per_record",
                     "records_per_s", "avg_latency_ms"])
    for r in job.result.get("rows", []):
        writer.writerow([r["codec"], r["ratio"], r["cpu_us"], round(r["records_per_s"], 1),
                         round(r["avg_latency_ms"], 3)])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="compression-comparison.csv"'
    return response
