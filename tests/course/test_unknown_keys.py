"""Issue 11: a learner's fix with a key Kafka does not know runs as Kafka would run it (the
key ignored) and the verdict warns, instead of refusing the fix."""

from __future__ import annotations

import pytest

from courseware.course.services import content, debugging

pytestmark = pytest.mark.django_db


def test_debug_this_grades_a_misspelled_fix_and_warns():
    page = content.debug_scenarios()[0]
    cause = page.extra["causes"][0]["id"]
    g = debugging.grade(page, [cause], "linger.msec=50")
    assert not g.error
    assert g.warnings == ["Kafka would ignore `linger.msec` — did you mean `linger.ms`?"]
    assert debugging.grade(page, [cause], "linger.ms=50").warnings == []
