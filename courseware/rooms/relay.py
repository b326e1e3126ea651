"""One subscription per process and room: frames cross Redis once per process, not once
per follower.

With ``channels_redis`` every message to a consumer's channel is a Redis round trip, even
for a consumer in the owner's own process.  So instead of each follower joining the room's
frames group, each process joins it once with a relay channel, and the relay hands the
same pre-encoded text to every local follower's socket.  With the in-memory layer the
room's runner already sends to its viewers directly (``courseware.lab.registry``) and the
relay is not used.
"""

from __future__ import annotations

import asyncio
import logging

from channels.layers import get_channel_layer

from courseware.lab.registry import frames_group

log = logging.getLogger(__name__)


def relay_needed() -> bool:
    """Always: the room's runner publishes each frame once to its group (both layers)."""
    return True


class Relay:
    def __init__(self, lab_id: str) -> None:
        self.lab_id = lab_id
        self.layer = get_channel_layer()
        self.members: set = set()
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
            if not text:
                continue
            for consumer in list(self.members):
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


async def join(lab_id: str, consumer) -> None:
    key = (id(asyncio.get_running_loop()), lab_id)
    relay = _relays.get(key)
    if relay is None:
        relay = _relays[key] = Relay(lab_id)
        await relay.start()
    relay.members.add(consumer)


async def leave(lab_id: str, consumer) -> None:
    key = (id(asyncio.get_running_loop()), lab_id)
    relay = _relays.get(key)
    if relay is None:
        return
    relay.members.discard(consumer)
    if not relay.members:
        _relays.pop(key, None)
        await relay.stop()
