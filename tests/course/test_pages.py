"""Pages, checkpoints, interview answers, progress and sign-in merging."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from courseware.course.models import Answer, Lesson, LessonProgress, Question


def test_home_lists_every_lesson_and_section(client, course):
    body = client.get("/").content.decode()
    for lesson in course:
        assert f'href="/lessons/{lesson.slug}/"' in body
    for href in ("/incident/", "/mistakes/", "/debug/", "/interview/", "/quiz/", "/export/",
                 "/compression/measure/", "/lab/"):
        assert f'href="{href}"' in body


def test_every_lesson_renders_with_title_embeds_checkpoints_and_pager(client, course):
    for i, lesson in enumerate(course):
        r = client.get(f"/lessons/{lesson.slug}/")
        assert r.status_code == 200
        body = r.content.decode()
        assert f"<h1>{lesson.title}</h1>" in body.replace("&#x27;", "'").replace("&amp;", "&") \
            or lesson.title.split(" —")[0] in body
        assert '<iframe src="/lab/embed/' in body, f"{lesson.slug} embeds no lab"
        assert 'href="/lab/?preset=' in body  # the fallback link
        for q in lesson.questions.all():
            assert f'id="q-{q.slug}"' in body
        if i > 0:
            assert f'href="/lessons/{course[i - 1].slug}/"' in body
        if i + 1 < len(course):
            assert f'href="/lessons/{course[i + 1].slug}/"' in body


def test_unknown_lesson_is_404(client, course):
    assert client.get("/lessons/no-such-lesson/").status_code == 404


def _choice(q: Question, correct: bool) -> str:
    return str(q.answer if correct else (q.answer + 1) % len(q.choices))


def test_checkpoint_htmx_returns_the_partial_with_the_verdict(client, course):
    q = Question.objects.filter(kind="choice", lesson__slug="batching").first()
    r = client.post(f"/questions/{q.slug}/answer/", {"answer": _choice(q, False)},
                    HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith("<div class=\"question is-wrong\"")
    assert "Not quite" in body and "<html" not in body
    r = client.post(f"/questions/{q.slug}/answer/", {"answer": _choice(q, True)},
                    HTTP_HX_REQUEST="true")
    assert "is-correct" in r.content.decode() and "Correct." in r.content.decode()
    assert Answer.objects.get(question=q).correct is True


def test_checkpoint_without_js_redirects_back_and_shows_the_verdict(client, course):
    q = Question.objects.filter(kind="numeric", lesson__slug="batching").first()
    r = client.post(f"/questions/{q.slug}/answer/", {"answer": "16"})
    assert r.status_code == 302 and r["Location"] == f"/lessons/batching/#q-{q.slug}"
    body = client.get("/lessons/batching/").content.decode()
    block = body[body.index(f'id="q-{q.slug}"'):]
    assert "Correct." in block[:4000]


def test_unreadable_answer_is_a_clear_error_and_is_kept(client, course):
    q = Question.objects.filter(kind="numeric").first()
    r = client.post(f"/questions/{q.slug}/answer/", {"answer": "lots"}, HTTP_HX_REQUEST="true")
    assert "is not a number" in r.content.decode()
    assert Answer.objects.get(question=q).text == "lots"


def test_progress_for_an_anonymous_visitor(client, course):
    client.get("/lessons/architecture/")
    r = client.post("/lessons/architecture/complete/", {"done": "1"})
    assert r.status_code == 302 and r["Location"] == "/lessons/batching/"
    client.get(r["Location"])
    home = client.get("/").content.decode()
    assert "1 of 7 lessons done" in home
    assert re.search(r'<li class="done">\s*<a href="/lessons/architecture/"', home)
    assert re.search(r'<li class="started">\s*<a href="/lessons/batching/"', home)
    # Undo via htmx returns the partial only.
    r = client.post("/lessons/architecture/complete/", {"done": "0"}, HTTP_HX_REQUEST="true")
    assert "Mark lesson as done" in r.content.decode() and "<html" not in r.content.decode()
    assert "0 of 7 lessons done" in client.get("/").content.decode()


def test_two_visitors_do_not_share_progress(client, course):
    from django.test import Client

    client.post("/lessons/architecture/complete/", {"done": "1"})
    other = Client()
    assert "0 of 7 lessons done" in other.get("/").content.decode()


def test_progress_and_answers_merge_into_the_account_on_sign_in(client, course):
    User.objects.create_user("ada", password="correct-horse-9")
    mine = User.objects.get(username="ada")
    # Already signed-in progress elsewhere: lesson 2 done, lesson 1 only visited.
    LessonProgress.objects.create(user=mine, lesson=Lesson.objects.get(slug="architecture"))
    client.post("/lessons/architecture/complete/", {"done": "1"})
    client.post("/lessons/compression/complete/", {"done": "1"})
    q = Question.objects.filter(kind="choice").first()
    client.post(f"/questions/{q.slug}/answer/", {"answer": str(q.answer)})
    r = client.post("/accounts/login/", {"username": "ada", "password": "correct-horse-9"})
    assert r.status_code == 302
    rows = {p.lesson.slug: p for p in LessonProgress.objects.filter(user=mine)}
    assert rows["architecture"].completed and rows["compression"].completed
    assert not LessonProgress.objects.filter(user=None).exists()
    assert Answer.objects.get(user=mine, question=q).correct is True
    assert "2 of 7 lessons done" in client.get("/").content.decode()


def test_sign_up_keeps_what_the_visitor_did(client, course):
    client.post("/lessons/buffer-memory/complete/", {"done": "1"})
    r = client.post("/signup/", {"username": "grace", "password1": "a-long-pass-42",
                                 "password2": "a-long-pass-42"})
    assert r.status_code == 302
    grace = User.objects.get(username="grace")
    assert LessonProgress.objects.get(user=grace, lesson__slug="buffer-memory").completed
    r = client.post("/signup/", {"username": "x", "password1": "a", "password2": "b"})
    assert r.status_code == 200 and "error" in r.content.decode()


def test_interview_answer_is_saved_before_the_model_answer_is_revealed(client, course):
    q = Question.objects.filter(kind="interview").first()
    url = f"/interview/{q.slug}/"
    body = client.get(url).content.decode()
    assert "Our model answer" not in body
    assert f'href="/lab/?preset={q.demo_preset}"' in body
    r = client.post(url, {"action": "reveal", "answer": ""})
    assert r.status_code == 422 and "Write your own answer first" in r.content.decode()
    client.post(url, {"action": "save", "answer": "Batches per partition, linger, size."})
    assert Answer.objects.get(question=q).text.startswith("Batches per partition")
    assert "Our model answer" not in client.get(url).content.decode()
    client.post(url, {"action": "reveal", "answer": ""})
    body = client.get(url).content.decode()
    assert "Our model answer" in body and "Check yourself" in body
    assert "Batches per partition" in body  # their own answer is still there
    for item in q.rubric[:2]:
        assert item.split()[0] in body


def test_measure_page_compresses_the_chosen_data(client, db):
    from courseware.jobs.models import Job
    from courseware.jobs.tasks import run_job

    r = client.get("/compression/measure/", {"data": "json-orders"})
    assert r.status_code == 302 and "?job=" in r["Location"]
    job = Job.objects.get()
    assert job.kind == "course.measure" and job.status == "queued"
    body = client.get(r["Location"]).content.decode()
    assert "Queued" in body and "hx-trigger" in body
    run_job.func(str(job.id))  # what the worker does with the queued task
    body = client.get(r["Location"]).content.decode()
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        assert f"<th>{codec}</th>" in body
    assert "hx-trigger" not in body
    r = client.get("/compression/measure/", {"data": "custom", "text": "abc " * 500},
                   HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in r.content.decode()
    assert "Queued" in r.content.decode()
    r = client.get("/compression/measure/", {"data": "custom", "text": "   "})
    assert r.status_code == 400
    r = client.get("/compression/measure/", {"data": "mp3"})
    assert r.status_code == 400 and b"unknown data kind" in r.content
    assert Job.objects.count() == 2  # refused samples make no job
    assert client.get("/compression/measure/?job=not-a-uuid").status_code == 404


@pytest.mark.parametrize("url", ["/incident/", "/mistakes/", "/debug/", "/interview/", "/quiz/"])
def test_story_pages_render(client, course, url):
    assert client.get(url).status_code == 200


def test_admin_lists_courseware(client, course):
    User.objects.create_superuser("root", "r@example.org", "pw-123456")
    client.login(username="root", password="pw-123456")
    assert client.get("/admin/course/lesson/").status_code == 200
    lesson = Lesson.objects.get(slug="batching")
    assert client.get(f"/admin/course/lesson/{lesson.pk}/change/").status_code == 200
    assert client.get("/admin/course/question/").status_code == 200
