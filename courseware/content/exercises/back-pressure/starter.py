"""Exercise 3: back-pressure.

tick(metrics, now_ms) is called every 100 ms of virtual time with producer.metrics(); return
{"rate": records/s you want to produce now, "alert": bool}. on_complete(record_id, error)
is called once per record (error: the exception's class name, or None when acknowledged —
a max.block.ms timeout arrives as BufferExhaustedError). report() is called at the end.
"""


class Controller:
    def __init__(self, base_rate):
        self.base_rate = base_rate

    def tick(self, metrics, now_ms):
        return {"rate": self.base_rate, "alert": False}

    def on_complete(self, record_id, error):
        pass

    def report(self):
        return {"acked": 0, "failed": []}
