"""Kernel tests start the real kernel; the kernelspecs are installed here, per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.jupyter.harness import KernelHarness, install_test_kernelspecs

install_test_kernelspecs()  # before jupyter_kernel_test's setUpClass looks the spec up


@pytest.fixture(scope="module")
def kernel() -> Iterator[KernelHarness]:
    harness = KernelHarness()
    try:
        yield harness
    finally:
        harness.shutdown()
