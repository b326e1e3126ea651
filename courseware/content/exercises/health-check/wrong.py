"""A plausible wrong attempt: 90 % pool threshold, success rate over 10 s only, and no
memory of sustained failures."""


def check_health(history):
    now, old = history[-1], history[max(0, len(history) - 11)]
    used = 1 - now["buffer-available-bytes"] / now["buffer-total-bytes"]
    acked = now["records-acked-total"] - old["records-acked-total"]
    errors = now["record-error-total"] - old["record-error-total"]
    checks = {
        "cluster": acked > 0,
        "buffer": used < 0.90,
        "success_rate": errors == 0 or acked / (acked + errors) > 0.99,
        "sustained_failures": True,
    }
    return {"status": "UP" if all(checks.values()) else "DOWN", "checks": checks}
