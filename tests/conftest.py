"""Fixtures shared by the test modules."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A float64 random generator with a fixed seed: every test sees the same draws."""
    return np.random.default_rng(20240611)


def count_page_faults(script: str, *args: str) -> dict:
    """Run ``script`` in a fresh process whose page-fault counts mean something.

    glibc raises its mmap threshold as large blocks are freed, which can hide a fresh
    array per step; pinning the threshold (and BLAS to one thread) makes every new
    batch-sized array cost page faults. ``script`` prints a JSON object of counts.
    """
    pytest.importorskip("resource")
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("MALLOC_MMAP_THRESHOLD_ is a glibc setting")
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
