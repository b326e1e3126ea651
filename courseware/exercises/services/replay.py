"""The "replay my run" link of a graded submission — one helper for every page that shows it
(the learner's exercise page, the gradebook's submission detail).

The link names the submission, never a config: ``/lab/?replay=<id>`` is resolved server-side
(docs/GRADING.md). When the verdict's replay names a preset the lab knows, ``preset=`` comes
first, so the lab already opens on the right scenario while it honours only ``?preset=``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse


def replay_url(submission) -> str | None:
    """The lab URL that replays ``submission``'s graded run, or None when it has none."""
    verdict = submission.verdict or {}
    replay = verdict.get("replay")
    if submission.status != "graded" or not isinstance(replay, dict):
        return None
    query: dict[str, object] = {}
    preset = replay.get("preset")
    if isinstance(preset, str) and preset:
        from producer_core import presets

        if preset in presets.names():
            query["preset"] = preset
    query["replay"] = submission.pk
    return f"{reverse('lab:lab')}?{urlencode(query)}"
