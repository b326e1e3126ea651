"""Exercise 4: a metrics collector (think Micrometer meters) for the producer.

The harness calls record_completion(topic, sent_ms, done_ms, error) once per record
(error: the exception's class name, or None when acknowledged) and sample(metrics) once
per second with producer.metrics(); at the end it calls report(). The run lasts 20 s.
"""


class Collector:
    def __init__(self):
        pass

    def record_completion(self, topic, sent_ms, done_ms, error):
        pass

    def sample(self, metrics):
        pass

    def report(self):
        return {"records_per_s": {}, "batch_size_avg": 0.0, "buffer_utilisation_pct": 0.0,
                "latency_ms": {"p50": 0.0, "p95": 0.0, "p99": 0.0}, "error_rate_per_s": {}}
