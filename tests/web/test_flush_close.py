"""The lab's flush and close commands and the interceptor counts (docs/PROTOCOL.md): shape
checks, the LabSession on the real engine, and one round trip through the consumer."""

from __future__ import annotations

import json

import pytest

from courseware.lab.commands import CommandError, parse
from courseware.lab.delta import apply
from courseware.lab.session import LabSession

from .conftest import make_session_key, open_lab


def test_flush_and_close_parse_and_bad_timeouts_are_named():
    assert parse('{"type":"flush"}').args == {}
    assert parse('{"type":"close"}').args == {"timeout_ms": None}
    assert parse('{"type":"close","timeout_ms":500}').args == {"timeout_ms": 500}
    for bad, words in (('{"type":"close","timeout_ms":-1}', "between"),
                       ('{"type":"close","timeout_ms":"soon"}', "must be a number"),
                       ('{"type":"flush","now":true}', "unexpected field")):
        with pytest.raises(CommandError) as info:
            parse(bad)
        assert info.value.code == "invalid" and words in info.value.message


def _run(lab: LabSession, ms: int) -> None:
    lab.sim.run_for(ms)


def test_flush_makes_queued_batches_leave_with_reason_flush():
    lab = LabSession("t.main", preset="lesson-full-batches")  # linger.ms=100
    _run(lab, 1000)
    result = lab.apply(parse('{"type":"flush","ref":1}'))
    assert result["flush"]["batches"] > 0
    assert "waiting for every batch" in lab.state(full=True)["lab"]["notice"]
    _run(lab, 300)
    reasons = [b["close_reason"] for b in lab.state(full=True)["timeline"]["batches"]]
    assert "flush" in reasons
    assert "returned after" in lab.state(full=True)["lab"]["notice"]


def test_close_with_a_timeout_then_sends_fail_and_a_second_close_is_refused():
    lab = LabSession("t.main", preset="kafka-defaults")
    _run(lab, 500)
    lab.apply(parse('{"type":"close","timeout_ms":200}'))
    _run(lab, 1000)
    st = lab.state(full=True)
    assert st["producer"]["closed"] is True
    assert st["app"]["failed_sends"] > 0          # the application's send() now throws
    assert "close()" in st["lab"]["notice"]
    with pytest.raises(CommandError) as info:
        lab.apply(parse('{"type":"close"}'))
    assert info.value.code == "rejected"
    with pytest.raises(CommandError):
        lab.apply(parse('{"type":"flush"}'))
    lab.apply(parse('{"type":"reset"}'))            # a new run, a new producer
    assert lab.state(full=True)["producer"]["closed"] is False
    assert lab.state(full=True)["lab"]["notice"] is None


def test_the_interceptor_preset_shows_its_counts():
    lab = LabSession("t.main", preset="lesson-interceptors")
    _run(lab, 1000)
    (stats,) = lab.state(full=True)["lab"]["interceptors"]
    assert stats["name"] == "CountingInterceptor" and stats["header"] == "lab-seq"
    assert stats["on_send"] > 1000 and 0 < stats["on_acknowledgement"] <= stats["on_send"]
    assert LabSession("t.other", preset="kafka-defaults").state()["lab"]["interceptors"] == []


@pytest.mark.django_db(transaction=True)
async def test_flush_over_the_socket_is_acked_and_shows(lab_registry):
    key = await make_session_key()
    sock, ok = await open_lab(key, "/ws/lab/main/?preset=lesson-full-batches")
    assert ok
    full = await sock.recv(timeout=10)
    state, seq = full["state"], full["seq"]
    while state["now_ms"] < 300:  # batches to flush
        msg = await sock.recv_until(lambda m: m["type"] in ("delta", "frame"))
        if msg["type"] == "frame" or msg["seq"] != seq + 1:
            state, seq = (msg["state"], msg["seq"]) if msg["type"] == "frame" else (state, seq)
            continue
        state, seq = apply(state, msg["op"]), msg["seq"]
    await sock.send({"type": "flush", "ref": 3})
    reply = None
    for _ in range(400):
        msg = await sock.recv(timeout=5)
        if msg["type"] == "delta" and msg["seq"] == seq + 1:
            state, seq = apply(state, msg["op"]), msg["seq"]
        elif msg["type"] == "frame":
            state, seq = msg["state"], msg["seq"]
        elif msg["type"] in ("ack", "error"):
            reply = msg
        if reply and "flush" in [b["close_reason"] for b in state["timeline"]["batches"]]:
            break
    assert reply["result"]["flush"]["batches"] > 0
    assert reply == {"type": "ack", "ref": 3, "cmd": "flush", "result": reply["result"]}
    assert "flush" in [b["close_reason"] for b in state["timeline"]["batches"]]
    await sock.send({"type": "close", "timeout_ms": 10**7, "ref": 4})
    err = await sock.reply()
    assert err["type"] == "error" and err["code"] == "invalid" and err["ref"] == 4
    assert json.dumps(err)
    await sock.comm.disconnect()
