"""A plausible wrong attempt: never slows down, alerts on the first full tick, and only
counts the records that succeeded."""


class Controller:
    def __init__(self, base_rate):
        self.base_rate = base_rate
        self.acked = 0

    def tick(self, metrics, now_ms):
        used = 1 - metrics["buffer-available-bytes"] / metrics["buffer-total-bytes"]
        return {"rate": self.base_rate, "alert": used >= 0.9}

    def on_complete(self, record_id, error):
        if error is None:
            self.acked += 1

    def report(self):
        return {"acked": self.acked, "failed": []}
