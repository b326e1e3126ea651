"""Course pages. Views parse, call one service, render (htmx requests get the partial)."""

from __future__ import annotations

import uuid

from django.contrib.auth import login
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_POST

from courseware.jobs.models import Job
from courseware.jobs.services import owner_of, submit, visible_job

from . import export as export_mod
from .forms import DebugAnswerForm, SignUpForm
from .models import Answer, DebugSubmission, Lesson, Question
from .services import checking, content, debugging, measure, progress, replay
from .services import render as rendering
from .services.engine import FixError, parse_fix


def _partial(request, template: str, name: str) -> str:
    return f"{template}#{name}" if request.htmx else template


def home(request):
    who = progress.peek_learner(request)
    lessons = list(Lesson.objects.all())
    pmap = progress.progress_map(who)
    rows = [{"lesson": le, "progress": pmap.get(le.pk)} for le in lessons]
    done = sum(1 for r in rows if r["progress"] and r["progress"].completed)
    interview = Question.objects.filter(kind=Question.Kind.INTERVIEW)
    quiz = Question.objects.filter(kind=Question.Kind.COMPUTED)
    return render(request, "course/home.html", {
        "rows": rows, "done": done, "total": len(rows),
        "next_lesson": next((r["lesson"] for r in rows
                             if not (r["progress"] and r["progress"].completed)), None),
        "mistakes": content.mistakes(), "debug": content.debug_scenarios(),
        "incident": content.incident(), "interview": interview, "quiz": quiz})


def _segments(body: str, who: dict | None) -> list[dict]:
    """Rendered segments of a body, checkpoints joined with their Question row and this
    learner's last answer and verdict."""
    segs = rendering.render(body)
    slugs = [s.checkpoint for s in segs if s.kind == "checkpoint"]
    questions = {q.slug: q for q in Question.objects.filter(slug__in=slugs)}
    answers = ({a.question_id: a for a in Answer.objects.for_learner(who)
                .filter(question__in=questions.values())} if who and questions else {})
    out = []
    for seg in segs:
        if seg.kind == "checkpoint":
            q = questions.get(seg.checkpoint)
            if q is None:  # content changed but load_courseware not re-run yet
                continue
            out.append({"kind": "checkpoint", "q": q, "answer": answers.get(q.pk),
                        **_verdict_ctx(q, answers.get(q.pk))})
        else:
            out.append({"kind": seg.kind, "seg": seg})
    return out


def lesson_detail(request, slug: str):
    lesson = get_object_or_404(Lesson, slug=slug)
    who = progress.learner(request)
    row = progress.mark_visited(who, lesson)
    segments = _segments(lesson.body, who)
    prev_l = Lesson.objects.filter(order__lt=lesson.order).order_by("-order").first()
    next_l = Lesson.objects.filter(order__gt=lesson.order).order_by("order").first()
    from courseware.exercises.services.content import for_lesson

    return render(request, "course/lesson.html", {
        "lesson": lesson, "segments": segments, "progress": row,
        "exercises": for_lesson(lesson.slug),
        "prev": prev_l, "next": next_l, "measure_kinds": measure.KINDS})


def _verdict_ctx(q: Question, ans: Answer | None) -> dict:
    if ans is None or q.kind == Question.Kind.INTERVIEW:
        return {"verdict": None, "error": ""}
    if not ans.text:
        if not ans.revealed:
            return {"verdict": None, "error": ""}
        # asked for the answer before trying one
        shown = checking.check(q, "0") if q.kind == Question.Kind.CHOICE else None
        expected = shown.expected if shown else checking._fmt(checking.expected_number(q))
        return {"verdict": checking.Verdict(False, expected, "", reveal=True), "error": ""}
    try:
        verdict = checking.for_answer(q, ans)
    except checking.AnswerError as exc:
        return {"verdict": None, "error": str(exc)}
    return {"verdict": verdict, "error": ""}


