"""Where labs live: the per-process registry, its caps, and how a lab is driven and reached.

Ownership (see docs/PROTOCOL.md, "Several daphne processes"):

* A lab is *owned* by the process whose consumer created it; it runs only there.  The
  owner's ``LabRunner`` listens on its own channel, added to the control group
  ``labctl.<lab id>``, and publishes frames to the group ``lab.<lab id>``.
* Every consumer — in the owner process or any other sharing ``channels_redis`` — joins
  ``lab.<lab id>`` for frames and sends its commands to ``labctl.<lab id>``.  Replies
  (acks, errors, full frames) come back to the consumer's own channel.
* Before creating a lab a process claims it with a lease on the shared Redis
  (``LabRegistry.claim``): exactly one process wins; the others only talk to it.

Caps: at most ``LAB_MAX_SESSIONS`` labs per process (the one hard cap), at most
``LAB_MAX_LABS_PER_SESSION`` per browser session and ``LAB_MAX_LABS_PER_IP`` per client
address (past those, that session's or address's own longest-unwatched lab makes room; only
when all of them are watched is the new one refused, with a message naming the cause), and at
most ``LAB_MAX_RATE`` records/s per lab; idle labs (no viewer for ``LAB_IDLE_SECONDS``) are
reaped.  There is no cap on the process's total records/s: every lab a page embeds starts,
and when the process is busy the watched labs share its CPU in equal slices (measured in
thread CPU time) and run slower, each showing its ``effective_speed``/``behind``.

Bounded work per message: a lab applies its commands one at a time from a short queue
(``MAX_QUEUED_COMMANDS``; past it the command is answered ``overloaded``); a command that
builds a new simulation (``reset``, ``preset``, ``workload``, a new lab) builds it in the
registry's small thread pool (``LAB_BUILD_THREADS``), never on the event loop, and while
``LAB_MAX_PENDING_BUILDS`` builds wait, a restart is answered ``overloaded`` at once.  Every
command gets exactly one ``ack`` or ``error``; the consumer adds its own ``overloaded`` answer
for a command the lab never answered (a channel layer drops messages for a full channel).
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from courseware import collector
from courseware.lab.commands import Command, CommandError
from courseware.lab.pacing import wall_ms
from courseware.lab.session import LabSession

log = logging.getLogger(__name__)

SLICE_MS = 4.0  # CPU per engine slice before yielding to the event loop
VIEWER_TIMEOUT_MS = 90_000  # a viewer that sent nothing for this long is gone
FRAME_CPU_SHARE = 0.5  # at most this share of the event loop goes to building frames
MAX_QUEUED_COMMANDS = 16  # commands waiting for one lab; past it: "overloaded"
REBUILDS = frozenset({"reset", "preset", "workload"})


PROCESS_TOKEN = uuid.uuid4().hex  # names this process in ownership leases
LEASE_S = 30
FULL_COLLECT_EVERY_S = 30.0  # the reaper's full collections after stops, while labs are watched
UNWATCHED_WAKE_S = 2.0  # an unwatched lab's tick sleeps this long at most (well under LEASE_S)


def _lease_connection():
    """The shared channel layer's Redis client, or None for a one-process layer."""
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer) or not hasattr(layer, "connection"):
        return None
    return layer.connection(0)


def _lease_key(lab_id: str) -> str:
    return f"{getattr(get_channel_layer(), 'prefix', '')}labowner:{lab_id}"


def frames_group(lab_id: str) -> str:
    return f"lab.{lab_id}"


def control_group(lab_id: str) -> str:
    return f"labctl.{lab_id}"


def _setting(name: str, default):
    return getattr(settings, name, default)


