"""The lab's WebSocket protocol (docs/PROTOCOL.md), end to end through the real consumer,
registry, LabSession and engine, with Channels' WebsocketCommunicator."""

from __future__ import annotations

import json

import pytest
from channels.layers import get_channel_layer

from courseware.lab.consumers import lab_id_for
from courseware.lab.delta import apply
from courseware.lab.registry import control_group, frames_group

from .conftest import make_session_key, open_lab

pytestmark = [pytest.mark.django_db(transaction=True)]


async def first_frame(sock):
    msg = await sock.recv(timeout=10)
    assert msg["type"] == "frame" and msg["full"] is True
    return msg


async def follow(sock, state, seq, pred, limit=300):
    """Apply deltas (checking seq rises by one) until ``pred(state)``; returns (state, seq)."""
    for _ in range(limit):
        msg = await sock.recv(timeout=5)
        if msg["type"] == "delta":
            assert msg["seq"] == seq + 1, "deltas must arrive with consecutive seq"
            state, seq = apply(state, msg["op"]), msg["seq"]
        elif msg["type"] == "frame":
            state, seq = msg["state"], msg["seq"]
        if pred(state):
            return state, seq
    raise AssertionError("the state never satisfied the condition")


async def test_frames_arrive_with_rising_seq_and_virtual_time_moves(lab_registry):
    key = await make_session_key()
    sock, ok = await open_lab(key)
    assert ok
    full = await first_frame(sock)
    state, seq = full["state"], full["seq"]
    assert {"partitions", "pool", "inflight", "cluster", "timeline", "metrics", "lab"} <= set(state)
    start = state["now_ms"]
    seqs = []
    for _ in range(8):
        msg = await sock.recv_until(lambda m: m["type"] == "delta")
        seqs.append(msg["seq"])
        assert msg["seq"] == seq + 1
        state, seq = apply(state, msg["op"]), msg["seq"]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert state["now_ms"] > start
    await sock.comm.disconnect()


async def test_config_change_shows_in_the_next_frames(lab_registry):
    key = await make_session_key()
    sock, _ = await open_lab(key)
    full = await first_frame(sock)
    assert full["state"]["config"]["linger.ms"] != 250
    await sock.send({"type": "config", "set": {"linger.ms": 250}, "ref": 1})
    state, _seq = full["state"], full["seq"]
    acked = False
    for _ in range(300):
        msg = await sock.recv()
        if msg["type"] == "ack":
            assert msg["ref"] == 1 and msg["cmd"] == "config"
            acked = True
        elif msg["type"] == "delta":
            state, _seq = apply(state, msg["op"]), msg["seq"]
        if acked and state["config"]["linger.ms"] == 250:
            break
    assert acked and state["config"]["linger.ms"] == 250
    assert state["lab"]["overrides"] == {"linger.ms": 250}
    await sock.comm.disconnect()


async def test_an_invalid_config_is_refused_by_kafkas_rule_and_changes_nothing(lab_registry):
    key = await make_session_key()
    sock, _ = await open_lab(key)
    full = await first_frame(sock)
    await sock.send({"type": "config", "set": {"max.in.flight.requests.per.connection": 6},
                     "ref": "bad"})
    reply = await sock.reply()
    assert reply["type"] == "error" and reply["ref"] == "bad"
    assert "max.in.flight.requests.per.connection" in reply["message"]
    await sock.send({"type": "resync"})
    frame = await sock.recv_until(lambda m: m["type"] == "frame")
    assert frame["state"]["config"]["max.in.flight.requests.per.connection"] == \
        full["state"]["config"]["max.in.flight.requests.per.connection"]
    assert frame["state"]["lab"]["overrides"] == {}
    await sock.comm.disconnect()


@pytest.mark.parametrize("bad, code", [
    ("{not json", "bad_json"),
    ('{"type": "self_destruct"}', "unknown_type"),
    ('{"type": "speed", "value": 1e9}', "invalid"),
    ("x" * 9000, "too_large"),
])
async def test_malformed_or_unknown_messages_get_an_error_and_the_lab_keeps_running(
        lab_registry, bad, code):
    key = await make_session_key()
    sock, _ = await open_lab(key)
    full = await first_frame(sock)
    await sock.send(bad)
    reply = await sock.reply()
    assert reply["type"] == "error" and reply["code"] == code and reply["message"]
    # still alive: frames keep coming with consecutive seq and time moves on
    _state, _seq = await follow(sock, full["state"], full["seq"],
                              lambda s: s["now_ms"] > full["state"]["now_ms"])
    await sock.send({"type": "ping", "ref": "p"})
    assert (await sock.reply()) == {"type": "pong", "ref": "p"}
    await sock.comm.disconnect()


