"""The gradebook: who may see it, its numbers against really graded submissions, its CSV
files and a submission's detail page."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import pytest
from django.urls import reverse

from courseware.exercises import graders
from courseware.exercises.models import Submission
from courseware.gradebook import services
from courseware.sandbox import Limits, SandboxJob
from tests.gradebook.conftest import CONFIG, cpu_learner, graded

pytestmark = [pytest.mark.django_db]

INVALID = '{"compression.type": "brotli"}'


def _urls(pk: int = 1) -> list[str]:
    return [reverse("gradebook:table"), reverse("gradebook:table_csv"),
            reverse("gradebook:submissions"), reverse("gradebook:submissions_csv"),
            reverse("gradebook:detail", args=[pk])]


def _rows(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


# ---- who may see it ------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in(client, reference):
    pk, _ = graded(CONFIG, "ada", reference)
    for url in _urls(pk):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_learners_get_403_not_500(client, learner_user, reference):
    pk, _ = graded(CONFIG, "ada", reference)
    client.force_login(learner_user)
    for url in _urls(pk):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b"for instructors" in response.content
        assert b"ada" not in response.content


def test_instructors_see_every_page(client, instructor, reference):
    pk, _ = graded(CONFIG, "ada", reference)
    client.force_login(instructor)
    for url in _urls(pk):
        assert client.get(url).status_code == 200, url


def test_sign_in_page_leads_back_to_the_gradebook(client, instructor):
    target = reverse("gradebook:table")
    page = client.get(reverse("login") + "?next=" + target)
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post(reverse("login"), {"username": "teacher",
                                              "password": "teach-pass-1", "next": target})
    assert response.status_code == 302 and response["Location"] == target
    assert client.get(target).status_code == 200


def test_course_home_links_the_gradebook_for_instructors_only(client, instructor, learner_user):
    link = reverse("gradebook:table").encode()
    assert link not in client.get("/").content
    client.force_login(learner_user)
    assert link not in client.get("/").content
    client.force_login(instructor)
    assert link in client.get("/").content


def test_bad_filters_are_404_with_the_reason(client, instructor):
    client.force_login(instructor)
    response = client.get(reverse("gradebook:table") + "?exercise=no-such-exercise")
    assert response.status_code == 404
    assert client.get(reverse("gradebook:submissions") + "?status=won").status_code == 404
    assert client.get(reverse("gradebook:detail", args=[99999])).status_code == 404


# ---- the numbers ---------------------------------------------------------------------------

@pytest.fixture
def history(reference, wrong) -> dict:
    """Learner A: wrong, reference, invalid, wrong (partial credit on the busy-CPU variant);
    learner B: the reference once. Every one graded by the real service."""
    a, b = cpu_learner("amy"), cpu_learner("ben")
    subs = {"a_wrong1": graded(CONFIG, a, wrong), "a_ref": graded(CONFIG, a, reference),
            "a_invalid": graded(CONFIG, a, INVALID), "a_wrong2": graded(CONFIG, a, wrong),
            "b_ref": graded(CONFIG, b, reference)}
    return {"a": a, "b": b, "subs": subs}


def test_history_is_what_the_table_is_checked_against(history):
    v = {k: verdict for k, (_, verdict) in history["subs"].items()}
    assert v["a_invalid"]["status"] == "invalid"
    assert 0 < v["a_wrong1"]["score"] < 1 and v["a_ref"]["score"] == 1.0


def test_cells_count_attempts_best_and_latest(history):
    subs = history["subs"]
    book = services.gradebook()
    assert book.learners == sorted([history["a"], history["b"]], key=str.lower)
    assert book.exercises == list(graders.GRADERS)
    a = book.cell(history["a"], CONFIG)
    scores = [subs[k][1]["score"] for k in ("a_wrong1", "a_ref", "a_wrong2")]
    assert (a.attempts, a.invalid, a.pending) == (3, 1, 0)
    assert a.best == max(scores) and a.latest == subs["a_wrong2"][1]["score"]
    assert a.latest_id == subs["a_wrong2"][0]
    b = book.cell(history["b"], CONFIG)
    assert (b.attempts, b.best, b.latest) == (1, 1.0, 1.0)
    assert book.cell(history["a"], "health-check").empty


def test_the_page_shows_the_numbers(client, instructor, history):
    client.force_login(instructor)
    html = client.get(reverse("gradebook:table")).content.decode()
    latest = round(history["subs"]["a_wrong2"][1]["score"] * 100)
    cell = html.split(f'data-learner="{history["a"]}" data-exercise="{CONFIG}"')[1]
    cell = cell.split("</td>")[0]
    assert 'data-attempts="3"' in cell and "100 %" in cell and f"{latest} %" in cell
    assert "1 invalid" in cell
    assert reverse("gradebook:detail", args=[history["subs"]["a_wrong2"][0]]) in cell


def test_anonymous_learners_come_last_with_a_short_label(client, instructor, reference):
    anon = "anon:" + "ab12cd" + "0" * 26  # exercise-ui's name for an anonymous browser
    for who in (anon, "zoe", "Amy"):
        graded(CONFIG, who, reference)
    assert services.gradebook().learners == ["Amy", "zoe", anon]
    client.force_login(instructor)
    html = client.get(reverse("gradebook:table")).content.decode()
    assert f'title="{anon}">anonymous ab12cd</a>' in html


def test_a_pending_submission_is_shown_but_not_counted(client, instructor, reference):
    from courseware.exercises.services.grading import submit

    submit(CONFIG, "cid", reference, queue=False)  # saved, not graded yet
    cell = services.gradebook().cell("cid", CONFIG)
    assert (cell.attempts, cell.pending, cell.best) == (0, 1, None)
    client.force_login(instructor)
    assert "1 grading…" in client.get(reverse("gradebook:table")).content.decode()


# ---- CSV -----------------------------------------------------------------------------------

def test_table_csv_has_a_row_per_learner_and_exercise(client, instructor, history):
    client.force_login(instructor)
    rows = _rows(client.get(reverse("gradebook:table_csv")))
    assert len(rows) == 2 * len(graders.GRADERS)
    assert list(rows[0]) == ["learner", "exercise", "attempts", "best_score", "latest_score",
                             "latest_status", "invalid", "pending", "last_submitted",
                             "latest_submission_id"]
    by = {(r["learner"], r["exercise"]): r for r in rows}
    a = by[(history["a"], CONFIG)]
    latest = history["subs"]["a_wrong2"][1]["score"]
    assert (a["attempts"], a["best_score"], a["latest_score"], a["invalid"]) == \
        ("3", "1.0000", f"{latest:.4f}", "1")
    assert a["latest_submission_id"] == str(history["subs"]["a_wrong2"][0])
    untouched = by[(history["b"], "back-pressure")]
    assert (untouched["attempts"], untouched["best_score"]) == ("0", "")


def test_submissions_csv_has_one_row_per_submission(client, instructor, history):
    client.force_login(instructor)
    rows = _rows(client.get(reverse("gradebook:submissions_csv")))
    assert len(rows) == len(history["subs"])
    by = {int(r["id"]): r for r in rows}
    invalid = by[history["subs"]["a_invalid"][0]]
    assert (invalid["status"], invalid["attempt"], invalid["score"]) == ("invalid", "", "")
    assert "brotli" in invalid["message"]
    second = by[history["subs"]["a_ref"][0]]
    assert (second["status"], second["attempt"], second["score"]) == ("graded", "2", "1.0000")
    assert second["goals_passed"] == second["goals_total"] == "3"  # rate, latency, cpu
    assert second["replay_url"].endswith(f"/lab/?replay={history['subs']['a_ref'][0]}")
    assert int(second["grading_ms"]) >= 0
    only_b = _rows(client.get(reverse("gradebook:submissions_csv") + f"?learner={history['b']}"))
    assert [r["learner"] for r in only_b] == [history["b"]]


def test_csv_cells_that_look_like_formulas_stay_text(client, instructor, reference):
    graded(CONFIG, '=HYPERLINK("http://x","y")', reference)
    client.force_login(instructor)
    for url in (reverse("gradebook:table_csv"), reverse("gradebook:submissions_csv")):
        learners = {r["learner"] for r in _rows(client.get(url))}
        assert learners == {'\'=HYPERLINK("http://x","y")'}


# ---- a submission's detail -----------------------------------------------------------------

HARNESS = ("import json, solution\n"
           "print('checking', solution.answer())\n"
           "json.dump({'answer': solution.answer()}, open('result.json', 'w'))\n")


@dataclass
class NumberGrader:
    """A tiny code exercise: answer() must return 42; scored outside the sandbox."""

    slug: str = "test-number"
    kind: str = "code"

    def variant(self, seed: int) -> dict:
        return {}

    def validate(self, text: str, variant: dict) -> str | None:
        return None if "def answer" in text else "Define answer()."

    def sandbox_job(self, text: str, variant: dict) -> SandboxJob:
        return SandboxJob(files={"solution.py": text, "harness.py": HARNESS},
                          argv=["python3", "harness.py"], limits=Limits(cpu_s=3, wall_s=10))

    def score(self, text, variant, run) -> dict:
        claim = json.loads(run.outputs.get("result.json", "{}")).get("answer")
        ok = claim == 42
        return {"status": "graded", "message": "Right." if ok else "Not 42 yet.",
                "goals": [{"name": "forty-two", "passed": ok, "points": float(ok),
                           "max_points": 1.0, "message": f"answer() returned {claim!r}"},
                          {"name": "shape", "passed": True, "points": 1.0, "max_points": 1.0,
                           "message": "answer() is a function"}]}


@pytest.fixture
def number_grader():
    graders.EXTRA["test-number"] = NumberGrader()
    yield
    graders.EXTRA.pop("test-number")


CODE = ("def answer():\n"
        "    # </pre><script>alert('x')</script>\n"
        "    return 41\n")


def test_detail_shows_code_goals_message_timing_and_replay(client, instructor, number_grader):
    pk, verdict = graded("test-number", "ada", CODE)
    assert verdict["status"] == "graded" and verdict["score"] == 0.5
    client.force_login(instructor)
    html = client.get(reverse("gradebook:detail", args=[pk])).content.decode()
    assert '<div class="codehilite">' in html and '<span class="k">def</span>' in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "forty-two" in html and "answer() returned 41" in html and "✗ not yet" in html
    assert "Not 42 yet." in html and "50 %" in html
    assert "checking 41" in html  # the program's output
    assert "graded in" in html and "sandbox" in html
    assert f'href="/lab/?replay={pk}"' in html
    sub = Submission.objects.get(pk=pk)
    assert sub.verdict["timing"]["sandbox_ms"] > 0


def test_detail_of_a_config_and_of_an_invalid_submission(client, instructor, reference):
    ok, _ = graded(CONFIG, "ada", reference)
    bad, _ = graded(CONFIG, "ada", INVALID)
    client.force_login(instructor)
    html = client.get(reverse("gradebook:detail", args=[ok])).content.decode()
    assert "Submitted settings" in html and "compression.type" in html
    assert f"/lab/?replay={ok}" in html
    html = client.get(reverse("gradebook:detail", args=[bad])).content.decode()
    assert "not counted (invalid)" in html and "brotli" in html
    assert "/lab/?replay=" not in html  # nothing was run, nothing to replay
    assert f'href="{reverse("gradebook:detail", args=[ok])}" rel="prev"' in html