def release_memory() -> None:
    """glibc's ``malloc_trim(0)``: give the pages of freed memory back to the system (a
    no-op where the C library is not glibc)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class CapacityError(Exception):
    """The process runs as many labs (or records/s) as it may; the message is for people."""


def capacity_message(max_labs: int) -> str:
    """The one refusal a lab can meet: the number of labs, never their records/s."""
    return (f"This server is running {max_labs} live labs, its limit; close a lab tab or "
            f"try again in a minute.")


def session_capacity_message(max_labs: int) -> str:
    return (f"This browser already watches {max_labs} live labs (tabs and embedded labs), "
            f"the most one browser may run on this server; close a tab with a lab and this "
            f"one starts by itself.")


def address_capacity_message(max_labs: int) -> str:
    return (f"{max_labs} live labs are already being watched from your network address, the "
            f"most one address may run on this server; close some lab tabs (or ask the "
            f"instructor to raise LAB_MAX_LABS_PER_IP).")


def overloaded(ref, message: str) -> str:
    return json.dumps({"type": "error", "ref": ref, "code": "overloaded", "message": message})


class LabRunner:
    """Drives one LabSession on the event loop and speaks for it on the channel layer."""

    def __init__(self, registry: LabRegistry, session: LabSession, *,
                 address: str | None = None) -> None:
        self.registry = registry
        self.session = session
        self.lab_id = session.lab_id
        self.owner = self.lab_id.rsplit(".", 1)[0]  # the session's part of the lab id
        self.address = address
        self._queue: asyncio.Queue = asyncio.Queue()
        self.layer = get_channel_layer()
        self.loop = asyncio.get_running_loop()
        self.viewers: dict[str, float] = {}
        self.last_viewer_ms = wall_ms()
        self.channel: str | None = None
        self.stopped = False
        self._wake = asyncio.Event()
        self._frame_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self.frames_sent = 0
        self.frame_cost_s = 0.002  # smoothed CPU time of one frame (state, delta, send)
        self.frame_share = FRAME_CPU_SHARE  # of the event loop, before frames slow down
        self._last_frame_ms: float | None = None
        self._lease_renewed_ms = wall_ms()

    async def start(self) -> None:
        # the default prefix: channels_redis serves every process-specific channel from one
        # queue per prefix, so a custom prefix would starve the consumers in this process
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(control_group(self.lab_id), self.channel)
        self._tasks = [
            self.loop.create_task(self._listen(), name=f"lab-listen-{self.lab_id}"),
            self.loop.create_task(self._tick(), name=f"lab-tick-{self.lab_id}"),
            self.loop.create_task(self._run_commands(), name=f"lab-commands-{self.lab_id}"),
        ]

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001,S110 - stopping anyway
                pass
        try:
            connection = _lease_connection()
            if connection is not None:
                await connection.delete(_lease_key(self.lab_id))
            await self.layer.group_discard(control_group(self.lab_id), self.channel)
        except Exception:  # noqa: BLE001,S110 - the layer may already be gone at shutdown
            pass
        self.session.close()
        self.registry.labs_stopped += 1

    # ---- the channel side --------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            try:
                await self.handle(message)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad message must not kill the lab
                log.exception("lab %s: message %r failed", self.lab_id, message.get("type"))

    async def handle(self, message: dict) -> None:
        """One message from the control group.  Cheap messages are handled here and now;
        commands wait in the lab's queue (``_run_commands``), so this loop never blocks and
        the lab's channel never fills up behind a slow command."""
        kind = message.get("type")
        reply_to = message.get("reply_to")
        if kind == "lab.attach":
            self.viewers[reply_to] = wall_ms()
            self._wake.set()  # a sleeping unwatched lab moves on at once
            if message.get("preset") and message["preset"] != self.session.preset_id:
                # the preset switch is built off the loop; its full frame follows it
                await self._enqueue(reply_to, Command("preset", {"id": message["preset"]}),
                                    None, attach=True)
            else:
                await self._send(reply_to, {"type": "lab.frame",
                                            "text": self.session.full_frame()})
        elif kind == "lab.detach":
            self.viewers.pop(reply_to, None)
            if not self.viewers:
                self.last_viewer_ms = wall_ms()
        elif kind == "lab.keepalive":
            await self._seen(reply_to)
        elif kind == "lab.command":
            raw = message.get("cmd") or {}
            cmd = Command(raw.get("type", ""), raw.get("args") or {}, raw.get("ref"))
            await self._seen(reply_to)
            if cmd.type == "resync":
                await self._send(reply_to, {"type": "lab.frame", "tag": message.get("tag"),
                                            "text": _with_ref(self.session.full_frame(),
                                                              cmd.ref)})
            else:
                await self._enqueue(reply_to, cmd, message.get("tag"))

    async def _enqueue(self, reply_to: str | None, cmd: Command, tag, *,
                       attach: bool = False) -> None:
        if self._queue.qsize() >= MAX_QUEUED_COMMANDS and not attach:
            await self._reply(reply_to, tag, overloaded(
                cmd.ref, f"this lab is still applying {self._queue.qsize()} earlier commands; "
                         f"this {cmd.type} was ignored — try again in a moment"))
            return
        self._queue.put_nowait((reply_to, cmd, tag, attach))

    async def _run_commands(self) -> None:
        """Apply queued commands in order, building new simulations off the event loop."""
        while True:
            reply_to, cmd, tag, attach = await self._queue.get()
            try:
                if cmd.type in REBUILDS:
                    if self.registry.builds_pending >= self.registry.max_pending_builds \
                            and not attach:
                        await self._reply(reply_to, tag, overloaded(
                            cmd.ref, f"the server is building {self.registry.builds_pending} "
                                     f"labs right now; this {cmd.type} was ignored — try "
                                     f"again in a few seconds"))
                        continue
                    await self.registry.build(self.session.prepare, cmd)
                await self._command(reply_to, cmd, tag=tag, frame_now=not attach,
                                    quiet=attach)
                if attach:
                    await self._send(reply_to, {"type": "lab.frame",
                                                "text": self.session.full_frame()})
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad command must not stop the lab's queue
                log.exception("lab %s: command %s failed", self.lab_id, cmd.type)

    async def _seen(self, reply_to: str | None) -> None:
        """Any message re-registers its viewer (issue 8): one dropped after a silence gets a
        full frame, so it resyncs instead of waiting for deltas it cannot apply."""
        if not reply_to:
            return
        known = reply_to in self.viewers
        self.viewers[reply_to] = wall_ms()
        if not known:
            self._wake.set()
            await self._send(reply_to, {"type": "lab.frame", "text": self.session.full_frame()})

    async def _command(self, reply_to: str | None, cmd: Command, *, tag=None,
                       frame_now: bool = True, quiet: bool = False) -> None:
        try:
            result = await self.apply(cmd)
            reply = {"type": "ack", "ref": cmd.ref, "cmd": cmd.type, "result": result}
        except CommandError as exc:
            reply = {"type": "error", "ref": cmd.ref, "code": exc.code, "message": exc.message}
        except CapacityError as exc:
            reply = {"type": "error", "ref": cmd.ref, "code": "capacity", "message": str(exc)}
        except Exception as exc:  # an engine bug: say so, keep the lab alive
            log.exception("lab %s: command %s failed", self.lab_id, cmd.type)
            reply = {"type": "error", "ref": cmd.ref, "code": "internal",
                     "message": f"the lab could not apply {cmd.type}: {type(exc).__name__}"}
        if not quiet or reply["type"] == "error":
            await self.reply(reply_to, reply, tag)
        # The frame that shows the change leaves now, not after the next tick's engine
        # slices: with many labs each await is a whole round of the event loop.
        if frame_now and self.viewers and not self.stopped:
            await self._frame(wall_ms())
        self._wake.set()  # and the engine moves on at once (resume, step)

    async def apply(self, cmd: Command) -> dict:
        """Apply one command to the session (a hook: a room also records it, and saves it
        before the ``ack`` leaves).  Raises CommandError on refusal."""
        return await self.apply_to_session(cmd)

    async def apply_to_session(self, cmd: Command) -> dict:
        """``session.apply(cmd)``, but a ``step`` runs in slices of ``SLICE_MS`` of CPU with
        a turn of the event loop between them (issue 8: a 1,000-event step held the loop up
        to ~100 ms, and other learners' frames waited).  This lab's own frames wait for the
        whole step (the frame lock), so they never show it half done."""
        applying = self.session.applying(cmd, SLICE_MS)
        try:
            next(applying)
        except StopIteration as done:
            return done.value
        async with self._frame_lock:
            while True:
                await asyncio.sleep(0)
                try:
                    next(applying)
                except StopIteration as done:
                    return done.value

    async def reply(self, channel: str | None, reply: dict, tag=None) -> None:
        """A command's ``ack`` or ``error`` to the consumer that sent it (a hook: a room
        sends its acks once the command is saved, without holding up the next message)."""
        await self._reply(channel, tag, json.dumps(reply, default=str))

    async def send(self, channel: str | None, message: dict) -> None:
        """Send ``message`` to one consumer's channel; a full or vanished one is skipped."""
        await self._send(channel, message)

    async def _reply(self, channel: str | None, tag, text: str) -> None:
        await self._send(channel, {"type": "lab.reply", "tag": tag, "text": text})

    async def _send(self, channel: str | None, message: dict) -> None:
        if channel:
            try:
                await self.layer.send(channel, message)
            except Exception:  # noqa: BLE001,S110 - a full or vanished channel: the browser resyncs
                pass

    # ---- pacing and frames -------------------------------------------------------------

    async def _tick(self) -> None:
        base_period = 1.0 / max(1.0, min(30.0, float(_setting("LAB_FRAME_HZ", 20))))
        while True:
            started = time.perf_counter()
            now = wall_ms()
            self._drop_silent_viewers(now)
            if now - self._lease_renewed_ms > LEASE_S * 1000 / 3:
                await self._renew_lease(now)
            # With many labs, frames share the CPU: stretch the period rather than let
            # every lab's frames queue up behind each other (the lab shows its fps).
            period = max(base_period, self.registry.frame_load_s() / self.frame_share)
            if not self.viewers:
                await self._sleep_unwatched()
                continue
            await self._advance(period)
            await self._frame(now)
            elapsed = time.perf_counter() - started
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.001, period - elapsed))
            except TimeoutError:
                pass

    async def _sleep_unwatched(self) -> None:
        """Nobody watches: the lab stays frozen where it is and its tick sleeps (issue 7: 30
        unwatched labs ticking at 20 Hz cost 4 % of a core) until a viewer attaches or a
        command arrives, waking at least every ``UNWATCHED_WAKE_S`` to renew its lease.  The
        clock is anchored again on waking, so the lab resumes from where it froze instead of
        catching up the time it slept."""
        self.session.pacer.anchor(self.session.now_ms)
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), UNWATCHED_WAKE_S)
        except TimeoutError:
            pass
        self.session.pacer.anchor(self.session.now_ms)

    async def _frame(self, now: float) -> None:
        """Build and publish the next frame if the lab changed.  The lock keeps frames in
        ``seq`` order when a command's frame and a tick's frame race."""
        async with self._frame_lock:
            if not self.session.dirty:
                return
            t0 = time.thread_time()
            text = self.session.delta_frame()
            # only the synchronous build counts: an await lets other labs run.  CPU time,
            # not wall time: on a shared machine the wall clock also counts the time
            # other processes had the core, which would stretch every lab's frame period
            # for work this process never did.
            cost = time.thread_time() - t0
            self.frame_cost_s += 0.2 * (cost - self.frame_cost_s)
            if text is None:
                return
            self._note_frame(now)
            await self.publish({"type": "lab.frame", "text": text})

    async def publish(self, message: dict) -> None:
        """Send one encoded frame to every viewer (a hook: a room publishes once per
        process instead, ``courseware.rooms.relay``)."""
        if isinstance(self.layer, InMemoryChannelLayer):
            # One process: the viewers are the frames group's members.  Sending to
            # each skips group_send's sweep of every channel and group of the process
            # (per frame, with 50 labs) and its task per member.
            for channel in list(self.viewers):
                await self._send(channel, message)
            return
        try:
            await self.layer.group_send(frames_group(self.lab_id), message)
        except Exception:
            log.exception("lab %s: frame not sent", self.lab_id)

    async def _advance(self, period: float) -> None:
        """Advance in slices of a few ms of CPU, yielding between them.

        The labs being watched share one period's CPU: what frames leave of 80% of it is
        split evenly, so frames keep their rate and a busy process slows the labs down
        (each shows its effective speed) instead of stalling every socket.
        """
        active = max(1, self.registry.active_count())
        frames_ms = self.registry.frame_load_s() * 1000.0
        share_ms = max(0.5, (period * 1000.0 * 0.8 - frames_ms) / active)
        spent = 0.0
        while True:
            # thread CPU time, not wall time: on a shared machine the wall clock also
            # counts other processes' turns, which would shrink every lab's fair share
            started = time.thread_time()
            reached = self.session.advance(min(SLICE_MS, share_ms - spent))
            spent += (time.thread_time() - started) * 1000.0
            if reached or spent >= share_ms:
                return
            await asyncio.sleep(0)

    async def _renew_lease(self, now: float) -> None:
        self._lease_renewed_ms = now
        connection = _lease_connection()
        if connection is not None:
            try:
                await connection.set(_lease_key(self.lab_id), PROCESS_TOKEN, ex=LEASE_S)
            except Exception:  # noqa: BLE001 - Redis away: the next renewal tries again
                log.warning("lab %s: lease not renewed", self.lab_id)

    def _note_frame(self, now: float) -> None:
        self.frames_sent += 1
        if self._last_frame_ms is not None:
            gap = max(1.0, now - self._last_frame_ms)
            self.session.fps += min(1.0, gap / 1000.0) * (1000.0 / gap - self.session.fps)
        self._last_frame_ms = now

    def _drop_silent_viewers(self, now: float) -> None:
        gone = [ch for ch, seen in self.viewers.items() if now - seen > VIEWER_TIMEOUT_MS]
        for ch in gone:
            del self.viewers[ch]
        if gone and not self.viewers:
            self.last_viewer_ms = now

    @property
    def rate(self) -> int:
        return sum(int(w.get("rate") or 0) for w in self.session.scenario.get("workload") or [])


