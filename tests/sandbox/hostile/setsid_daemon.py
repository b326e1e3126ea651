# expect: contained
# ruff: noqa
import os
import time
# A daemonised grandchild must not survive the run.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(30)
        os._exit(0)
    os._exit(0)
print("left a daemon behind")
