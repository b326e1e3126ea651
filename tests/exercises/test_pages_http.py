"""The learner's exercise pages over HTTP: what they show, and bad input → a specific 4xx.

Grading itself is tested in test_grading.py / the graders' tests and end to end through the
worker in test_browser_exercise.py; here the requests go through Django's full stack.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from courseware.exercises.models import Submission
from courseware.exercises.services import content, replay
from courseware.jobs.models import Job
from courseware.jobs.services import submit as submit_job
from tests.exercises.standin import content as data_file

pytestmark = pytest.mark.django_db

SLUGS = ["batching-benchmark", "compression-comparison", "back-pressure", "metrics-dashboard",
         "health-check"]


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def _learner(client: Client, slug: str = "back-pressure") -> str:
    assert client.get(f"/exercises/{slug}/").status_code == 200
    return "anon:" + client.session["course_anon_id"]


def _numbers(html: str) -> list[tuple[str, str]]:
    table = re.search(r'<table class="variant">(.*?)</table>', html, re.DOTALL).group(1)
    return re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', table)


def _graded(slug: str, learner: str, score: float = 1.0, text: str = "x") -> Submission:
    return Submission.objects.create(
        exercise=slug, learner=learner, text=text, status="graded", attempt=1,
        verdict={"status": "graded", "score": score, "goals": [
            {"name": "g", "passed": score == 1.0, "points": score, "max_points": 1.0,
             "message": "the grader's words"}], "message": "m", "output": "", "replay": None})


# ---- what the pages show ---------------------------------------------------------------

def test_index_and_links_from_home_and_lessons(client):
    call_command("load_courseware", verbosity=0)
    index = client.get("/exercises/").content.decode()
    for slug in SLUGS:
        assert f'href="/exercises/{slug}/"' in index
    assert 'href="/exercises/"' in client.get("/").content.decode()
    assert 'href="/exercises/batching-benchmark/"' in client.get("/lessons/batching/").content.decode()
    assert 'href="/exercises/back-pressure/"' in \
        client.get("/lessons/buffer-memory/").content.decode()
    for ex in content.all_exercises():  # every lesson an exercise names exists
        for lesson in ex.lessons:
            assert client.get(f"/lessons/{lesson}/").status_code == 200, (ex.slug, lesson)


@pytest.mark.parametrize("slug", SLUGS)
def test_page_shows_statement_numbers_goals_hints_and_editor(client, slug):
    ex = content.get(slug)
    html = client.get(f"/exercises/{slug}/").content.decode()
    assert "{{" not in html  # every placeholder filled with the learner's own number
    numbers = dict(_numbers(html))
    assert "sim_seed" in numbers
    for g in ex.goals:
        if not g.get("only"):
            assert f"<code>{g['name']}</code>" in html
    assert html.count("<summary>Show hint") == len(ex.hints) > 0
    assert f'data-lang="{ex.lang}"' in html and 'name="text"' in html
    assert 'enctype="multipart/form-data"' in html and 'name="upload"' in html
    assert "<article" not in html.split('id="explanation"')[1]  # not before solving
    if ex.kind == "code":
        assert 'href="/exercises/api/"' in html
    assert ex.starter.splitlines()[0].replace('"', "&quot;") in html
    download = client.get(f"/exercises/{slug}/starter/")
    assert download.status_code == 200 and download.content.decode() == ex.starter
    assert f'href="/exercises/{slug}/starter/"' in html


def test_variants_differ_between_learners_and_are_stable(client):
    other = Client()
    mine = [_numbers(client.get(f"/exercises/{s}/").content.decode()) for s in SLUGS]
    again = [_numbers(client.get(f"/exercises/{s}/").content.decode()) for s in SLUGS]
    theirs = [_numbers(other.get(f"/exercises/{s}/").content.decode()) for s in SLUGS]
    assert mine == again
    assert mine != theirs


def test_explanation_with_java_after_solving_and_attempts(client):
    learner = _learner(client, "health-check")
    _graded("health-check", learner, 0.5)
    html = client.get("/exercises/health-check/").content.decode()
    assert "<article" not in html.split('id="explanation"')[1]
    assert "<strong>1</strong> attempt" in html and "0.50" in html
    Submission.objects.create(exercise="health-check", learner=learner, text="x",
                              status="invalid", verdict={"status": "invalid", "score": 0,
                                                         "goals": [], "message": "bad"})
    _graded("health-check", learner, 1.0)
    html = client.get("/exercises/health-check/").content.decode()
    assert "<strong>2</strong> attempts" in html  # invalid is not an attempt
    assert "✓ solved" in html
    assert "HealthIndicator" in html.split('id="explanation"')[1]


def test_learner_api_page(client):
    html = client.get("/exercises/api/").content.decode()
    assert "run_scenario" in html and "<h1" in html


# ---- submit, run, sweep ----------------------------------------------------------------

def test_submit_saves_then_queues_a_job_the_page_can_poll(client):
    response = client.post("/exercises/back-pressure/submit/",
                           {"text": data_file("back-pressure", "reference.py")})
    assert response.status_code == 302
    sub = Submission.objects.get()
    assert sub.status == "queued" and sub.learner.startswith("anon:")
    assert response["Location"].endswith(f"?submission={sub.pk}#result")
    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert "queued" in page and f"?submission={sub.pk}" in page and 'hx-trigger="every 1s"' in page
    status = client.get(f"/jobs/{sub.job_id}/")
    assert status.status_code == 200 and status.json()["kind"] == "grade"
    # htmx asks for the partial only
    part = client.get(f"/exercises/back-pressure/?submission={sub.pk}", HTTP_HX_REQUEST="true")
    assert part.content.decode().lstrip().startswith('<section id="result"')


def test_graded_result_shows_goals_score_and_replay(client):
    learner = _learner(client, "health-check")
    sub = _graded("health-check", learner, 0.5)
    html = client.get(f"/exercises/health-check/?submission={sub.pk}").content.decode()
    assert "the grader&#x27;s words" in html and "0.50" in html
    assert f'href="/lab/?replay={sub.pk}"' in html


def test_upload_is_used_instead_of_the_editor(client):
    code = data_file("health-check", "reference.py").encode()
    response = client.post("/exercises/health-check/submit/", {
        "text": "ignored", "upload": SimpleUploadedFile("mine.py", code)})
    assert response.status_code == 302
    assert Submission.objects.get().text == code.decode()


def test_run_against_the_sample_queues_a_job_not_an_attempt(client):
    response = client.post("/exercises/compression-comparison/run/",
                           {"text": '{"compression.type": "lz4"}'}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    job = Job.objects.get(kind="exercises.sample_run")
    assert job.params["slug"] == "compression-comparison"
    assert not Submission.objects.exists()
    assert f"?run={job.id}" in response.content.decode()


def test_sample_run_and_sweep_jobs_compute_real_numbers():
    from courseware.exercises.services import sampling

    result = sampling.sample_run("compression-comparison", "anon:t", '{"compression.type": "lz4"}')
    assert result["numbers"]["records_per_s"] > 0 and 0 < result["numbers"]["ratio"] < 1
    steps = []
    table = sampling.sweep("compression-comparison", "anon:t", lambda f, t: steps.append(t))
    assert [r["codec"] for r in table["rows"]] == ["none", "gzip", "snappy", "lz4", "zstd"]
    assert len(steps) == 5 and table["rows"][0]["ratio"] > table["rows"][4]["ratio"]


def test_csv_export_of_a_finished_comparison(client):
    learner = _learner(client, "compression-comparison")
    job = Job.objects.create(kind="exercises.sweep", owner=_owner(client), status="done",
                             params={"slug": "compression-comparison", "learner": learner},
                             result={"kind": "codecs", "rows": [
                                 {"codec": "lz4", "ratio": 0.41, "cpu_us": 1.2,
                                  "records_per_s": 15000.04, "avg_latency_ms": 3.21}]})
    response = client.get(f"/exercises/compression-comparison/table.csv?sweep={job.id}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    header = "codec,compression_ratio,producer_cpu_us_per_record,records_per_s,avg_latency_ms"
    assert lines == [header, "lz4,0.41,1.2,15000.0,3.21"]


def _owner(client: Client) -> str:
    import hashlib

    from django.conf import settings

    key = client.session.session_key
    return "session:" + hashlib.sha256(f"{settings.SECRET_KEY}:{key}".encode()).hexdigest()[:40]


# ---- bad input: 4xx with a specific message, never 500 ------------------------------------

BIG = "x" * (64 * 1024 + 1)


@pytest.mark.parametrize("url, data, status, message", [
    ("/exercises/back-pressure/submit/", {}, 400, "Write your answer in the editor"),
    ("/exercises/back-pressure/submit/", {"text": "   \n"}, 400, "is empty"),
    ("/exercises/back-pressure/submit/", {"text": "a\x00b"}, 400, "NUL bytes"),
    ("/exercises/back-pressure/submit/", {"text": BIG}, 413, "longer than 64 KB"),
    ("/exercises/back-pressure/run/", {"text": "def f(:\n"}, 422, "Syntax error on line 1"),
    ("/exercises/back-pressure/run/", {"text": "x = 1\n"}, 422, "Define a class Controller"),
    ("/exercises/health-check/run/", {"text": "x = 1\n"}, 422, "check_health"),
    ("/exercises/compression-comparison/run/", {"text": "{nope"}, 422, "Not valid JSON"),
    ("/exercises/compression-comparison/run/", {"text": "[1]"}, 422, "JSON object"),
    ("/exercises/compression-comparison/run/", {"text": '{"linger.ms": -1}'}, 422,
     "linger.ms"),
])
def test_bad_forms(client, url, data, status, message):
    response = client.post(url, data)
    assert response.status_code == status, response.content[:300]
    assert message in response.content.decode()
    assert not Submission.objects.exists() and not Job.objects.exists()


@pytest.mark.parametrize("name, body, status, message", [
    ("solution.exe", b"print(1)", 415, "Upload a .py file"),
    ("solution.py", b"\xff\xfe\x00\x01", 400, "not UTF-8"),
    ("solution.py", b"x" * (64 * 1024 + 1), 413, "the limit is 64 KB"),
    ("solution.py", b"", 400, "is empty"),
])
def test_bad_uploads(client, name, body, status, message):
    response = client.post("/exercises/metrics-dashboard/submit/",
                           {"upload": SimpleUploadedFile(name, body)})
    assert response.status_code == status, response.content[:300]
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert not Submission.objects.exists()


def test_a_huge_body_is_refused_before_parsing(client):
    body = b"x" * (300 * 1024)
    response = client.post("/exercises/metrics-dashboard/submit/",
                           {"upload": SimpleUploadedFile("big.py", body)})
    assert response.status_code == 413 and "too large" in response.content.decode()


def test_too_many_pending_submissions_is_429(client):
    learner = _learner(client)
    for _ in range(3):
        Submission.objects.create(exercise="back-pressure", learner=learner, text="x")
    response = client.post("/exercises/back-pressure/submit/", {"text": "class Controller: pass"})
    assert response.status_code == 429
    assert "waiting to be graded" in response.content.decode()


def test_htmx_errors_come_back_as_the_partial_with_the_status(client):
    response = client.post("/exercises/back-pressure/run/", {"text": "def f(:"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    body = response.content.decode().lstrip()
    assert body.startswith('<section id="run"') and "Syntax error" in body


@pytest.mark.parametrize("method, url, status, message", [
    ("get", "/exercises/nope/", 404, "no exercise called &#x27;nope&#x27;"),
    ("post", "/exercises/nope/submit/", 404, "no exercise called"),
    ("get", "/exercises/back-pressure/submit/", 405, ""),
    ("get", "/exercises/back-pressure/?submission=abc", 404, "No such submission"),
    ("get", "/exercises/back-pressure/?submission=99999999999999999999999", 404,
     "No such submission"),
    ("get", f"/exercises/back-pressure/?run={uuid.uuid4()}", 404, "No such run"),
    ("get", "/exercises/back-pressure/?run=not-a-uuid", 404, "No such run"),
    ("get", "/exercises/batching-benchmark/?sweep=1", 404, "No such run"),
    ("post", "/exercises/back-pressure/sweep/", 404, "no sweep to run"),
    ("get", "/exercises/compression-comparison/table.csv", 400, "?sweep="),
    ("get", f"/exercises/compression-comparison/table.csv?sweep={uuid.uuid4()}", 404,
     "No such run"),
    ("get", "/exercises/back-pressure/table.csv", 404, "Only the compression"),
    ("get", "/lab/?replay=abc", 404, "No graded submission"),
    ("get", "/lab/?replay=12345", 404, "No graded submission"),
])
def test_bad_urls(client, method, url, status, message):
    response = getattr(client, method)(url)
    assert response.status_code == status, response.content[:300]
    assert message in response.content.decode()


def test_someone_elses_submission_job_and_replay_are_404(client):
    theirs = _graded("health-check", "anon:someone-else")
    job = submit_job("exercises.sweep", {"slug": "compression-comparison", "learner": "x"},
                     owner="session:someone-else")
    assert client.get(f"/exercises/health-check/?submission={theirs.pk}").status_code == 404
    assert client.get(f"/lab/?replay={theirs.pk}").status_code == 404
    assert client.get(f"/exercises/compression-comparison/?sweep={job.id}").status_code == 404
    assert client.get(
        f"/exercises/compression-comparison/table.csv?sweep={job.id}").status_code == 404


def test_an_unfinished_comparison_is_409(client):
    learner = _learner(client, "compression-comparison")
    job = Job.objects.create(kind="exercises.sweep", owner=_owner(client),
                             params={"slug": "compression-comparison", "learner": learner})
    response = client.get(f"/exercises/compression-comparison/table.csv?sweep={job.id}")
    assert response.status_code == 409 and "not finished" in response.content.decode()


def test_queued_submission_has_no_replay_yet(client):
    learner = _learner(client)
    sub = Submission.objects.create(exercise="back-pressure", learner=learner, text="x")
    assert client.get(f"/lab/?replay={sub.pk}").status_code == 404


# ---- replay ------------------------------------------------------------------------------

def test_lab_replay_page_puts_the_scenario_in_the_session_not_the_url(client):
    learner = _learner(client, "health-check")
    sub = _graded("health-check", learner)
    response = client.get(f"/lab/?replay={sub.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-ws="/ws/lab/main/?replay=1"' in html and 'id="replay-note"' in html
    stored = client.session["lab_replay"]
    assert stored["submission"] == sub.pk and stored["scenario"]["workload"]


def test_an_instructor_may_replay_anyones_run():
    sub = _graded("health-check", "anon:a-learner")
    teacher = User.objects.create_user("teacher", password="pw-teacher-1")
    teacher.groups.add(Group.objects.get_or_create(name="instructors")[0])
    c = Client()
    c.force_login(teacher)
    assert c.get(f"/lab/?replay={sub.pk}").status_code == 200
    stranger = User.objects.create_user("stranger", password="pw-stranger-1")
    c.force_login(stranger)
    assert c.get(f"/lab/?replay={sub.pk}").status_code == 404


@pytest.mark.parametrize("slug", SLUGS)
def test_replay_scenario_builds_and_seeks_to_the_moment(slug):
    from courseware.lab.consumers import replay_session

    text = data_file(slug, "reference.json" if slug == "compression-comparison" else
                     "reference.py")
    sub = _graded(slug, "anon:replayer", text=text)
    sub.verdict["replay"] = {"preset": None, "config": {"batch.size": 65536, "linger.ms": 5},
                             "seed": 1, "at_ms": 0}
    data = replay.for_submission(sub)
    assert json.loads(json.dumps(data)) == data  # JSON-safe: it lives in the session
    session = replay_session("test.main", data, max_rate=100_000)
    assert session.now_ms == data["at_ms"] > 0
    assert session.paused and session.seed == data["seed"]
    state = json.loads(session.full_frame())["state"]
    assert state["lab"]["notice"] == data["note"]
    assert state["now_ms"] == data["at_ms"]
    session.close()


def test_too_many_sample_runs_is_429(client):
    for _ in range(3):
        assert client.post("/exercises/compression-comparison/run/",
                           {"text": '{"compression.type": "lz4"}'}).status_code == 302
    response = client.post("/exercises/compression-comparison/run/",
                           {"text": '{"compression.type": "lz4"}'})
    assert response.status_code == 429 and "waiting or running" in response.content.decode()


def test_replay_of_a_dashboard_carries_its_live_readings_as_escaped_data(client):
    # A real graded run (the trusted grader, the program through the test stand-in) whose
    # dashboard reports markup: the lab page carries it as JSON data, never as HTML.
    from dataclasses import asdict

    from courseware.exercises import graders
    from tests.exercises.standin import grade

    learner = _learner(client, "metrics-dashboard")
    g = graders.get("metrics-dashboard")
    v = g.variant(graders.variant_seed(learner, "metrics-dashboard"))
    text = data_file("metrics-dashboard", "reference.py").replace(
        '"batch_size_avg": self.last_metrics.get("batch-size-avg", 0.0),',
        '"batch_size_avg": "<img src=x onerror=alert(1)>",')
    verdict, _ = grade(g, text, v)
    sub = Submission.objects.create(exercise="metrics-dashboard", learner=learner, text=text,
                                    status="graded", attempt=1, verdict=asdict(verdict))
    html = client.get(f"/lab/?replay={sub.pk}").content.decode()
    assert 'id="your-dashboard"' in html and 'id="your-dashboard-data"' in html
    assert "js/lab-dashboard.js" in html
    assert "<img" not in html and "\\u003Cimg src=x onerror=alert(1)\\u003E" in html
    data = json.loads(re.search(r'id="your-dashboard-data" type="application/json">(.*?)'
                                r'</script>', html, re.DOTALL).group(1))
    assert len(data["readings"]) == 20 and data["tolerances"]["latency_ms"]["rel"] == 0.15
    row = next(r for r in data["readings"][5]["rows"] if r["figure"] == "batch_size_avg")
    assert row["ok"] is False and row["engine"] > 0
    assert "dashboard" not in client.session["lab_replay"]  # the socket gets the run only
    # another exercise's replay has no such panel
    other = _graded("health-check", _learner(client, "health-check"))
    assert 'id="your-dashboard"' not in client.get(f"/lab/?replay={other.pk}").content.decode()
