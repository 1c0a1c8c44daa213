import os
import zlib

import numpy as np
import pytest
import torch

# Tests run on small data; two threads keep them fast without fighting other jobs.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture
def rng(request):
    """A fresh generator per test, seeded from the test's id so a failure reproduces."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
