"""A room: one authoritative simulation that a presenter steers and followers watch.

The room's state is its seed plus its command log (``RoomCommand``, with the virtual time and
the engine's step count at which each command was applied), so any process can rebuild the
simulation exactly (``courseware.rooms.replay``).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class Room(models.Model):
    code = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64, help_text="sha256 of the presenter token")
    title = models.CharField(max_length=200, blank=True)
    preset = models.CharField(max_length=100)
    seed = models.BigIntegerField(default=42)
    lesson_slug = models.CharField(max_length=100, blank=True)
    scenes = models.JSONField(default=list, blank=True)
    scene_index = models.IntegerField(default=-1)
    poll = models.JSONField(null=True, blank=True, help_text="the open poll, if any")
    # where the room's clock last was (a restart replays the log up to here)
    checkpoint_ms = models.BigIntegerField(default=0)
    checkpoint_steps = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"room {self.code}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and self.expires_at > timezone.now()

    @property
    def lab_id(self) -> str:
        """The id its simulation runs under in the lab registry (groups, leases)."""
        return f"room-{self.code}.room"


class RoomCommand(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="commands")
    index = models.PositiveIntegerField()
    t_ms = models.BigIntegerField(help_text="virtual time the command was applied at")
    steps = models.BigIntegerField(help_text="engine scheduler steps run before it")
    type = models.CharField(max_length=20)
    args = models.JSONField(default=dict)

    class Meta:
        ordering: ClassVar = ["room", "index"]
        constraints: ClassVar = [models.UniqueConstraint(fields=["room", "index"],
                                               name="room_command_once")]


class PollAnswer(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="answers")
    poll_key = models.CharField(max_length=120)
    follower = models.CharField(max_length=64, help_text="hash of the follower's session")
    choice = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint(fields=["room", "poll_key", "follower"],
                                               name="poll_answer_once")]
