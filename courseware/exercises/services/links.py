"""Links into the lab for a submission — one helper for every page that shows them (the
learner's exercise page, the gradebook's submission detail and CSV).

The replay link names the submission, never a config: ``/lab/?replay=<id>`` is resolved
server-side from the stored verdict (docs/GRADING.md), for the learner who handed it in and
for instructors.
"""

from __future__ import annotations

from django.urls import reverse


def replay_url(submission) -> str | None:
    """The lab URL that replays ``submission``'s graded run; None until it is graded (an
    invalid or crashed submission ran nothing worth replaying)."""
    if submission.status != "graded" or submission.pk is None:
        return None
    return f"{reverse('lab:lab')}?replay={submission.pk}"
