"""A room's simulation on the event loop: the lab's ``LabRunner`` plus a command log.

The room runs under the lab registry like any lab (``courseware.lab.registry``): one owner
process holds the Redis lease and publishes frames to ``lab.<lab id>``; consumers on every
process join that group and send commands to ``labctl.<lab id>``.  What a room adds:

* every command its session applies is recorded with the instant it was applied at
  (``courseware.rooms.replay.Entry``) and saved before the command's ``ack`` leaves;
* the clock's position is saved every few seconds and when the runner stops, so a process
  that starts the room later (a restart) rebuilds it where it was;
* room messages (``{"type": "room", ...}``: follower count, scene, poll) go to the same
  frames group, encoded once;
* ``room.forkpoint`` answers with the log and the instant, for a follower's fork.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer

from courseware.lab.commands import Command
from courseware.lab.pacing import wall_ms
from courseware.lab.registry import LabRunner, frames_group, registry
from courseware.rooms import relay
from courseware.rooms.replay import Entry, point, rebuild

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_MS = 2000
ROOM_FRAME_SHARE = 0.8
META_EVERY_S = 0.1  # room messages to everyone: at most this often (the newest state)


class RoomRunner(LabRunner):
    """The room's one authoritative simulation, in the process that owns it.

    It uses the lab runner's public hooks (``courseware.lab``): ``apply`` records every
    command and saves it before the ``ack`` leaves, ``publish`` sends each frame once to the
    room's frames group (whose members are one relay per process), ``handle`` answers the
    room's own messages.
    """

    def __init__(self, session, room_pk: int, entries: list[Entry]) -> None:
        super().__init__(registry, session)
        self.room_pk = room_pk
        self.entries = list(entries)
        self.roles: dict[str, str] = {}
        self.meta: dict = {}
        self._checkpoint_ms = wall_ms()
        self._checkpointing = False
        self._checkpoint_task: asyncio.Task | None = None
        # a room's frames are what hundreds of people watch: they may take most of the
        # loop before they slow down; the engine slows first (its effective speed shows)
        self.frame_share = ROOM_FRAME_SHARE
        self._saved: asyncio.Task | None = None  # the last command's database write
        self._replies: set[asyncio.Task] = set()
        self._meta_sent = float("-inf")  # loop time of the last room message to everyone
        self._meta_later: asyncio.Task | None = None

    # ---- the log in the database ------------------------------------------------------

    async def apply(self, cmd: Command) -> dict:
        """Apply and record; the database write runs behind (in order), so the next
        command and the frame showing this one do not wait for it — its ``ack`` does."""
        at = point(self.session)
        result = await self.apply_to_session(cmd)  # raises on refusal: nothing recorded
        entry = Entry(at[0], at[1], cmd.type, dict(cmd.args))
        index = len(self.entries)
        self.entries.append(entry)
        self._saved = self.loop.create_task(self._save(self._saved, index, entry))
        return result

    async def _save(self, before: asyncio.Task | None, index: int, entry: Entry) -> None:
        if before is not None:
            await asyncio.wait([before])  # the log is written in order
        try:
            await _save_entries(self.room_pk, [(index, entry)])
        except Exception:
            log.exception("room %s: command log not saved", self.lab_id)

    async def reply(self, channel: str | None, reply: dict, tag=None) -> None:
        """The ack says "applied and saved": it leaves once the log is written this far,
        from a task of its own so the room's next message is not held up."""
        saved = self._saved
        if saved is None or saved.done():
            await super().reply(channel, reply, tag)
            return

        async def after_save() -> None:
            await asyncio.wait([saved])
            await super(RoomRunner, self).reply(channel, reply, tag)

        task = self.loop.create_task(after_save())
        self._replies.add(task)
        task.add_done_callback(self._replies.discard)

    async def checkpoint(self) -> None:
        self._checkpoint_ms = wall_ms()
        t_ms, steps = point(self.session)
        try:
            await _save_checkpoint(self.room_pk, t_ms, steps)
        except Exception:  # noqa: BLE001 - the next checkpoint tries again
            log.warning("room %s: checkpoint not saved", self.lab_id)
        finally:
            self._checkpointing = False

    async def stop(self) -> None:
        if not self.stopped:
            if self._saved is not None:
                await asyncio.wait([self._saved])  # the whole log is written
            await self.checkpoint()
        if self._meta_later is not None:
            self._meta_later.cancel()
        await super().stop()

    async def publish(self, message: dict) -> None:
        """To this process's followers through its relay, and once to the room's frames
        group for the other processes, whose members are one relay per process
        (``courseware.rooms.relay``): each hands the same encoded frame to its followers."""
        here = relay.local(self.lab_id)
        if here is not None:
            # this process's followers first, directly, and their sockets' cost counts as
            # the frame's: an overloaded room slows its engine (its effective speed shows),
            # not its frames (courseware.lab.registry, LabRunner._advance)
            t0 = time.thread_time()
            await here.fan_out(message["text"])
            self.frame_cost_s += 0.2 * (time.thread_time() - t0)
            message = {**message, "skip": here.channel}
        if here is None or not isinstance(self.layer, InMemoryChannelLayer):
            try:  # the other processes' relays
                await self.layer.group_send(frames_group(self.lab_id), message)
            except Exception:
                log.exception("room %s: frame not sent", self.lab_id)
        if not self._checkpointing and wall_ms() - self._checkpoint_ms > CHECKPOINT_EVERY_MS:
            self._checkpointing = True  # off the frame path: a database write
            self._checkpoint_task = self.loop.create_task(self.checkpoint())

    # ---- room messages ------------------------------------------------------------------

    async def handle(self, message: dict) -> None:
        kind = message.get("type")
        reply_to = message.get("reply_to")
        if kind == "lab.attach":
            self.roles[reply_to] = message.get("role", "follower")
            await super().handle(message)
            await self.send(reply_to, {"type": "lab.frame", "text": self._meta_text()})
            await self._publish_meta()
        elif kind == "lab.detach":
            self.roles.pop(reply_to, None)
            await super().handle(message)
            await self._publish_meta()
        elif kind == "room.update":
            self.meta.update(message.get("meta") or {})
            await self._publish_meta()
        elif kind == "room.forkpoint":
            t_ms, steps = point(self.session)
            await self.send(reply_to, {
                "type": "room.forkpoint", "t_ms": t_ms, "steps": steps,
                "paused": self.session.paused, "speed": self.session.pacer.speed,
                "entries": [e.as_dict() for e in self.entries], "ref": message.get("ref")})
        else:
            await super().handle(message)

    async def attach_local(self, channel: str, role: str) -> tuple[str, str]:
        """A consumer of this process attaches without a trip through the channel layer:
        what ``handle`` does for ``lab.attach``, but the full frame and the room message
        are returned, not sent.  With Redis every process-specific channel of a process
        shares one queue, read one message at a time: a class joining the owner's process
        at once queued ~80 KB full frames there for seconds (room_bench, 150 of them)."""
        self.viewers[channel] = wall_ms()
        self._wake.set()  # a room nobody watched sleeps: it moves on at once
        self.roles[channel] = role
        full, meta = self.session.full_frame(), self._meta_text()
        await self._publish_meta()
        return full, meta

    def _meta_text(self) -> str:
        followers = sum(1 for ch in self.viewers if self.roles.get(ch) == "follower")
        return json.dumps({"type": "room", **self.meta, "followers": followers},
                          separators=(",", ":"), default=str)

    async def _publish_meta(self) -> None:
        """The room message to everyone, at most every ``META_EVERY_S``: a class joining
        (or answering a poll) at once would otherwise send one to every follower per
        follower — 300 joins, 90,000 writes.  The one that leaves carries the newest state
        (count, scene, poll); a follower that attaches gets its own at once (``handle``)."""
        if self._meta_later is not None:
            return  # one is due soon and will say this too
        wait = self._meta_sent + META_EVERY_S - self.loop.time()
        if wait <= 0:
            await self._send_meta()
            return

        async def later() -> None:
            try:
                await asyncio.sleep(wait)
            finally:
                self._meta_later = None
            await self._send_meta()

        self._meta_later = self.loop.create_task(later())

    async def _send_meta(self) -> None:
        self._meta_sent = self.loop.time()
        message = {"type": "lab.frame", "text": self._meta_text()}
        try:
            await self.layer.group_send(frames_group(self.lab_id), message)
        except Exception:  # noqa: BLE001 - the next change publishes again
            log.warning("room %s: room message not sent", self.lab_id)


