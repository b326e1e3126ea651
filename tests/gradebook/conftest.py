"""Gradebook fixtures: an instructor, a learner, and submissions graded by the real service."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from courseware.exercises import graders
from courseware.exercises.services.grading import grade_submission, submit
from tests.exercises.standin import content

CONFIG = "compression-comparison"


@pytest.fixture
def instructor(db):
    user = User.objects.create_user("teacher", password="teach-pass-1")
    user.groups.add(Group.objects.get(name="instructors"))
    return user


@pytest.fixture
def learner_user(db):
    return User.objects.create_user("pupil", password="pupil-pass-1")


def cpu_learner(prefix: str) -> str:
    """A learner whose compression-comparison variant is the busy-CPU one: there the
    article's "wrong" settings (gzip) miss the CPU goal and score partially."""
    grader = graders.get(CONFIG)
    for i in range(200):
        name = f"{prefix}{i}"
        if grader.variant(graders.variant_seed(name, CONFIG))["constraint"] == "cpu":
            return name
    raise AssertionError("no busy-CPU variant among 200 learners")


def graded(slug: str, learner: str, text: str) -> tuple[int, dict]:
    """Save and grade one submission through the service the worker's job calls."""
    sub = submit(slug, learner, text, queue=False)
    return sub.pk, grade_submission(sub.pk)


@pytest.fixture
def reference() -> str:
    return content(CONFIG, "reference.json")


@pytest.fixture
def wrong() -> str:
    return content(CONFIG, "wrong.json")
