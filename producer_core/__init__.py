"""producer_core — a faithful, deterministic Apache Kafka 4.x producer with a mock cluster.

Paste this and run it::

    from producer_core import Simulation

    sim = Simulation(config={"linger.ms": 10, "compression.type": "lz4"},
                     brokers=3, topics={"orders": 6}, seed=42)
    futures = [sim.producer.send("orders", value=b"order %d" % i, key=b"customer-%d" % (i % 7))
               for i in range(1000)]
    sim.producer.flush()                     # drives virtual time until all are acknowledged
    print(futures[0].result())               # RecordMetadata(topic='orders', partition=..., offset=...)
    print(sim.now_ms, "ms of virtual time")
    m = sim.producer.metrics()
    print(m["record-send-total"], m["batch-size-avg"], m["send-latency-p99"])
    print(len(sim.cluster.log("orders", 0)), "batches stored in orders-0")

The public API (DESIGN §4) in one breath: ``ProducerConfig.from_dict`` validates Kafka
property names (unknown keys are accepted and named in ``cfg.unknown_keys`` as Kafka
accepts them; ``suggest_key("linger.msec")`` says ``linger.ms``); ``Simulation(config, brokers, topics, replication_factor, seed)`` builds a
seeded world; ``sim.producer.send(...)`` returns a future (``done()``, ``result()``,
``exception()``, ``add_callback``); ``sim.run_for(ms)`` / ``run_until(t)`` / ``step()``
move virtual time; ``flush()`` and ``close()`` drive it while they block;
``sim.cluster.stop_broker(2)`` and friends inject faults; ``sim.cluster.log(topic, p)``
returns the stored RecordBatch v2 bytes; ``sim.snapshot()`` is the UI's JSON state;
``sim.events.subscribe(fn)`` streams typed events; ``sim.enable_trace()`` /
``sim.trace_lines()`` tell the run as text.

Extensions: workloads (``sim.add_workload``), fault scripts (``sim.schedule_faults``),
interceptors and custom partitioners (config), live pacing (``sim.advance``), live
reconfiguration (``sim.reconfigure``).  What is simplified is said in each module's
docstring (no transactions, no real sockets).
"""

from producer_core.config import ProducerConfig, suggest_key, unknown_key_warning
from producer_core.producer import Producer
from producer_core.simulation import Simulation
from producer_core.types import ProducerRecord, RecordMetadata

__all__ = ["Producer", "ProducerConfig", "ProducerRecord", "RecordMetadata", "Simulation",
           "suggest_key", "unknown_key_warning"]
