"""The lab, issue 11: unknown keys accepted with Kafka's warning, an auto-created topic
drawn, and the pool panel's numbers counting ongoing waits — on a real LabSession (real
engine, the commands parsed as the consumer parses them)."""

from __future__ import annotations

import json

import pytest

from courseware.lab.commands import parse
from courseware.lab.session import LabSession

pytestmark = pytest.mark.django_db


def cmd(obj: dict):
    return parse(json.dumps(obj))


def test_config_accepts_an_unknown_key_and_every_frame_warns():
    s = LabSession("fidelity-1", preset="kafka-defaults")
    result = s.apply(cmd({"type": "config", "set": {"linger.msec": "50"}}))
    assert result["warnings"] == ["Kafka would ignore `linger.msec` — did you mean `linger.ms`?"]
    assert s.sim.producer.config.linger_ms == 5  # as in Kafka: the typo changed nothing
    state = s.state(full=True)
    assert state["warnings"] == result["warnings"]
    assert "linger.msec" not in state["config"]
    # unset takes the typo back; the warning goes with it
    assert s.apply(cmd({"type": "config", "unset": ["linger.msec"]}))["warnings"] == []
    assert s.state(full=True)["warnings"] == []
    # known keys keep Kafka's validation
    from courseware.lab.commands import CommandError
    with pytest.raises(CommandError, match="linger.ms"):
        s.apply(cmd({"type": "config", "set": {"linger.ms": "-1"}}))
    s.close()


def test_a_workload_topic_without_partitions_is_auto_created_and_drawn():
    s = LabSession("fidelity-2", preset="kafka-defaults")
    s.apply(cmd({"type": "workload", "topic": "ordres", "rate": 500}))
    s.step(200)
    state = s.state(full=True)
    parts = [(p["topic"], p["partition"]) for p in state["partitions"]]
    assert ("ordres", 0) in parts and ("ordres", 1) not in parts
    assert ("ordres", 0) in {(p["topic"], p["partition"])
                             for p in state["cluster"]["partitions"]}
    assert any("auto-created" in e["text"] for e in state["timeline"]["events"])
    s.close()
