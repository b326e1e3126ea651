"""Exercises and submissions in the Django admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from courseware.exercises import graders
from courseware.exercises.models import Exercise
from tests.gradebook.conftest import CONFIG, graded

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def admin_client_(client):
    client.force_login(User.objects.create_superuser("root", password="root-pass-1"))
    return client


def test_the_exercises_are_listed_from_the_repo(admin_client_, reference):
    graded(CONFIG, "ada", reference)
    graded(CONFIG, "bob", '{"compression.type": "brotli"}')
    html = admin_client_.get(reverse("admin:exercises_exercise_changelist")).content.decode()
    assert sorted(Exercise.objects.values_list("slug", flat=True)) == sorted(graders.GRADERS)
    assert "Compare the codecs and choose one" in html and "back-pressure" in html
    row = html.split("Compare the codecs and choose one")[1].split("</tr>")[0]
    assert ">2</a>" in row  # two submissions, linked to the submission list
    assert '<td class="field-learners">2</td>' in row
    assert '<td class="field-graded_full">1</td>' in row
    ex = Exercise.objects.get(slug=CONFIG)
    assert (ex.kind, ex.par, ex.lessons) == ("config", 1, "compression")
    assert ex.source_path.endswith("compression-comparison/exercise.md")


def test_submissions_list_with_scores_and_filters(admin_client_, reference):
    pk, verdict = graded(CONFIG, "ada", reference)
    url = reverse("admin:exercises_submission_changelist")
    html = admin_client_.get(url + f"?exercise={CONFIG}&status=graded").content.decode()
    assert f"{round(verdict['score'] * 100)} %" in html
    assert reverse("gradebook:detail", args=[pk]) in html
    assert admin_client_.get(url + "?status=invalid").content.decode().count("ada") == 0
    assert admin_client_.get(reverse("admin:exercises_submission_change",
                                     args=[pk])).status_code == 200
