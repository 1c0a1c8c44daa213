"""Shared setup of the property-based fuzz tests: Hypothesis profiles, a counter of examples run, and the property
every parser must keep - it returns a result or raises the library's one-line `LatentAtlasError`, nothing else.

Profiles (environment variable `LATENTATLAS_FUZZ`): `quick` (the default, `make test`: a few dozen examples per
test), `fuzz` (`make fuzz`: thousands), `soak` (`make soak`: tens of thousands).
"""

from __future__ import annotations

import atexit
import json
import os
from collections import Counter

from hypothesis import HealthCheck, settings

from latentatlas.errors import LatentAtlasError

_COMMON = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("quick", max_examples=30, **_COMMON)
settings.register_profile("fuzz", max_examples=3000, **_COMMON)
settings.register_profile("soak", max_examples=30000, **_COMMON)
settings.load_profile(os.environ.get("LATENTATLAS_FUZZ", "quick"))

EXAMPLES: Counter[str] = Counter()  # examples run per property; benchmarks/bench_reliability.py reads them


@atexit.register
def _write_counts() -> None:
    """With `LATENTATLAS_FUZZ_COUNTS=FILE`, write the examples run per property to FILE (JSON) at exit."""
    path = os.environ.get("LATENTATLAS_FUZZ_COUNTS")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(dict(EXAMPLES), fh)


def result_or_one_line_error(name: str, fn, *args, **kwargs):
    """Call `fn`; return its result, or None when it raised a one-line LatentAtlasError. Any other exception
    (a traceback for the user) fails the test."""
    EXAMPLES[name] += 1
    try:
        return fn(*args, **kwargs)
    except LatentAtlasError as exc:
        text = str(exc)
        assert text and "\n" not in text.strip(), f"not one line: {text!r}"
        assert "Traceback" not in text
        return None