def _with_ref(frame_text: str, ref) -> str:
    """A full frame answering a ``resync`` carries the resync's ``ref`` (the state itself is
    the shared one, not re-encoded)."""
    if ref is None:
        return frame_text
    return '{"ref":' + json.dumps(ref) + "," + frame_text[1:]


class LabRegistry:
    """The labs this process owns, with the caps that keep it responsive."""

    def __init__(self) -> None:
        self.labs: dict[str, LabRunner] = {}
        self._reaper: asyncio.Task | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._agg: tuple[float, float, int] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.builds_pending = 0
        self.labs_stopped = 0  # ever, by this process (the reaper returns memory after stops)
        self._full_collect_due = False
        self._full_collect_at = float("-inf")

    @property
    def max_labs(self) -> int:
        return int(_setting("LAB_MAX_SESSIONS", 64))

    @property
    def max_session_labs(self) -> int:
        return int(_setting("LAB_MAX_LABS_PER_SESSION", 8))

    @property
    def max_address_labs(self) -> int:
        return int(_setting("LAB_MAX_LABS_PER_IP", 48))

    @property
    def max_pending_builds(self) -> int:
        return int(_setting("LAB_MAX_PENDING_BUILDS", 8))

    async def build(self, fn, *args):
        """Run ``fn(*args)`` (building a simulation) in the registry's build threads.

        A thread, not the event loop: a build takes 0.1–2 s of CPU and every socket of the
        process would freeze meanwhile.  Few threads (``LAB_BUILD_THREADS``, default 2):
        builds hold the GIL in turns with the loop, and more threads would starve it.
        """
        if self._executor is None:
            # A thread that computes holds the GIL for the whole switch interval (5 ms by
            # default) each time the loop thread asks for it back — after every socket
            # write.  1 ms keeps the loop's many short turns from queueing behind builds.
            sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
            self._executor = ThreadPoolExecutor(
                max_workers=int(_setting("LAB_BUILD_THREADS", 2)), thread_name_prefix="lab-build")
        self.builds_pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self.builds_pending -= 1

    @property
    def max_rate(self) -> int:
        return int(_setting("LAB_MAX_RATE", 100_000))

    @property
    def idle_ms(self) -> float:
        return float(_setting("LAB_IDLE_SECONDS", 600)) * 1000.0

    def _aggregates(self) -> tuple[float, int]:
        # Every lab asks on every tick: recompute at most every 20 ms (not O(labs²)).
        now = time.perf_counter()
        if self._agg is None or now - self._agg[0] > 0.02:
            watched = [r for r in self.labs.values() if r.viewers]
            load = sum(r.frame_cost_s for r in watched)
            active = sum(1 for r in watched if not r.session.paused) or 1
            self._agg = (now, load, active)
        return self._agg[1], self._agg[2]

    def frame_load_s(self) -> float:
        """CPU seconds one round of frames costs over the labs being watched."""
        return self._aggregates()[0]

    def active_count(self) -> int:
        """Labs being watched and running (at least 1)."""
        return self._aggregates()[1]

    def get(self, lab_id: str) -> LabRunner | None:
        runner = self.labs.get(lab_id)
        if runner is None:
            return None
        if runner.stopped or runner.loop is not asyncio.get_running_loop():
            # A lab from a finished event loop (tests, a restarted server) is gone.
            self.labs.pop(lab_id, None)
            return None
        return runner

    async def claim(self, lab_id: str) -> bool:
        """Take ownership of ``lab_id`` for this process; False if another process has it.

        With a shared (Redis) channel layer the owner holds a lease, an atomic
        ``SET labowner:<lab id> <process token> NX EX 30`` on the layer's own Redis, renewed
        by the running lab; a dead owner's lease lapses within 30 s.  With the in-memory
        layer there is no other process to ask.
        """
        connection = _lease_connection()
        if connection is None:
            return True
        key = _lease_key(lab_id)
        if await connection.set(key, PROCESS_TOKEN, nx=True, ex=LEASE_S):
            return True
        owner = await connection.get(key)
        return owner is not None and owner.decode() == PROCESS_TOKEN

    async def ensure(self, lab_id: str, *, preset: str | None = None,
                     seed: int | None = None, speed: float | None = None,
                     address: str | None = None) -> LabRunner | None:
        """The local runner for ``lab_id``, created if nobody owns it; None if remote.

        ``speed`` is the new lab's starting speed (a lesson embed's); an existing lab keeps
        its own.  Raises CapacityError when the process, the session or the client address
        may not start another lab, CommandError when the preset is unknown or the engine
        refuses it.
        """
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            runner = self.get(lab_id)
            if runner is not None:
                return runner
            if not await self.claim(lab_id):
                return None  # another process runs it: talk to it through the layer
            self._start_reaper()
            await self._make_room(lab_id, address)
            # Building a simulation takes a noticeable fraction of a second (workload data
            # is generated up front): do it off the event loop so running labs keep going.
            session = await self.build(_new_session, lab_id, preset, seed, self.max_rate,
                                       speed)
            runner = LabRunner(self, session, address=address)
            await runner.start()
            self.labs[lab_id] = runner
            return runner

    async def replace_with(self, lab_id: str, session: LabSession,
                           address: str | None = None) -> LabRunner:
        """Make ``session`` the lab ``lab_id`` (a graded run's replay replaces the learner's
        lab); the old one, if it runs here, stops.  RuntimeError if another process owns it."""
        old = self.labs.pop(lab_id, None)
        if old is not None:
            await old.stop()
        if not await self.claim(lab_id):
            raise RuntimeError("your lab is running in another server process")
        await self._make_room(lab_id, address)
        runner = LabRunner(self, session, address=address)
        await runner.start()
        self.labs[lab_id] = runner
        self._start_reaper()
        return runner

    @property
    def keep_unwatched(self) -> int:
        return int(_setting("LAB_KEEP_UNWATCHED_PER_SESSION", 2))

    async def trim_unwatched(self, owner: str | None = None) -> int:
        """Stop a session's unwatched labs beyond its newest ``LAB_KEEP_UNWATCHED_PER_SESSION``
        (a learner going through the lessons leaves a frozen lab per page; a heavy one holds
        its whole ``buffer.memory`` of records).  The kept ones survive a reload or "back"."""
        stopped = 0
        owners = {owner} if owner else {r.owner for r in self.labs.values()}
        for who in owners:
            idle = sorted(((r.last_viewer_ms, lab_id) for lab_id, r in self.labs.items()
                           if r.owner == who and not r.viewers), reverse=True)
            for _, lab_id in idle[self.keep_unwatched:]:
                runner = self.labs.pop(lab_id)
                if runner.loop is asyncio.get_running_loop():
                    await runner.stop()
                stopped += 1
        return stopped

    async def _make_room(self, lab_id: str, address: str | None) -> None:
        """Fair shares first, then the process's cap: a session (or address) past its share
        gives up its own longest-unwatched lab; only the process cap evicts anyone's."""
        owner = lab_id.rsplit(".", 1)[0]
        await self.trim_unwatched(owner)
        for mine, limit, message in (
                (lambda r: r.owner == owner, self.max_session_labs, session_capacity_message),
                (lambda r: address is not None and r.address == address,
                 self.max_address_labs, address_capacity_message)):
            if sum(1 for r in self.labs.values() if mine(r)) >= limit:
                await self.evict_one_unwatched(mine)
            if sum(1 for r in self.labs.values() if mine(r)) >= limit:
                raise CapacityError(message(limit))
        if len(self.labs) >= self.max_labs:
            await self.reap()
        if len(self.labs) >= self.max_labs:
            await self.evict_one_unwatched()
        if len(self.labs) >= self.max_labs:
            raise CapacityError(capacity_message(self.max_labs))

    async def evict_one_unwatched(self, among=None) -> bool:
        """At capacity, stop the lab unwatched for longest (its learner gets a fresh one from
        the preset when they come back); False when every lab has a viewer.  ``among``
        narrows the choice (a session's or an address's own labs)."""
        unwatched = [(r.last_viewer_ms, lab_id) for lab_id, r in self.labs.items()
                     if not r.viewers and (among is None or among(r))]
        if not unwatched:
            return False
        _, lab_id = min(unwatched)
        runner = self.labs.pop(lab_id)
        if runner.loop is asyncio.get_running_loop():
            await runner.stop()
        return True

    async def reap(self) -> int:
        """Stop labs nobody has watched for ``LAB_IDLE_SECONDS``; returns how many."""
        now = wall_ms()
        idle = [lab_id for lab_id, r in self.labs.items()
                if not r.viewers and now - r.last_viewer_ms > self.idle_ms]
        dead = [lab_id for lab_id, r in self.labs.items()
                if r.stopped or r.loop is not asyncio.get_running_loop()]
        for lab_id in idle + dead:
            runner = self.labs.pop(lab_id, None)
            if runner is not None and runner.loop is asyncio.get_running_loop():
                await runner.stop()
        return len(idle)

    def adopt(self, lab_id: str, runner: LabRunner) -> None:
        """Make a runner started outside ``ensure`` (a room, a follower's fork) this
        process's lab ``lab_id``; the caller has claimed it (``claim``)."""
        self.labs[lab_id] = runner
        self._start_reaper()

    def _start_reaper(self) -> None:
        loop = asyncio.get_running_loop()
        if self._reaper is not None and not self._reaper.done() \
                and self._reaper.get_loop() is loop:
            return
        self._reaper = loop.create_task(self._reap_forever(), name="lab-reaper")

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(5)
            try:
                labs_before = self.labs_stopped
                await self.reap()
                await self.trim_unwatched()
                # Garbage in cycles waits longer with our collector settings
                # (courseware/collector.py): the young generations are collected every
                # round they have grown, everything after labs stopped (what a stopped
                # lab leaves in cycles was mostly promoted long ago) — then at most every
                # FULL_COLLECT_EVERY_S while labs are watched (a full collection holds the
                # loop 50-150 ms), at once when nobody watches.
                stopped = self.labs_stopped != labs_before
                self._full_collect_due |= stopped
                watched = any(r.viewers for r in self.labs.values())
                now = time.monotonic()
                if self._full_collect_due and (
                        not watched or now - self._full_collect_at >= FULL_COLLECT_EVERY_S):
                    found = collector.collect_all()
                    self._full_collect_due, self._full_collect_at = False, now
                else:
                    found = collector.collect_young_if_grown()
                if stopped or found:
                    # A stopped lab's memory is freed at once (Simulation.dispose), but glibc
                    # keeps freed pages in the process; hand them back, off the loop (the
                    # call releases the GIL).
                    await asyncio.get_running_loop().run_in_executor(None, release_memory)
            except Exception:
                log.exception("lab reaper failed")

    async def shutdown(self) -> None:
        """Stop every lab of this process (tests; server shutdown)."""
        if self._reaper is not None and not self._reaper.done():
            self._reaper.cancel()
        for lab_id in list(self.labs):
            runner = self.labs.pop(lab_id)
            if runner.loop is asyncio.get_running_loop():
                await runner.stop()


def _new_session(lab_id: str, preset: str | None, seed: int | None, max_rate: int,
                 speed: float | None) -> LabSession:
    session = LabSession(lab_id, preset=preset, seed=seed, max_rate=max_rate)
    if speed is not None:
        session.pacer.set_speed(speed, session.now_ms)
    return session


registry = LabRegistry()