@database_sync_to_async
def _save_entries(room_pk: int, pending: list[tuple[int, Entry]]) -> None:
    from courseware.rooms.models import RoomCommand

    RoomCommand.objects.bulk_create([
        RoomCommand(room_id=room_pk, index=i, t_ms=e.t_ms, steps=e.steps, type=e.type,
                    args=e.args) for i, e in pending], ignore_conflicts=True)


@database_sync_to_async
def _save_checkpoint(room_pk: int, t_ms: int, steps: int) -> None:
    from courseware.rooms.models import Room

    Room.objects.filter(pk=room_pk, checkpoint_steps__lte=steps).update(
        checkpoint_ms=t_ms, checkpoint_steps=steps)


@database_sync_to_async
def load_entries(room_pk: int) -> list[Entry]:
    from courseware.rooms.models import RoomCommand

    return [Entry(c.t_ms, c.steps, c.type, c.args)
            for c in RoomCommand.objects.filter(room_id=room_pk).order_by("index")]


_locks: dict[tuple[int, str], asyncio.Lock] = {}


async def ensure_room(room) -> RoomRunner | None:
    """The local runner of ``room``, rebuilt from its log if nobody runs it; None when
    another process owns it (talk to it through the channel layer)."""
    lab_id = room.lab_id
    loop = asyncio.get_running_loop()
    lock = _locks.setdefault((id(loop), lab_id), asyncio.Lock())
    async with lock:
        runner = registry.get(lab_id)
        if runner is not None:
            return runner  # type: ignore[return-value]
        if not await registry.claim(lab_id):
            return None
        entries = await load_entries(room.pk)
        until = (room.checkpoint_ms, room.checkpoint_steps)
        if entries and (entries[-1].steps, entries[-1].t_ms) > (until[1], until[0]):
            until = (entries[-1].t_ms, entries[-1].steps)
        session = await asyncio.to_thread(rebuild, lab_id, room.preset, room.seed,
                                          entries, until)
        runner = RoomRunner(session, room.pk, entries)
        await runner.start()
        registry.adopt(lab_id, runner)
        return runner


async def adopt_lab(lab_id: str, session) -> None:
    """Make ``session`` the lab ``lab_id`` of this process (a follower's fork becomes their
    own lab): the old one, if it runs here, stops.  Raises RuntimeError when the lab is
    owned by another process."""
    old = registry.get(lab_id)
    if old is not None:
        registry.labs.pop(lab_id, None)
        await old.stop()
    if not await registry.claim(lab_id):
        raise RuntimeError("your own lab is running in another server process")
    runner = LabRunner(registry, session)
    await runner.start()
    registry.adopt(lab_id, runner)
