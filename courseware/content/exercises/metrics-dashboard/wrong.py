"""A plausible wrong attempt: the mean passed off as every percentile, and one error rate
for all error types."""

from collections import Counter


class Collector:
    def __init__(self):
        self.acked = Counter()
        self.failed = 0
        self.latencies = []
        self.metrics = {}

    def record_completion(self, topic, sent_ms, done_ms, error):
        if error:
            self.failed += 1
        else:
            self.acked[topic] += 1
        self.latencies.append(done_ms - sent_ms)

    def sample(self, metrics):
        self.metrics = metrics

    def report(self):
        mean = sum(self.latencies) / max(1, len(self.latencies))
        m = self.metrics
        return {
            "records_per_s": {t: n / 20.0 for t, n in self.acked.items()},
            "batch_size_avg": m.get("batch-size-avg", 0.0),
            "buffer_utilisation_pct": 100.0 * (1 - m["buffer-available-bytes"]
                                               / m["buffer-total-bytes"]),
            "latency_ms": {"p50": mean, "p95": mean, "p99": mean},
            "error_rate_per_s": {"errors": self.failed / 20.0},
        }
