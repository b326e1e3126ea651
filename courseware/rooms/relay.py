"""One subscription per process and room: frames cross Redis once per process, not once
per follower, and are framed for WebSocket once per process, not once per follower.

With ``channels_redis`` every message to a consumer's channel is a Redis round trip, even
for a consumer in the owner's own process.  So instead of each follower joining the room's
frames group, each process joins it once with a relay channel, and the relay hands the
same pre-encoded text to every local follower's socket.  The room's runner publishes to
that group with either layer (``courseware.rooms.runner.RoomRunner.publish``).

Under daphne the relay goes one step further: it frames the text as a WebSocket message
once (autobahn's ``prepareMessage``: UTF-8 bytes plus the frame header) and writes the same
bytes to each follower's connection (``sendPreparedMessage``), skipping, per follower,
the ASGI ``send`` chain, the UTF-8 encoding and the framing.  A consumer served some other
way (Channels' test communicator) gets ``consumer.send`` as before.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from channels.layers import get_channel_layer

from courseware.lab.registry import frames_group

log = logging.getLogger(__name__)


def websocket_protocol(consumer):
    """The daphne (autobahn) WebSocket protocol behind a consumer, or None.

    Daphne hands each application ``send=partial(server.handle_reply, protocol)``;
    Channels' session middleware wraps it (``InstanceSessionWrapper.real_send``).  Anything
    else (another server, the test communicator) is None, and the relay uses the
    consumer's own ``send``.
    """
    send = getattr(consumer, "base_send", None)
    for _ in range(8):
        if isinstance(send, functools.partial):
            protocol = send.args[0] if send.args else None
            ok = all(hasattr(protocol, name) for name in
                     ("sendPreparedMessage", "factory", "state", "STATE_OPEN"))
            return protocol if ok else None
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return None
    return None


def relay_needed() -> bool:
    """Always: the room's runner publishes each frame once to its group (both layers)."""
    return True


class Relay:
    def __init__(self, lab_id: str) -> None:
        self.lab_id = lab_id
        self.layer = get_channel_layer()
        self.members: dict = {}  # consumer -> its autobahn protocol, or None
        self.channel: str | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(frames_group(self.lab_id), self.channel)
        self.task = asyncio.get_running_loop().create_task(self._run(),
                                                           name=f"room-relay-{self.lab_id}")

    async def _run(self) -> None:
        while True:
            message = await self.layer.receive(self.channel)
            text = message.get("text")
            # the owner's process fanned this frame out itself (RoomRunner.publish)
            if text and message.get("skip") != self.channel:
                await self.fan_out(text)

    async def fan_out(self, text: str) -> None:
        """The same frame to every local member: prepared once, written to each socket."""
        prepared = None
        for consumer, protocol in list(self.members.items()):
            if protocol is not None:
                if protocol.state != protocol.STATE_OPEN:
                    continue  # closing: its consumer's disconnect() removes it
                if prepared is None:
                    prepared = protocol.factory.prepareMessage(text.encode())
                try:
                    protocol.sendPreparedMessage(prepared)
                    continue
                except Exception:  # noqa: BLE001 - fall back to the ASGI path
                    self.members[consumer] = None
            try:
                await consumer.send(text_data=text)
            except Exception:  # noqa: BLE001,S112 - that socket closed; disconnect() follows
                continue

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
        try:
            await self.layer.group_discard(frames_group(self.lab_id), self.channel)
        except Exception:  # noqa: BLE001 - the layer may be gone at shutdown
            log.debug("relay %s: discard failed", self.lab_id)


_relays: dict[tuple[int, str], Relay] = {}


def local(lab_id: str) -> Relay | None:
    """This process's relay of a room (on the running loop), if any follower is here."""
    return _relays.get((id(asyncio.get_running_loop()), lab_id))


async def join(lab_id: str, consumer) -> None:
    key = (id(asyncio.get_running_loop()), lab_id)
    relay = _relays.get(key)
    if relay is None:
        relay = _relays[key] = Relay(lab_id)
        await relay.start()
    relay.members[consumer] = websocket_protocol(consumer)


async def leave(lab_id: str, consumer) -> None:
    key = (id(asyncio.get_running_loop()), lab_id)
    relay = _relays.get(key)
    if relay is None:
        return
    relay.members.pop(consumer, None)
    if not relay.members:
        _relays.pop(key, None)
        await relay.stop()
