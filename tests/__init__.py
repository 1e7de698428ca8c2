"""The test suite. Imported before its conftest, so the setting below holds for every process of a run."""

import os
import sys

# With PYTHONDONTWRITEBYTECODE (or -B) every process of a run compiled the service's modules from source
# again: each test worker, each `assist serve` or `assist token` child, each worker process the service
# spawns — over a hundred a run, about a third of a second of CPU each (and pytest re-rewrote every test
# module in each worker). The suite keeps their bytecode in the gitignored __pycache__ directories; the
# children it starts inherit the environment without the variable.
if sys.dont_write_bytecode:
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