@require_POST
def lesson_complete(request, slug: str):
    lesson = get_object_or_404(Lesson, slug=slug)
    done = request.POST.get("done", "1") == "1"
    row = progress.set_completed(progress.learner(request), lesson, done)
    if request.htmx:
        return render(request, "course/lesson.html#complete", {"lesson": lesson, "progress": row})
    nxt = Lesson.objects.filter(order__gt=lesson.order).order_by("order").first()
    if done and nxt:
        return redirect("course:lesson", slug=nxt.slug)
    return redirect("course:lesson", slug=lesson.slug)


@require_POST
def answer(request, slug: str):
    """Check a checkpoint or a computed quiz question; htmx gets the partial back."""
    q = get_object_or_404(Question, slug=slug)
    if q.kind == Question.Kind.INTERVIEW:
        raise Http404("interview questions are answered on their own page")
    who = progress.learner(request)
    if request.POST.get("action") == "reveal":
        ans = checking.reveal(who, q)
        ctx = {"q": q, "answer": ans, **_verdict_ctx(q, ans)}
    else:
        ans, verdict, error = checking.submit(who, q, request.POST.get("answer", ""))
        ctx = {"q": q, "answer": ans, "verdict": verdict, "error": error}
    if request.htmx:
        # htmx swaps only 2xx responses; the error is shown inside the partial.
        return render(request, "course/_question.html", ctx)
    if q.lesson:
        back = reverse("course:lesson", args=[q.lesson.slug])
    else:
        back = q.page or reverse("course:quiz")
    return redirect(f"{back}#q-{q.slug}")


def quiz(request):
    who = progress.peek_learner(request)
    qs = list(Question.objects.filter(kind=Question.Kind.COMPUTED))
    answers = {a.question_id: a for a in Answer.objects.for_learner(who)} if who else {}
    items = [{"q": q, "answer": answers.get(q.pk), **_verdict_ctx(q, answers.get(q.pk))}
             for q in qs]
    return render(request, "course/quiz.html", {"items": items})


def interview_list(request):
    who = progress.peek_learner(request)
    qs = list(Question.objects.filter(kind=Question.Kind.INTERVIEW))
    answers = {a.question_id: a for a in Answer.objects.for_learner(who)} if who else {}
    return render(request, "course/interview_list.html",
                  {"items": [{"q": q, "answer": answers.get(q.pk)} for q in qs]})


def interview_detail(request, slug: str):
    """Write an answer (saved), then reveal the model answer and the rubric."""
    q = get_object_or_404(Question, slug=slug, kind=Question.Kind.INTERVIEW)
    who = progress.learner(request)
    ans = Answer.objects.for_learner(who).filter(question=q).first()
    error = ""
    if request.method == "POST":
        text = request.POST.get("answer", "").strip()
        if request.POST.get("action") == "reveal":
            if not (ans and ans.text.strip()) and not text:
                error = "Write your own answer first; then compare it with ours."
            else:
                ans = ans or Answer(question=q, **who)
                if text:
                    ans.text = text[:20000]
                ans.revealed = True
                ans.save()
        elif not text:
            error = "Your answer is empty."
        else:
            ans = ans or Answer(question=q, **who)
            ans.text = text[:20000]
            ans.save()
        if not error and not request.htmx:
            return redirect("course:interview", slug=q.slug)
    qs = list(Question.objects.filter(kind=Question.Kind.INTERVIEW))
    idx = [x.pk for x in qs].index(q.pk)
    ctx = {"q": q, "answer": ans, "error": error,
           "prev": qs[idx - 1] if idx > 0 else None,
           "next": qs[idx + 1] if idx + 1 < len(qs) else None}
    status = 422 if error and not request.htmx else 200
    return render(request, _partial(request, "course/interview.html", "workarea"), ctx,
                  status=status)


def mistakes_list(request):
    return render(request, "course/mistakes_list.html", {"pages": content.mistakes()})


