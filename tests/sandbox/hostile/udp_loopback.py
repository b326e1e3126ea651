# expect: failed
# ruff: noqa
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", {{PORT}}))
s.send(b"ESCAPED")
print("sent (no route expected)")
raise SystemExit(1)
