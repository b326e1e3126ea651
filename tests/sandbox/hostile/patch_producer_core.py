# expect: failed
# ruff: noqa
import os
import producer_core
root = os.path.dirname(producer_core.__file__)
with open(os.path.join(root, "__init__.py"), "a") as fh:
    fh.write("\nESCAPED = True\n")
print("ESCAPED patched", root)
