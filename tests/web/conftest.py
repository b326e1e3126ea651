"""Fixtures for the lab's protocol tests: a fresh in-memory channel layer per test, a Django
session to own the lab, and a helper that opens a WebSocket the way a browser does."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator

from courseware.lab.quotas import quotas
from courseware.lab.registry import registry


@pytest.fixture(autouse=True)
def fresh_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                                           "CONFIG": {"capacity": 200}}}
    channel_layers.backends.clear()
    quotas.reset()  # every test's sessions and address start with their full shares
    yield
    channel_layers.backends.clear()
    quotas.reset()


@database_sync_to_async
def make_session_key() -> str:
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store["lab"] = True
    store.create()
    return store.session_key


class LabSocket:
    """A WebsocketCommunicator plus the receive helpers the tests need."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.comm = communicator

    async def send(self, message) -> None:
        if isinstance(message, str):
            # send_input: the communicator's send_to refuses an empty text frame
            await self.comm.send_input({"type": "websocket.receive", "text": message})
        else:
            await self.comm.send_json_to(message)

    async def recv(self, timeout: float = 5.0) -> dict:
        return json.loads(await self.comm.receive_from(timeout=timeout))

    async def recv_until(self, pred, timeout: float = 5.0, limit: int = 500) -> dict:
        for _ in range(limit):
            msg = await self.recv(timeout)
            if pred(msg):
                return msg
        raise AssertionError("expected message never came")

    async def reply(self, timeout: float = 5.0) -> dict:
        """The next message that is not a frame (ack, error or pong)."""
        return await self.recv_until(lambda m: m["type"] not in ("frame", "delta"), timeout)


async def open_lab(session_key: str | None, path: str = "/ws/lab/main/") -> tuple[LabSocket, bool]:
    from courseware.asgi import application

    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect(timeout=10)
    return LabSocket(comm), connected


@pytest.fixture
async def lab_registry():
    yield registry
    await registry.shutdown()