def mistake_detail(request, slug: str):
    page = content.find(content.mistakes(), slug)
    if page is None:
        raise Http404(f"no mistake {slug!r}")
    pages = content.mistakes()
    idx = pages.index(page)
    return render(request, "course/mistake.html", {
        "page": page, "segments": _segments(page.body, progress.peek_learner(request)),
        "measure_kinds": measure.KINDS,
        "prev": pages[idx - 1] if idx > 0 else None,
        "next": pages[idx + 1] if idx + 1 < len(pages) else None})


def debug_list(request):
    return render(request, "course/debug_list.html", {"pages": content.debug_scenarios()})


def debug_detail(request, slug: str):
    """Show the scenario; on POST queue the grading (a replay of the engine) in the worker.

    The form is checked here (cheap); the replay runs as a ``course.debug_grade`` job, the
    page polls ``?job=<id>`` and shows the verdict when it is ready.
    """
    page = content.find(content.debug_scenarios(), slug)
    if page is None:
        raise Http404(f"no debug scenario {slug!r}")
    choices = [(c["id"], c["text"]) for c in page.extra["causes"]]
    result, job = None, None
    form = DebugAnswerForm(cause_choices=choices)
    if request.method == "POST" and request.POST.get("action") == "reveal":
        return _render_debug(request, page, form, None, reveal=debugging.real_causes(page))
    if request.method == "POST":
        form = DebugAnswerForm(request.POST, cause_choices=choices)
        if form.is_valid():
            try:
                parse_fix(form.cleaned_data["fix"], page.extra["degraded"])
            except FixError as exc:
                form.add_error("fix", str(exc))
            else:
                job = submit("course.debug_grade", _debug_params(request, page, form),
                             owner=owner_of(request))
                if not request.htmx:
                    return redirect(f"{reverse('course:debug', args=[slug])}?job={job.id}#answer")
    elif request.GET.get("job"):
        job = visible_job(request.GET["job"], owner_of(request))
        if job is None or job.kind != "course.debug_grade":
            raise Http404("no such grading")
    if job is not None and job.status == Job.Status.DONE:
        result = job.result
    elif job is not None and job.status == Job.Status.FAILED:
        form.add_error(None, job.error)
    return _render_debug(request, page, form, result, job)


def _debug_params(request, page, form) -> dict:
    who = progress.learner(request)
    tried = DebugSubmission.objects.for_learner(who).filter(scenario=page.slug).count()
    params = {"slug": page.slug, "causes": form.cleaned_data["causes"],
              "fix": form.cleaned_data["fix"], "submission": uuid.uuid4().hex,
              "attempt": tried + 1}
    if "user" in who:
        params["user_id"] = who["user"].pk
    else:
        params["anon_id"] = who["anon_id"]
    return params


def _render_debug(request, page, form, result, job=None, reveal=None):
    who = progress.peek_learner(request)
    last = (DebugSubmission.objects.for_learner(who).filter(scenario=page.slug).first()
            if who else None)
    ctx = {"page": page, "segments": _segments(page.body, who), "form": form,
           "result": result, "last": last, "reveal": reveal,
           "job": job if job is not None and not job.finished else None}
    status = 422 if (request.method == "POST" and form.errors and not request.htmx) else 200
    return render(request, _partial(request, "course/debug.html", "answer"), ctx,
                  status=status)


