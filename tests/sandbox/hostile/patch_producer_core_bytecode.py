# expect: failed
# ruff: noqa
# The trusted side compiles producer_core's bytecode beside its sources; a run that could
# replace a .pyc would change the package for every later run (and for the grader).
import importlib.util
import producer_core
import producer_core.producer as target

for module in (producer_core, target):
    pyc = importlib.util.cache_from_source(module.__file__)
    data = open(pyc, "rb").read()
    with open(pyc, "r+b") as fh:
        fh.write(data)
    print("ESCAPED rewrote", pyc)
