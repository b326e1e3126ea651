"""``python manage.py open_room [--preset ID] [--lesson SLUG] [--demo NAME] [--config JSON]
[--seed N] [--hours H] [--json]``."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from courseware.rooms import services
from courseware.rooms.scenes import SceneError


class Command(BaseCommand):
    help = ("Open an instructor-led room; prints its code, join, presenter (with the token) "
            "and projector URLs. The running server starts the room on first connection.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--preset", help="preset id (default kafka-defaults)")
        parser.add_argument("--lesson", help="present this lesson's labs and checkpoints")
        parser.add_argument("--demo", help="a demo file under courseware/content/demos/")
        parser.add_argument("--config", help="JSON object of producer config overrides")
        parser.add_argument("--seed", type=int)
        parser.add_argument("--hours", type=float, default=services.ROOM_HOURS,
                            help=f"the code works this long (default {services.ROOM_HOURS})")
        parser.add_argument("--json", action="store_true",
                            help="print one JSON object as the last line")

    def handle(self, *args, **opts) -> None:
        try:
            if not 0 < opts["hours"] <= 24 * 7:
                raise CommandError("--hours is more than 0 and at most a week (168)")
            config = json.loads(opts["config"]) if opts.get("config") else None
            if config is not None and not isinstance(config, dict):
                raise CommandError("--config is a JSON object")
            room, token = services.open_room(preset=opts.get("preset"), config=config,
                                             lesson=opts.get("lesson"), demo=opts.get("demo"),
                                             seed=opts.get("seed"), hours=opts["hours"])
        except (SceneError, services.RoomError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        out = services.urls(room, token)
        if opts["json"]:
            self.stdout.write(json.dumps(out))
        else:
            self.stdout.write(f"Room {room.code} · {room.title}")
            for key in ("follow_url", "projector_url", "presenter_url"):
                self.stdout.write(f"  {key}: {out[key]}")
            self.stdout.write("Keep the presenter URL to yourself: it carries the token.")
