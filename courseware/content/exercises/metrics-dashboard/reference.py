"""Exercise 4 reference: a collector in the spirit of Micrometer meters."""

import math
from collections import Counter

# sample() comes once per second of virtual time, so the samples count the seconds so far
# (20 at the end of the run); report() is read every second, as a dashboard would be.


class Collector:
    def __init__(self):
        self.acked = Counter()       # records acknowledged, by topic
        self.errors = Counter()      # failed records, by exception type
        self.latencies = []          # send -> completion, ms
        self.utilisation = []        # buffer pool used, %, one per sample
        self.last_metrics = {}

    def record_completion(self, topic, sent_ms, done_ms, error):
        if error:
            self.errors[error] += 1
        else:
            self.acked[topic] += 1
            self.latencies.append(done_ms - sent_ms)

    def sample(self, metrics):
        self.last_metrics = metrics
        total = metrics["buffer-total-bytes"]
        self.utilisation.append(100.0 * (1 - metrics["buffer-available-bytes"] / total))

    @staticmethod
    def _percentile(xs, q):
        return float(xs[max(0, math.ceil(q * len(xs)) - 1)]) if xs else 0.0

    def report(self):
        seconds = max(1, len(self.utilisation))
        xs = sorted(self.latencies)
        return {
            "records_per_s": {t: n / seconds for t, n in self.acked.items()},
            "batch_size_avg": self.last_metrics.get("batch-size-avg", 0.0),
            "buffer_utilisation_pct": sum(self.utilisation) / seconds,
            "latency_ms": {"p50": self._percentile(xs, 0.50), "p95": self._percentile(xs, 0.95),
                           "p99": self._percentile(xs, 0.99)},
            "error_rate_per_s": {e: n / seconds for e, n in self.errors.items()},
        }
