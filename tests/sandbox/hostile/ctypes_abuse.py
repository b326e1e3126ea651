# expect: failed
# ruff: noqa
import ctypes
libc = ctypes.CDLL(None)
print("setuid(0) ->", libc.setuid(0))
if libc.setuid(0) == 0:
    print("ESCAPED root")
ctypes.string_at(0)  # segfault
