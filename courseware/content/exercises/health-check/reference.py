"""Exercise 5 reference: a health indicator over the last minute of producer metrics."""


def _delta(history, key, seconds):
    now = history[-1]
    old = history[max(0, len(history) - 1 - seconds)]
    return now[key] - old[key]


def check_health(history):
    now = history[-1]
    used = 1 - now["buffer-available-bytes"] / (now["buffer-total-bytes"] or 1)
    acked10 = _delta(history, "records-acked-total", 10)
    sent10 = _delta(history, "record-send-total", 10)
    acked60 = _delta(history, "records-acked-total", 60)
    errors60 = _delta(history, "record-error-total", 60)
    done60 = acked60 + errors60
    # Sustained: errors grew in each of the six 10-second windows of the last minute.
    sustained = len(history) >= 61 and all(
        history[-1 - 10 * i]["record-error-total"] > history[-11 - 10 * i]["record-error-total"]
        for i in range(6))
    checks = {
        "cluster": acked10 > 0 or sent10 == 0,
        "buffer": used < 0.80,
        "success_rate": acked60 / done60 > 0.99 if done60 else True,
        "sustained_failures": not sustained,
    }
    return {"status": "UP" if all(checks.values()) else "DOWN", "checks": checks}
