# SPDX-License-Identifier: MIT
"""Shared fixtures: boot the real image under QEMU or Bochs."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import emu  # noqa: E402


@pytest.fixture
def machine(tmp_path):
    """Factory: machine(emu=..., cpus=..., cmdline=...) -> a started emu.Machine."""
    started = []

    def make(**kw):
        m = emu.Machine(workdir=str(tmp_path / ("m%d" % len(started))), **kw)
        started.append(m)
        return m.start()

    yield make
    for m in started:
        m.kill()
