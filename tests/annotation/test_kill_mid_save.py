"""A process killed (SIGKILL) at a random moment while saving leaves the old mask or the new one, never a broken
file: saves write a temporary file and replace the mask atomically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from goodsad_studio.dataset.imageio import read_mask

SIZE = 1200
# The child saves two masks in turn, forever. With "slow", file writes go out in small timed pieces (the code under
# test is unchanged; only the window in which a kill lands mid-write is widened, so the test sees such kills).
CHILD = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from goodsad_studio.annotation.document import MaskDocument
    from goodsad_studio.annotation.storage import save_mask

    size, path, slow = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "slow"
    if slow:
        real_fdopen = os.fdopen

        class SlowFile:
            def __init__(self, handle):
                self.handle = handle
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                return self.handle.__exit__(*exc)
            def write(self, data):
                for start in range(0, len(data), 16384):
                    self.handle.write(data[start:start + 16384])
                    self.handle.flush()
                    time.sleep(0.003)
                return len(data)
            def __getattr__(self, name):
                return getattr(self.handle, name)

        os.fdopen = lambda *args, **kwargs: SlowFile(real_fdopen(*args, **kwargs))
    rng = np.random.default_rng(7)
    states = [rng.random((size, size)) < 0.5, rng.random((size, size)) < 0.2]
    doc = MaskDocument(states[0], path)
    save_mask(doc, force=True)
    print("ready", flush=True)
    turn = 1
    while True:
        doc.replace_mask(states[turn])
        save_mask(doc)
        turn = 1 - turn
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX-only")
def test_sigkill_during_saves_always_leaves_a_valid_old_or_new_png(tmp_path):
    path = tmp_path / "ground_truth" / "crack" / "000_mask.png"
    rng = np.random.default_rng(7)
    states = [rng.random((SIZE, SIZE)) < 0.5, rng.random((SIZE, SIZE)) < 0.2]
    pick = np.random.default_rng()
    interrupted_writes = 0
    for round_, mode in enumerate(["fast", "slow", "fast", "slow", "slow"]):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(SIZE), str(path), mode], stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout.readline().strip() == "ready"
            if mode == "slow":  # wait until a write is under way, then kill at a random moment inside it
                deadline = time.monotonic() + 60  # generous: the poll ends once a write is under way
                while not any(p.name.endswith(".tmp") for p in path.parent.iterdir()) and time.monotonic() < deadline:
                    time.sleep(0.002)
                time.sleep(float(pick.uniform(0.0, 0.03)))
            else:
                time.sleep(float(pick.uniform(0.02, 0.4)))
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        mask = read_mask(path)  # raises if the PNG is truncated or corrupt
        assert any(np.array_equal(mask, state) for state in states), (
            f"round {round_}: the file on disk is neither the old nor the new mask"
        )
        leftovers = [p for p in path.parent.iterdir() if p != path]
        assert all(p.name.startswith(f".{path.name}.") and p.name.endswith(".tmp") for p in leftovers)
        interrupted_writes += len(leftovers)
        for leftover in leftovers:
            leftover.unlink()
    assert interrupted_writes >= 1, "no kill landed during a write; the test proved nothing"
