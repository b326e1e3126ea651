# expect: failed
# ruff: noqa
import os
print(os.listdir("/proc"))
print("ESCAPED", open("/proc/{{HOSTPID}}/environ", "rb").read())
