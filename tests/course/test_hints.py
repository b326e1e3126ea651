"""A wrong answer gets a hint first; the answer after a second wrong try or on request."""

from __future__ import annotations

import pytest

from courseware.course.models import Answer, Question
from courseware.course.services import checking, computed, content, debugging


def _verdict(body: str) -> str:
    return body.split('class="verdict"', 1)[1].split('<form class="reveal-form"', 1)[0]


def _post(client, slug, **data):
    r = client.post(f"/questions/{slug}/answer/", data, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    return r.content.decode()


def test_a_wrong_choice_gets_a_hint_then_the_answer(client, course):
    q = Question.objects.get(slug="arch-thread")
    right = q.choices[q.answer]
    wrong = next(i for i in range(len(q.choices)) if i != q.answer)
    body = _post(client, q.slug, answer=str(wrong))
    assert "Not quite." in body and "Hint:" in body
    verdict = _verdict(body)
    assert "the answer is" not in verdict and "Sender thread" not in verdict  # not given away
    assert 'class="explain"' not in body
    assert "Show the answer" in body
    body = _post(client, q.slug, answer=str(wrong))  # second wrong try: now the answer
    assert "the answer is" in _verdict(body) and "Sender thread" in _verdict(body)
    assert 'class="explain"' in body
    assert Answer.objects.get(question=q).wrong_attempts == 2
    assert right  # the answer the page showed is the question's own


def test_the_answer_on_request_after_one_wrong_try(client, course):
    q = Question.objects.get(slug="arch-sent")
    wrong = next(i for i in range(len(q.choices)) if i != q.answer)
    assert "Hint:" in _post(client, q.slug, answer=str(wrong))
    body = _post(client, q.slug, action="reveal")
    assert "answer is" in _verdict(body) and "in a batch in the accumulator" in _verdict(body)
    assert 'class="explain"' in body


def test_a_wrong_number_is_told_which_way_to_go(client, course):
    q = Question.objects.get(slug="quiz-linger-closes")
    want = computed.answer(q.compute, q.params)
    body = _post(client, q.slug, answer=f"{want / 4:g}")
    assert "Hint:" in body and "larger than" in body and f"{want:g}" not in body
    body = _post(client, q.slug, answer=f"{want * 4:g}")
    assert f"the answer is {want:g}" in body


def test_a_right_answer_shows_the_explanation_at_once(client, course):
    q = Question.objects.get(slug="arch-thread")
    body = _post(client, q.slug, answer=str(q.answer))
    assert "Correct." in body and 'class="explain"' in body and "Hint:" not in body


def test_hint_never_contains_the_expected_value():
    q = Question(kind=Question.Kind.NUMERIC, slug="x", prompt="?", answer=16, tolerance=0)
    text = checking.hint(q, "12", "12")
    assert "larger" in text and "16" not in text


@pytest.fixture(scope="module")
def page():
    return content.find(content.debug_scenarios(), "throughput-drop")


def test_a_first_wrong_debug_attempt_hints_at_the_missed_causes(page):
    contributing = [c for c in page.extra["causes"] if c.get("correct") == "contributing"]
    first = debugging.grade(page, ["batch-size"], "linger.ms=10", attempt=1)
    text = " ".join(first.feedback)
    assert "Hint:" in text
    for c in contributing:
        assert c["text"] not in text, c["id"]
    second = debugging.grade(page, ["batch-size"], "linger.ms=10", attempt=2)
    text = " ".join(second.feedback)
    for c in contributing:
        assert c["text"] in text, c["id"]


def test_the_causes_on_request(client, course, page):
    r = client.post("/debug/throughput-drop/", {"action": "reveal"}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert r.status_code == 200 and "Main cause:" in body
    body = body.split("causes-revealed", 1)[1]
    for c in page.extra["causes"]:
        assert (c["text"] in body) == bool(c.get("correct")), c["id"]


def test_the_debug_view_counts_attempts_into_the_job(client, course):
    from courseware.jobs.models import Job

    client.post("/debug/throughput-drop/", {"causes": ["batch-size"], "fix": "linger.ms=10"},
                HTTP_HX_REQUEST="true")
    assert Job.objects.get().params["attempt"] == 1
