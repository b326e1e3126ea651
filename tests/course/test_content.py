"""The content files: front matter, checkpoints, embedded presets, rendering, loading."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from courseware.course.models import Lesson, Question
from courseware.course.services import content, render
from courseware.course.services.frontmatter import ContentError, parse
from producer_core import presets
from producer_core.scenario import Scenario


def _all_bodies() -> list[tuple[str, str]]:
    bodies = [(le["source_path"], le["body"]) for le in content.lesson_files()]
    bodies += [(f"mistakes/{p.slug}", p.body) for p in content.mistakes()]
    bodies += [(f"debug/{p.slug}", p.body) for p in content.debug_scenarios()]
    bodies.append(("incident", content.incident().body))
    return bodies


def test_seven_lessons_in_order_with_front_matter():
    lessons = content.lesson_files()
    assert [le["order"] for le in lessons] == [1, 2, 3, 4, 5, 6, 7]
    for le in lessons:
        assert le["title"] and le["summary"], le["slug"]
        assert re.fullmatch(r"[a-z0-9-]+", le["slug"])
        assert len(le["checkpoints"]) >= 2, f"{le['slug']} needs checkpoints"


def test_every_embedded_or_linked_preset_exists_and_is_a_valid_scenario():
    referenced = set()
    for where, body in _all_bodies():
        referenced.update(render.lab_presets(body))
    for p in content.mistakes():
        referenced.update({p.meta["before"], p.meta["after"]})
    for p in content.debug_scenarios():
        referenced.update({p.extra["healthy"], p.extra["degraded"]})
    referenced.update({content.incident().meta["before"], content.incident().meta["after"]})
    referenced.update(q["demo_preset"] for q in content.interview_files())
    referenced.update(q["demo_preset"] for q in content.quiz_questions() if q["demo_preset"])
    missing = sorted(referenced - set(presets.names()))
    assert not missing, f"content refers to presets that do not exist: {missing}"
    for pid in sorted(referenced):
        Scenario.from_dict(presets.load(pid))  # raises ScenarioError naming the problem


def test_our_presets_are_all_used_by_the_content():
    ours = {n for n in presets.names() if n.startswith(("lesson-", "mistake-"))}
    used = set()
    for _, body in _all_bodies():
        used.update(render.lab_presets(body))
    for p in content.mistakes():
        used.update({p.meta["before"], p.meta["after"]})
    for p in content.debug_scenarios():
        used.update({p.extra["healthy"], p.extra["degraded"]})
    used.update(q["demo_preset"] for q in content.interview_files())
    assert ours <= used, f"presets nobody embeds: {sorted(ours - used)}"


def test_lab_block_renders_an_iframe_with_a_fallback_link():
    segs = render.render("Intro text.\n\n```lab preset=lesson-linger height=300\nA caption.\n```\n\nAfter.")
    kinds = [s.kind for s in segs]
    assert kinds == ["html", "lab", "html"]
    assert segs[1].preset == "lesson-linger" and segs[1].height == 300
    assert "caption" in segs[1].caption
    html = render.lab_embed_html("lesson-linger")
    assert 'src="/lab/embed/lesson-linger/"' in html
    assert 'href="/lab/?preset=lesson-linger"' in html


def test_code_is_highlighted_by_pygments_for_each_language():
    for lang, snippet in [("java", "public class A { int x = 1; }"),
                          ("yaml", "spring:\n  kafka:\n    producer: {}"),
                          ("properties", "linger.ms=5"),
                          ("python", "def f():\n    return 1")]:
        html = render.md(f"```{lang}\n{snippet}\n```")
        assert 'class="codehilite"' in html
        assert "<span class=" in html, f"{lang} was not tokenized"


def test_checkpoint_parsing_and_errors():
    cp = render.parse_checkpoint("id: a\nquestion: Q?\n- no\n+ yes\nexplain: because")
    assert cp["choices"] == ["no", "yes"] and cp["answer"] == 1
    num = render.parse_checkpoint("id: b\ntype: numeric\nquestion: How many?\nanswer: 16")
    assert num["answer"] == 16.0
    with pytest.raises(ContentError, match="exactly one"):
        render.parse_checkpoint("id: c\nquestion: Q?\n+ a\n+ b")
    with pytest.raises(ContentError, match="numeric needs answer"):
        render.parse_checkpoint("id: d\ntype: numeric\nquestion: Q?")
    with pytest.raises(ContentError, match="preset"):
        render.render("```lab\n```\n")


def test_front_matter_errors_name_the_file():
    with pytest.raises(ContentError, match="x.md: missing front matter"):
        parse("# no front matter", "x.md")
    with pytest.raises(ContentError, match="x.md:3"):
        parse("---\nslug: a\nbroken line\n---\nbody", "x.md")


def test_stale_facts_are_corrected_where_they_come_up():
    lessons = {le["slug"]: le["body"] for le in content.lesson_files()}
    assert "KIP-1030" in lessons["batching"] and "**5** ms" in lessons["batching"]
    assert "bufferpool-wait-time-ns-total" in lessons["buffer-memory"]
    assert "lower is better" in lessons["compression"].lower()
    assert "```measure" in lessons["compression"]  # codecs measured in the app, not quoted
    assert "appended" in lessons["compression"]     # compression happens while appending


def test_load_courseware_is_idempotent_and_upserts(db):
    call_command("load_courseware", verbosity=0)
    counts = (Lesson.objects.count(), Question.objects.count())
    first_ids = sorted(Question.objects.values_list("pk", flat=True))
    call_command("load_courseware", verbosity=0)
    assert (Lesson.objects.count(), Question.objects.count()) == counts
    assert sorted(Question.objects.values_list("pk", flat=True)) == first_ids
    # An admin edit is replaced by the file's content on the next load.
    lesson = Lesson.objects.get(slug="batching")
    lesson.title = "edited in the admin"
    lesson.save()
    call_command("load_courseware", verbosity=0)
    assert Lesson.objects.get(slug="batching").title != "edited in the admin"
    assert counts[0] == 7
    kinds = set(Question.objects.values_list("kind", flat=True))
    assert kinds == {"choice", "numeric", "computed", "interview"}
