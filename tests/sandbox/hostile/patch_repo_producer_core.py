# expect: failed
# ruff: noqa
with open("{{REPO}}/producer_core/__init__.py", "a") as fh:
    fh.write("\nESCAPED = True\n")
print("ESCAPED patched the repo copy")
