"""Fixtures for the course tests: the courseware loaded into the test database."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.fixture
def course(db):
    """The courseware from the repo, loaded as `make run` loads it."""
    call_command("load_courseware", verbosity=0)
    from courseware.course.models import Lesson

    return list(Lesson.objects.all())
