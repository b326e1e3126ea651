"""Lesson embeds start at a speed where their concept is visible (issue 7): the ``speed=`` of a
``lab`` block reaches the embedded lab's socket, and the lessons about single batches use it."""

from __future__ import annotations

import re

import pytest

from courseware.course.services.frontmatter import ContentError
from courseware.course.services.render import render
from courseware.lab.session import SPEED_STEPS


def test_a_lab_block_speed_must_be_one_of_the_labs_speeds():
    seg = next(s for s in render("```lab preset=lesson-flow speed=0.05\n```\n") if s.kind == "lab")
    assert seg.speed == 0.05 and 0.05 in SPEED_STEPS
    with pytest.raises(ContentError, match="speed must be one of"):
        render("```lab preset=lesson-flow speed=0.07\n```\n")


@pytest.mark.django_db
def test_the_embed_speed_travels_from_the_lesson_to_the_labs_socket(client):
    from django.core.management import call_command

    call_command("load_courseware", verbosity=0)
    page = client.get("/lessons/architecture/").content.decode()
    src = re.search(r'<iframe src="(/lab/embed/lesson-flow/[^"]*)"', page).group(1)
    assert src == "/lab/embed/lesson-flow/?speed=0.05"
    embed = client.get(src).content.decode()
    assert 'data-ws="/ws/lab/embed-lesson-flow/?speed=0.05"' in embed
    # a speed off the ladder is ignored: the lab starts at its default
    assert 'data-ws="/ws/lab/embed-lesson-flow/"' in \
        client.get("/lab/embed/lesson-flow/?speed=1e999").content.decode()


@pytest.mark.parametrize("lesson, preset", [("01-architecture", "lesson-flow"),
                                            ("02-batching", "lesson-linger"),
                                            ("02-batching", "lesson-full-batches")])
def test_lessons_about_single_batches_start_slow_enough_to_follow_one(lesson, preset):
    """Their batches live tens of ms (linger.ms 20, or 25 ms to fill): at 1× the timeline's
    window scrolls past in a fraction of a second; at ≤ 0.05× one batch takes ≥ 0.5 s."""
    from pathlib import Path

    from producer_core import presets

    text = (Path(__file__).resolve().parents[2] / "courseware" / "content" / "lessons"
            / f"{lesson}.md").read_text()
    seg = next(s for s in render(text) if s.kind == "lab" and s.preset == preset)
    linger = presets.load(preset).get("config", {}).get("linger.ms", 5)
    assert seg.speed is not None and linger / seg.speed >= 400