async def test_pause_step_resume_and_speed(lab_registry):
    key = await make_session_key()
    sock, _ = await open_lab(key)
    full = await first_frame(sock)
    state, seq = full["state"], full["seq"]
    await sock.send({"type": "pause", "ref": 1})
    assert (await sock.reply())["type"] == "ack"
    state, seq = await follow(sock, state, seq, lambda s: s["lab"]["paused"])
    paused_at = state["now_ms"]
    await sock.send({"type": "step", "ref": 2})
    reply = await sock.reply()
    # one engine action ran: it published at least one event (one action may publish a few,
    # e.g. a response completing its batches), and time did not run on past it
    assert reply["type"] == "ack" and reply["result"]["events"] >= 1
    assert reply["result"]["engine_steps"] >= 1
    state, seq = await follow(sock, state, seq, lambda s: s["lab"]["last_step"] is not None)
    assert state["now_ms"] >= paused_at
    assert state["now_ms"] == reply["result"]["to_ms"]
    await sock.send({"type": "speed", "value": 0.01, "ref": 3})
    assert (await sock.reply())["result"] == {"speed": 0.01}
    await sock.send({"type": "resume", "ref": 4})
    state, seq = await follow(sock, state, seq,
                              lambda s: not s["lab"]["paused"] and s["lab"]["speed"] == 0.01)
    await sock.comm.disconnect()


async def test_a_fault_shows_in_the_cluster_state(lab_registry):
    key = await make_session_key()
    sock, _ = await open_lab(key)
    full = await first_frame(sock)
    broker = full["state"]["cluster"]["brokers"][0]["id"]
    await sock.send({"type": "fault", "op": "stop_broker", "broker": broker, "ref": 9})
    assert (await sock.reply())["type"] == "ack"
    _state, _ = await follow(sock, full["state"], full["seq"], lambda s: not next(
        b for b in s["cluster"]["brokers"] if b["id"] == broker)["up"])
    await sock.send({"type": "fault", "op": "stop_broker", "broker": 99, "ref": 10})
    reply = await sock.reply()
    assert reply["type"] == "error" and "99" in reply["message"]
    await sock.comm.disconnect()


async def test_a_reload_finds_the_same_lab_and_another_session_gets_its_own(lab_registry):
    key = await make_session_key()
    sock, _ = await open_lab(key)
    await first_frame(sock)
    await sock.send({"type": "config", "set": {"linger.ms": 42}, "ref": 1})
    assert (await sock.reply())["type"] == "ack"
    await sock.comm.disconnect()

    again, _ = await open_lab(key)  # the page was reloaded
    frame = await first_frame(again)
    assert frame["state"]["config"]["linger.ms"] == 42
    other, _ = await open_lab(await make_session_key())
    frame = await first_frame(other)
    assert frame["state"]["config"]["linger.ms"] != 42
    await again.comm.disconnect()
    await other.comm.disconnect()
    assert len(lab_registry.labs) == 2


async def test_without_a_session_the_socket_is_refused_politely(lab_registry):
    sock, ok = await open_lab(None)
    assert ok  # accepted so the browser can read why
    msg = await sock.recv()
    assert msg["type"] == "error" and msg["code"] == "unauthorised"
    out = await sock.comm.receive_output(timeout=2)
    assert out["type"] == "websocket.close" and out["code"] == 4401
    sock, ok = await open_lab("forged-session-key-that-does-not-exist")
    msg = await sock.recv()
    assert msg["code"] == "unauthorised"
    assert not lab_registry.labs


async def test_too_many_messages_are_rate_limited(lab_registry, settings):
    settings.LAB_WS_RATE = 5
    key = await make_session_key()
    sock, _ = await open_lab(key)
    await first_frame(sock)
    # Far more than the burst allows, so the limit is hit even on a slow, loaded machine
    # where the bucket refills while the consumer works through the queue.
    sent = 200
    for i in range(sent):
        await sock.send({"type": "ping", "ref": i})
    replies = []
    quiet = 0  # frames seen since the last pong/error: the consumer has worked through the pings
    for _ in range(1500):
        try:
            msg = await sock.recv(timeout=3)
        except TimeoutError:
            break
        if msg["type"] in ("pong", "error"):
            replies.append(msg)
            quiet = 0
        else:
            quiet += 1
            if quiet >= 40 and any(m["type"] == "error" for m in replies):
                break
    pongs = [m for m in replies if m["type"] == "pong"]
    limited = [m for m in replies if m["type"] == "error"]
    assert 5 <= len(pongs) < sent
    assert limited and limited[0]["code"] == "rate_limited"
    await sock.comm.disconnect()


