# SPDX-License-Identifier: MIT
"""Issue 12.4: dirty logging on each mechanism the emulated CPU offers, checked by
a management guest (tests/guests/dirtytest.c): a real-mode payload writes exactly 16
known pages per round; the bitmap fetched between rounds holds exactly those pages,
an idle round none, and after disable the VM runs on."""
import re

import pytest

from test_vmx import mods, BOOT, RUN

# What each model offers (Bochs): Skylake-X has PML and EPT A/D; Haswell EPT A/D only.
MODELS = {"corei7_skylake_x": ("pml", "ept-ad", "write-protect"),
          "corei7_haswell_4770": ("ept-ad", "write-protect")}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_dirty_pages_exactly_on_each_mechanism(machine, model):
    m = machine(emu="bochs", cpus=2, boot="mb2", model=model, cmdline="panic=poweroff mgmt=dirtytest",
                modules=mods("dirtytest"))
    m.wait_for(r"mgmt: starting management guest 'dirtytest'", BOOT)
    m.wait_for(r"(?m)^dirtytest: (passed|FAILED): \d+ failures$", RUN)
    m.wait_for(r"(?m)^dirtytest: done$", 30)
    out = m.output()
    lines = [l for l in out.splitlines() if l.startswith("dirtytest:")]
    print("\n".join(lines))
    assert not [l for l in lines if "ERROR" in l], lines
    assert "dirtytest: passed: 0 failures" in lines, lines
    for mech in ("pml", "ept-ad", "write-protect"):
        if mech in MODELS[model]:
            assert "dirtytest: %s: logging" % mech in lines, lines
            for what in ("at enable", "idle round"):
                assert "dirtytest: %s: %s: 0 pages dirty, exactly the ones written" % (mech, what) in lines
            for what in ("round 1", "round 2"):
                assert "dirtytest: %s: %s: 16 pages dirty, exactly the ones written" % (mech, what) in lines
            # The log says which way it logged: with PML, the CPU's own log had the pages.
            log = [re.match(r"dirtytest: %s: log: dirty logging off \(%s; (\d+) PML entries taken\)"
                            % (mech, mech), l) for l in lines]
            log = [g for g in log if g]
            assert len(log) == 1, lines
            pml = int(log[0].group(1))
            assert pml >= 32 if mech == "pml" else pml == 0, lines
        else:
            assert any(re.match(r"dirtytest: %s: not offered here: the call chose (ept-ad|write-protect)"
                                % mech, l) for l in lines), lines
