"""The mock Kafka cluster the simulated producer talks to (DESIGN §3).

``MockCluster`` holds brokers, topics, partition logs (real RecordBatch v2 bytes with
broker-assigned offsets), a controller (leaders, epochs, ISR, elections after a delay) and
a network model (RTT, bandwidth, per-request cost, seeded jitter).  Faults are data
(``apply_fault``; see ``faults.FAULT_OPS``) so any session can be replayed.
"""

from producer_core.cluster.faults import FAULT_OPS, FaultError, validate_fault, validate_script
from producer_core.cluster.mock import ClusterConfigError, MockCluster
from producer_core.cluster.network import NetworkConfigError, NetworkModel

__all__ = [
           "FAULT_OPS",
           "ClusterConfigError",
           "FaultError",
           "MockCluster",
           "NetworkConfigError",
           "NetworkModel",
           "validate_fault",
           "validate_script",
]