async def test_at_capacity_a_new_lab_gets_a_friendly_message(lab_registry, settings):
    settings.LAB_MAX_SESSIONS = 1
    first, _ = await open_lab(await make_session_key())
    await first_frame(first)
    second, _ = await open_lab(await make_session_key())
    msg = await second.recv()
    assert msg["type"] == "error" and msg["code"] == "capacity"
    assert msg["message"] == ("This server is running 1 live labs, its limit; close a lab tab "
                              "or try again in a minute.")
    await first.comm.disconnect()


async def test_at_capacity_the_longest_unwatched_lab_makes_room(lab_registry, settings):
    settings.LAB_MAX_SESSIONS = 1
    first, _ = await open_lab(await make_session_key())
    await first_frame(first)
    await first.comm.disconnect()  # the first learner left the page: their lab is frozen
    second, _ = await open_lab(await make_session_key())
    msg = await second.recv()
    assert msg["type"] == "frame", msg
    assert len(lab_registry.labs) == 1
    await second.comm.disconnect()


async def test_a_lab_at_100000_records_per_second_does_not_lock_out_the_next_learner(
        lab_registry):
    first, _ = await open_lab(await make_session_key())
    await first_frame(first)
    await first.send({"type": "workload", "rate": 100000, "ref": 7})
    ack = await first.recv_until(lambda m: m["type"] in ("ack", "error"))
    assert ack["type"] == "ack" and ack["ref"] == 7, ack
    second, _ = await open_lab(await make_session_key())
    msg = await second.recv(timeout=10)
    assert msg["type"] == "frame", msg  # started: busy labs share the CPU, none is refused
    await second.send({"type": "workload", "rate": 100000, "ref": 8})
    ack = await second.recv_until(lambda m: m["type"] in ("ack", "error"))
    assert ack["type"] == "ack" and ack["ref"] == 8, ack
    assert len(lab_registry.labs) == 2
    await first.comm.disconnect()
    await second.comm.disconnect()


EMBEDS = {  # the two labs each of these pages embeds (content/*/…md)
    "debug-this": ("lesson-debug-degraded", "lesson-debug-healthy"),
    "mistake-3": ("mistake-batch-config-before", "mistake-batch-config-after"),
}


@pytest.mark.parametrize("page", sorted(EMBEDS))
@pytest.mark.parametrize("learners", [1, 10])
async def test_every_embedded_lab_of_a_page_starts(lab_registry, page, learners):
    socks = []
    for _ in range(learners):
        key = await make_session_key()
        for preset in EMBEDS[page]:
            sock, ok = await open_lab(key, f"/ws/lab/embed-{preset}/")
            assert ok
            socks.append((preset, sock))
    for preset, sock in socks:
        frame = await first_frame(sock)
        assert frame["state"]["lab"]["preset"] == preset
    assert len(lab_registry.labs) == 2 * learners
    for _, sock in socks:
        await sock.comm.disconnect()


async def test_an_embedded_lab_runs_its_preset_beside_the_main_lab(lab_registry):
    key = await make_session_key()
    main, _ = await open_lab(key)
    await first_frame(main)
    embed, _ = await open_lab(key, "/ws/lab/embed-incident/")
    frame = await first_frame(embed)
    assert frame["state"]["lab"]["preset"] == "incident"
    assert len(lab_registry.labs) == 2
    bad, _ = await open_lab(key, "/ws/lab/embed-no-such-preset/")
    msg = await bad.recv()
    assert msg["type"] == "error" and "no-such-preset" in msg["message"]
    await main.comm.disconnect()
    await embed.comm.disconnect()


async def test_groups_are_empty_after_disconnect(lab_registry):
    key = await make_session_key()
    sock, _ = await open_lab(key)
    await first_frame(sock)
    lab_id = lab_id_for(key, "main")
    layer = get_channel_layer()
    assert len(layer.groups.get(frames_group(lab_id), {})) == 1
    await sock.comm.disconnect()
    assert not layer.groups.get(frames_group(lab_id))
    runner = lab_registry.labs[lab_id]
    await lab_registry.shutdown()
    assert runner.stopped
    assert not layer.groups.get(control_group(lab_id))
    assert json.dumps(layer.groups.get(frames_group(lab_id), {})) == "{}"
