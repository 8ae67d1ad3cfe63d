"""Integration tests: the real box as a subprocess against real SIP peers (sipp, baresip).

The helpers live in `tests.peers` and `tests.integration`; `tests` has no __init__.py
(it is a namespace package), so the repository root goes on sys.path here, before
pytest imports conftest.py.
"""

import sys
from pathlib import Path

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)
