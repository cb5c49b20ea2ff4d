"""Runs every corpus test (tests/corpus/test_*.py); prints `N passed, M failed`, exits 1 on a failure.

Needs the release binaries (cargo build --release) and the corpus (see harness.py)."""
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402

if not os.path.exists(harness.CORPUS):
    print(f"corpus not found: {harness.CORPUS}")
    sys.exit(1)

only = sys.argv[1:]
tests = []
for name in sorted(os.listdir(HERE)):
    if name.startswith("test_") and name.endswith(".py"):
        module = importlib.import_module(name[:-3])
        for fn_name, fn in sorted(vars(module).items()):
            if fn_name.startswith("test_") and callable(fn) and (not only or any(o in f"{name}:{fn_name}" for o in only)):
                tests.append((f"{name[:-3]}.{fn_name}", fn))
sys.exit(harness.run_tests(tests))
