"""fsvid2vid.allocator: after keep_freed_memory(), the tensors of a step reuse the pages the previous step freed
(no page fault per page), and FSVID2VID_KEEP_FREED_MEMORY=0 leaves glibc as it is. Each case runs in its own
interpreter: the setting is process-wide and cannot be undone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# A step's worth of tensors (1-50 MiB; glibc maps anything above 32 MiB on its own) allocated, touched and freed four
# times; prints keep_freed_memory()'s answer and the minor page faults of the fourth time.
PROBE = """
import resource, torch
from fsvid2vid.allocator import keep_freed_memory
kept = keep_freed_memory()
def step():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    tensors = [torch.empty(mib * 2**18).fill_(1.0) for mib in (1, 4, 15, 25, 50, 15, 4)]
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del tensors
    return faults
print(kept, [step() for _ in range(4)][-1])
"""
PAGES = (1 + 4 + 15 + 25 + 50 + 15 + 4) * 2**20 // 4096


def probe(env_value: str | None) -> tuple[bool, int]:
    env = {k: v for k, v in os.environ.items() if k != "FSVID2VID_KEEP_FREED_MEMORY"}
    if env_value is not None:
        env["FSVID2VID_KEEP_FREED_MEMORY"] = env_value
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True).stdout
    kept, faults = out.split()
    return kept == "True", int(faults)


def transparent_huge_pages_always() -> bool:
    try:
        return "[always]" in Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="keep_freed_memory acts on glibc (Linux) only")
def test_freed_memory_is_reused_without_page_faults_and_the_variable_turns_it_off():
    kept, faults = probe(None)
    assert kept
    assert faults < PAGES // 10, f"{faults} page faults touching {PAGES} pages the last step freed"
    kept, faults = probe("0")
    assert not kept
    if not transparent_huge_pages_always():  # with 2 MiB pages the fresh mapping faults 512x less
        assert faults > PAGES // 5, f"only {faults} faults: glibc reuses the blocks anyway; the test is moot"


def test_the_command_line_keeps_freed_memory(monkeypatch):
    import fsvid2vid.cli as cli

    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append(1))
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert calls == [1]
