# expect: failed
# ruff: noqa
print("ESCAPED", open("{{DB}}", "rb").read(100))
