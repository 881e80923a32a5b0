"""keep_freed_memory: large freed blocks are reused instead of faulted in again (glibc)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

_PROBE = """
import resource, sys
import torch
from bigsmall.training.allocator import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "on" else False
torch.manual_seed(0)
conv = torch.nn.Conv2d(3, 32, 3, padding=1)
x = torch.randn(16, 3, 144, 144)  # conv output: 16 x 32 x 144^2 float32 = 42 MB, as in Big


def step():
    conv.zero_grad(set_to_none=True)
    torch.relu(conv(x)).square().mean().backward()


for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(applied, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def _faults_per_alloc(mode: str) -> tuple[bool, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0] == "True", float(out[1])


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_freed_blocks_are_reused_not_faulted_in_again():
    applied_off, off = _faults_per_alloc("off")
    applied_on, on = _faults_per_alloc("on")
    pages = 16 * 32 * 144 * 144 * 4 / 4096  # one 42 MB activation
    assert not applied_off and applied_on
    assert off > 2 * pages  # default glibc: the step's large buffers are new pages each time
    assert on < off / 20  # kept in the heap: few new pages
