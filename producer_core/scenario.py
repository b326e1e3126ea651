"""Scenarios: a producer config, a cluster, workloads and a fault script, as data.

A scenario (docs/SEAMS.md §2) builds a seeded ``Simulation``: the same scenario and seed
replay the same run byte for byte.  Presets (``producer_core/presets/*.json``) are
scenarios with a title.  ``Scenario.from_dict`` validates everything up front and raises
``ScenarioError`` naming the path, the value and the rule, e.g.
``workload[0].rate: must be a positive number (records/s) ..., got -5``.

Example::

    from producer_core.scenario import Scenario
    from producer_core import presets

    sc = Scenario.from_dict(presets.load("incident"))
    sim = sc.build(seed=7)
    sim.run_until(sc.duration_ms)
    print(sim.snapshot()["app"])
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from producer_core.cluster.faults import FaultError, validate_script
from producer_core.cluster.network import NetworkConfigError, NetworkModel
from producer_core.config import ProducerConfig
from producer_core.errors import ConfigError
from producer_core.workload import WorkloadError, WorkloadSpec

TOP_LEVEL = ("id", "title", "summary", "description", "seed", "config", "cluster", "workload",
             "faults", "duration_ms", "variant_of")
CLUSTER_KEYS = ("brokers", "topics", "replication_factor", "min_insync_replicas",
                "election_delay_ms", "network", "auto_create_topics")
MAX_DURATION_MS = 24 * 3600 * 1000


class ScenarioError(ValueError):
    """A scenario that cannot be built; the message starts with the offending path."""


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass
class Scenario:
    """A validated scenario.  ``to_dict()`` round-trips through ``from_dict``."""

    id: str | None = None
    title: str | None = None
    summary: str | None = None
    description: str | None = None
    seed: int = 0
    config: dict = field(default_factory=dict)
    cluster: dict = field(default_factory=lambda: {"brokers": 3, "topics": {"orders": 6}})
    workload: list[WorkloadSpec] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)
    duration_ms: int = 10_000
    variant_of: str | None = None

    # ---- validation ----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, d: Any) -> Scenario:
        """Validate a scenario dict (docs/SEAMS.md §2); raise ``ScenarioError`` naming the path."""
        if not isinstance(d, dict):
            raise ScenarioError(f"scenario: must be an object, got {type(d).__name__}")
        for k in d:
            if k not in TOP_LEVEL:
                raise ScenarioError(f"{k}: unknown field; fields: {', '.join(TOP_LEVEL)}")
        for k in ("id", "title", "summary", "description", "variant_of"):
            if d.get(k) is not None and not isinstance(d[k], str):
                raise ScenarioError(f"{k}: must be a string, got {d[k]!r}")
        seed = d.get("seed", 0)
        if not _int(seed) or seed < 0:
            raise ScenarioError(f"seed: must be an integer >= 0, got {seed!r}")
        duration = d.get("duration_ms", 10_000)
        if not _int(duration) or not 1 <= duration <= MAX_DURATION_MS:
            raise ScenarioError(f"duration_ms: must be an integer in 1..{MAX_DURATION_MS}, got "
                                f"{duration!r}")
        config = d.get("config") or {}
        if not isinstance(config, dict):
            raise ScenarioError(f"config: must be an object of Kafka producer properties, got "
                                f"{config!r}")
        _check_config(config)
        cluster = _check_cluster(d.get("cluster") or {})
        wl = d.get("workload", [])
        if isinstance(wl, dict):
            wl = [wl]
        if not isinstance(wl, list):
            raise ScenarioError(f"workload: must be a list of workloads, got {wl!r}")
        workloads = []
        for i, w in enumerate(wl):
            where = f"workload[{i}]"
            try:
                spec = WorkloadSpec.from_dict(w, where)
            except WorkloadError as e:
                raise ScenarioError(str(e)) from None
            if spec.topic not in cluster["topics"] and not cluster.get("auto_create_topics",
                                                                      True):
                # (With auto-creation on, as Kafka's brokers default, the first metadata
                # request creates the topic with one partition.)
                raise ScenarioError(f"{where}.topic: unknown topic {spec.topic!r}; the cluster "
                                    f"has {sorted(cluster['topics'])} and "
                                    "auto_create_topics is false")
            workloads.append(spec)
        try:
            faults = validate_script(d.get("faults") or [],
                                     broker_ids=list(range(1, cluster["brokers"] + 1)),
                                     topics=cluster["topics"])
        except FaultError as e:
            raise ScenarioError(str(e)) from None
        return cls(id=d.get("id"), title=d.get("title"), summary=d.get("summary"),
                   description=d.get("description"), seed=seed, config=dict(config),
                   cluster=cluster, workload=workloads, faults=faults, duration_ms=duration,
                   variant_of=d.get("variant_of"))

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ScenarioError(f"scenario: not valid JSON ({e})") from None
        return cls.from_dict(data)

    @classmethod
    def preset(cls, preset_id: str) -> Scenario:
        from producer_core import presets

        return cls.from_dict(presets.load(preset_id))

    def to_dict(self) -> dict:
        d: dict[str, Any] = {}
        for k in ("id", "title", "summary", "description", "variant_of"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        d.update({"seed": self.seed, "config": dict(self.config),
                  "cluster": copy.deepcopy(self.cluster),
                  "workload": [w.to_dict() for w in self.workload],
                  "faults": [dict(f) for f in self.faults], "duration_ms": self.duration_ms})
        return d

    def with_config(self, overrides: dict) -> Scenario:
        """A copy with producer properties overridden (validated)."""
        d = self.to_dict()
        d["config"] = {**d["config"], **overrides}
        return Scenario.from_dict(d)

    # ---- building --------------------------------------------------------------------------

    def build(self, seed: int | None = None):
        """A fresh ``Simulation`` with this scenario's config, cluster, workloads and faults."""
        from producer_core.simulation import Simulation

        c = self.cluster
        sim = Simulation(config=ProducerConfig.from_dict(self.config), brokers=c["brokers"],
                         topics=dict(c["topics"]),
                         replication_factor=c["replication_factor"],
                         seed=self.seed if seed is None else seed,
                         min_insync_replicas=c["min_insync_replicas"],
                         election_delay_ms=c.get("election_delay_ms"),
                         network=copy.deepcopy(c.get("network")),
                         auto_create_topics=c.get("auto_create_topics", True))
        for w in self.workload:
            sim.add_workload(w.to_dict())
        if self.faults:
            sim.schedule_faults([dict(f) for f in self.faults])
        return sim

    def run(self, seed: int | None = None, until_ms: int | None = None):
        """Build and run to ``duration_ms`` (or ``until_ms``); returns the simulation."""
        sim = self.build(seed)
        sim.run_until(self.duration_ms if until_ms is None else until_ms)
        return sim


