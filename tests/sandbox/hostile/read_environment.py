# expect: failed
# ruff: noqa
import os
print(sorted(os.environ))
for line in open("/proc/1/environ", "rb").read().split(b"\0"):
    print(line)
raise SystemExit(0 if "{{CANARY_ENV}}" not in os.environ else 3)
