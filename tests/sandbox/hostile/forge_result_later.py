# expect: killed=wall
# ruff: noqa
import os
import time
# A child that outlives the program and rewrites the result after the run must die with it.
if os.fork() == 0:
    os.setsid()
    time.sleep(1.5)
    open("{{REPO}}/forged.json", "w").write('{"score": 1.0}')
    open("result.json", "w").write('{"score": 1.0, "ESCAPED": true}')
    os._exit(0)
open("result.json", "w").write('{"score": 0.5}')
time.sleep(60)