def incident(request):
    """The story; on POST queue a replay of the incident with the learner's own settings.

    The replay (tens of seconds of CPU) runs in the worker (``course.incident_replay``);
    the page shows the job's progress, polling ``?job=<id>`` (a plain link without JS),
    and the result when it is ready.  Bad settings are refused at once, with no job.
    """
    page = content.incident()
    fix_text, result, job = "", None, None
    if request.method == "POST":
        fix_text = request.POST.get("fix", "")
        try:
            parse_fix(fix_text, replay.PRESET)
        except FixError as exc:
            result = {"error": str(exc)}
        else:
            job = submit("course.incident_replay", {"fix": fix_text}, owner=owner_of(request))
            if not request.htmx:
                return redirect(f"{reverse('course:incident')}?job={job.id}#replay")
    elif request.GET.get("job"):
        job = visible_job(request.GET["job"], owner_of(request))
        if job is None:
            raise Http404("no such replay")
    if job is not None:
        fix_text = job.params.get("fix", "")
        if job.status == Job.Status.DONE:
            result = job.result
        elif job.status == Job.Status.FAILED:
            result = {"error": job.error}
    return _render_incident(request, page, fix_text, result, job)


def _render_incident(request, page, fix_text, result, job=None):
    ctx = {"page": page, "segments": _segments(page.body, progress.peek_learner(request)),
           "fix_text": fix_text, "result": result, "replay_s": replay.REPLAY_MS // 1000,
           "job": job if job is not None and not job.finished else None}
    status = 422 if (result and result.get("error") and request.method == "POST"
                     and not request.htmx) else 200
    return render(request, _partial(request, "course/incident.html", "replay"), ctx,
                  status=status)


def export(request):
    """Config export: GET with Kafka properties as the query string (what the lab links
    to), or ``?text=`` holding a properties file. Bad input is a 400 naming the problem."""
    params = request.GET.copy()
    bootstrap = params.pop("bootstrap.servers", ["localhost:9092"])[-1]
    text = params.pop("text", [""])[-1]
    try:
        props = {k: v for k, v in params.items()}
        if text.strip():
            props.update(export_mod.parse_properties(text))
        result = export_mod.export_all(props, bootstrap)
    except export_mod.ExportError as exc:
        return render(request, "course/export.html", {
            "error": str(exc), "text": text or _as_text(params), "bootstrap": bootstrap,
            "differences": export_mod.DIFFERENCES}, status=400)
    # Show what was written (the lab sends its whole effective config; defaults drop out).
    shown = "\n".join(f"{k}={export_mod.plain(v)}" for k, v in result.props.items())
    return render(request, "course/export.html", {
        "result": result, "text": shown, "bootstrap": bootstrap,
        "differences": export_mod.DIFFERENCES})


def _as_text(params) -> str:
    return "\n".join(f"{k}={v}" for k, v in params.items())


def compression_measure(request):
    """Measure the real codecs on the learner's choice of data (htmx partial or page).

    The sample is checked here; the measuring runs in the worker (``course.measure``) and
    the result area polls ``?job=<id>`` until the table is ready.
    """
    job_id = request.GET.get("job")
    if job_id:
        job = visible_job(job_id, owner_of(request))
        if job is None or job.kind != "course.measure":
            raise Http404("no such measurement")
        kind, custom = job.params.get("kind", ""), job.params.get("text", "")
    else:
        kind = request.GET.get("data", "json-orders")
        custom = request.GET.get("text", "")
        try:
            measure.sample(kind, custom)
        except measure.MeasureError as exc:
            if request.htmx:
                return HttpResponse(f'<p class="error">{escape(str(exc))}</p>', status=400)
            return HttpResponseBadRequest(str(exc))
        job = submit("course.measure", {"kind": kind, "text": custom}, owner=owner_of(request))
        if not request.htmx:
            return redirect(f"{reverse('course:compression_measure')}?job={job.id}")
    result = job.result if job.status == Job.Status.DONE else None
    ctx = {"result": result, "kinds": measure.KINDS, "kind": kind, "text": custom,
           "job": None if job.finished else job,
           "job_error": job.error if job.status == Job.Status.FAILED else ""}
    return render(request, _partial(request, "course/compression.html", "table"), ctx)


def signup(request):
    if request.method == "POST":
        form = SignUpForm(request.POST)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("course:home")
    else:
        form = SignUpForm()
    return render(request, "registration/signup.html", {"form": form})
