"""Random messages thrown at the real consumer: every one gets an answer, none kills the
consumer or the lab, and the groups are empty afterwards."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.layers import channel_layers, get_channel_layer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from courseware.lab.commands import COMMANDS, FAULT_OPS
from courseware.lab.consumers import lab_id_for
from courseware.lab.registry import frames_group, registry

from .conftest import make_session_key, open_lab

pytestmark = [pytest.mark.django_db(transaction=True)]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                   st.dictionaries(st.text(max_size=8), c,
                                                                   max_size=4)), max_leaves=12)
field_names = st.sampled_from(sorted({f for fs in COMMANDS.values() for f in fs} | {"x"}))
known_types = st.sampled_from(sorted(set(COMMANDS) - {"workload", "reset", "preset"}))

structured = st.builds(
    lambda t, fields, ref: {"type": t, **fields, **({"ref": ref} if ref is not None else {})},
    st.one_of(known_types, st.text(max_size=10)),
    st.dictionaries(field_names, values, max_size=3),
    st.one_of(st.none(), st.integers(0, 1000), st.text(max_size=5)))
faults = st.builds(lambda op, broker: {"type": "fault", "op": op, "broker": broker},
                   st.sampled_from(sorted(FAULT_OPS)), st.integers(-1, 5))
messages = st.one_of(
    st.text(max_size=40),
    values.map(json.dumps),
    structured.map(json.dumps),
    faults.map(json.dumps),
)


async def _exercise(session_key: str, batch: list[str]) -> None:
    sock, ok = await open_lab(session_key)
    assert ok
    first = await sock.recv(timeout=10)
    assert first["type"] == "frame"
    for text in batch:
        await sock.send(text)
        # a reply (ack, error, pong), or a full frame answering a valid resync
        reply = await sock.recv_until(lambda m: m["type"] != "delta", timeout=10)
        assert reply["type"] in ("ack", "error", "pong", "frame")
        if reply["type"] == "error":
            assert reply["code"] and reply["message"]
    # the consumer and the lab are alive: resync gives a full frame, ping a pong
    await sock.send({"type": "resume"})
    await sock.reply()
    await sock.send({"type": "resync"})
    frame = await sock.recv_until(lambda m: m["type"] == "frame")
    assert frame["state"]["now_ms"] >= 0
    await sock.send({"type": "ping", "ref": "alive"})
    assert (await sock.reply())["ref"] == "alive"
    await sock.comm.disconnect()
    layer = get_channel_layer()
    assert not layer.groups.get(frames_group(lab_id_for(session_key, "main")))
    await registry.shutdown()
    assert not any(layer.groups.values())


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batch=st.lists(messages, min_size=1, max_size=12))
def test_random_messages_never_crash_the_consumer(batch, django_settings_rate):
    channel_layers.backends.clear()
    asyncio.run(_exercise(django_settings_rate, batch))


@pytest.fixture
def django_settings_rate(settings):
    """A session that owns the lab, and no rate limit in the way of the fuzzer."""
    settings.LAB_WS_RATE = 10_000
    from asgiref.sync import async_to_sync

    return async_to_sync(make_session_key)()
