"""Exercise 3 reference: slow down above 90 %, alert after 2 s full, count every record."""


class Controller:
    def __init__(self, base_rate):
        self.base_rate = base_rate
        self.full_since = None
        self.acked = 0
        self.failed = []

    def tick(self, metrics, now_ms):
        used = 1 - metrics["buffer-available-bytes"] / metrics["buffer-total-bytes"]
        if used >= 0.9:
            if self.full_since is None:
                self.full_since = now_ms
            alert = now_ms - self.full_since >= 2000
            return {"rate": self.base_rate * 0.2, "alert": alert}
        self.full_since = None
        return {"rate": self.base_rate, "alert": False}

    def on_complete(self, record_id, error):
        # A max.block.ms timeout (BufferExhaustedError) arrives here too: the record failed.
        if error:
            self.failed.append(record_id)
        else:
            self.acked += 1

    def report(self):
        return {"acked": self.acked, "failed": self.failed}