def _check_config(config: dict) -> None:
    try:
        ProducerConfig.from_dict(config)
    except ConfigError as e:
        key = getattr(e, "key", None)
        raise ScenarioError(f"config{'.' + key if key else ''}: {e}") from None


def _check_cluster(c: Any) -> dict:
    if not isinstance(c, dict):
        raise ScenarioError(f"cluster: must be an object, got {c!r}")
    for k in c:
        if k not in CLUSTER_KEYS:
            raise ScenarioError(f"cluster.{k}: unknown field; fields: {', '.join(CLUSTER_KEYS)}")
    out = {"brokers": c.get("brokers", 3), "topics": c.get("topics", {"orders": 6}),
           "replication_factor": c.get("replication_factor"),
           "min_insync_replicas": c.get("min_insync_replicas", 1),
           "election_delay_ms": c.get("election_delay_ms"),
           "network": c.get("network")}
    b = out["brokers"]
    if not _int(b) or not 1 <= b <= 32:
        raise ScenarioError(f"cluster.brokers: must be an integer in 1..32, got {b!r}")
    if out["replication_factor"] is None:
        out["replication_factor"] = min(3, b)
    rf = out["replication_factor"]
    if not _int(rf) or not 1 <= rf <= b:
        raise ScenarioError(f"cluster.replication_factor: must be an integer in 1..{b} (the "
                            f"number of brokers), got {rf!r}")
    mi = out["min_insync_replicas"]
    if not _int(mi) or not 1 <= mi <= rf:
        raise ScenarioError(f"cluster.min_insync_replicas: must be an integer in 1..{rf} (the "
                            f"replication factor), got {mi!r}")
    ed = out["election_delay_ms"]
    if ed is not None and (not _int(ed) or not 0 <= ed <= 600_000):
        raise ScenarioError(f"cluster.election_delay_ms: must be an integer in 0..600000, got "
                            f"{ed!r}")
    topics = out["topics"]
    if not isinstance(topics, dict) or not topics:
        raise ScenarioError(f"cluster.topics: must map topic names to partition counts, got "
                            f"{topics!r}")
    for name, n in topics.items():
        if not isinstance(name, str) or not name:
            raise ScenarioError(f"cluster.topics: topic names must be non-empty strings, got "
                                f"{name!r}")
        if not _int(n) or not 1 <= n <= 1000:
            raise ScenarioError(f"cluster.topics.{name}: partition count must be an integer in "
                                f"1..1000, got {n!r}")
    out["topics"] = dict(topics)
    if out["network"] is not None:
        from random import Random

        try:
            NetworkModel(Random(0), list(range(1, b + 1)), copy.deepcopy(out["network"]))
        except NetworkConfigError as e:
            raise ScenarioError(f"cluster.{e}") from None
    else:
        del out["network"]
    if out["election_delay_ms"] is None:
        del out["election_delay_ms"]
    if "auto_create_topics" in c:
        if not isinstance(c["auto_create_topics"], bool):
            raise ScenarioError(f"cluster.auto_create_topics: must be true or false, got "
                                f"{c['auto_create_topics']!r}")
        out["auto_create_topics"] = c["auto_create_topics"]
    return out
