"""What the course says must be what the engine (or the measurement) shows (issue 11)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from django.template.loader import render_to_string

from courseware.course.services import computed, content, measure


def _q(slug: str) -> dict:
    return next(q for q in content.quiz_questions() if q["slug"] == slug)


def test_the_closed_by_linger_explanation_says_what_the_engine_computed():
    q = _q("quiz-linger-closes")
    reasons = computed.close_reasons(q["params"])
    answer = computed.answer(q["compute"], q["params"])
    total = sum(reasons.values())
    text = q["explanation"]
    assert answer == reasons.get("linger", 0)
    # a batch the explanation says flush() closed must exist in the engine's run
    says_flush_closes = re.search(r"(closes|closed) on `?flush\(\)`?", text) is not None
    assert says_flush_closes == (reasons.get("flush", 0) > 0), (text, reasons)
    # the numbers it quotes are the engine's
    assert f"{total} batches" in text and f"all {int(answer)}" in text, (text, reasons)
    assert "nearly all" not in text or answer < total


def test_on_random_bytes_no_codec_is_highlighted_and_nothing_reads_minus_zero():
    result = measure.run("random")
    codecs = [r for r in result.rows if r["codec"] != "none"]
    assert codecs and all(r["ratio"] > 1 for r in codecs)  # random bytes do not compress
    assert not any(r["best"] for r in result.rows)
    assert result.note and "compression.type=none" in result.note
    for r in result.rows:
        assert not r["saved"].startswith("-"), r
    html = render_to_string("course/compression.html#table",
                            {"result": dataclasses.asdict(result)})
    assert 'class="best"' not in html
    assert "-0%" not in html and "−0%" not in html
    assert "larger" in html and result.note.split(":")[0] in html


def test_on_json_the_best_codec_is_the_smallest_that_beats_none():
    result = measure.run("json-orders")
    best = [r for r in result.rows if r["best"]]
    assert len(best) == 1 and best[0]["codec"] != "none"
    assert best[0]["ratio"] == min(r["ratio"] for r in result.rows) < 1
    assert not result.note


@pytest.mark.parametrize("ratio, text", [
    (1.0, "0%"), (0.5, "50%"), (0.996, "0.4%"), (0.99999, "0.1%"),
    (1.0004, "nothing: slightly larger"), (1.012, "nothing: 1.2% larger"),
])
def test_saved_never_reads_as_a_negative_saving(ratio, text):
    assert measure.saved(ratio) == text
