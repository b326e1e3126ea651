# expect: failed
# ruff: noqa
import threading
import time
threads = []
while True:
    t = threading.Thread(target=time.sleep, args=(60,))
    t.start()
    threads.append(t)
