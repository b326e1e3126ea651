"""Every exercise of docs/GRADING.md has its data files and a grader of the right kind."""

from __future__ import annotations

import re

import pytest

from courseware.exercises.graders import GRADERS
from courseware.exercises.graders.base import variant_seed
from tests.exercises.standin import CONTENT

SLUGS = ["batching-benchmark", "compression-comparison", "back-pressure", "metrics-dashboard",
         "health-check"]


def test_the_five_slugs_have_graders() -> None:
    assert sorted(GRADERS) == sorted(SLUGS)
    assert all(g.slug == s for s, g in GRADERS.items())


@pytest.mark.parametrize("slug", SLUGS)
def test_data_files_and_placeholders(slug: str) -> None:
    g = GRADERS[slug]
    ext = "py" if g.kind == "code" else "json"
    d = CONTENT / slug
    for name in ("exercise.md", "explanation.md", f"starter.{ext}", f"reference.{ext}",
                 f"wrong.{ext}"):
        assert (d / name).is_file(), name
    text = (d / "exercise.md").read_text()
    assert text.startswith("---\n") and f"kind: {g.kind}" in text
    variants = [g.variant(variant_seed(f"learner{i}", slug)) for i in range(12)]
    for key in re.findall(r"\{\{\s*variant\.(\w+)\s*\}\}", text):
        assert all(key in v for v in variants), f"{slug}: statement uses variant.{key}"
    variant = variants[0]
    assert "java" in (d / "explanation.md").read_text().lower()
    for name in (f"starter.{ext}", f"reference.{ext}", f"wrong.{ext}"):
        assert g.validate((d / name).read_text(), variant) is None, name
