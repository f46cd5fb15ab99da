"""A full disk (ENOSPC) under every command that writes: one message naming the file and saying the disk is full,
exit 2, the dataset as it was, no temporary file left behind. And a real full tmpfs where the test may mount one."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess

import pytest

from goodsad_studio.dataset.export_coco import build_coco
from goodsad_studio.dataset.imageio import read_mask, write_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import DiskFullError, WriteError
from goodsad_studio.fsutil import atomic_write_bytes, atomic_write_text

from .helpers import (
    BOX,
    DEFECT_MASK,
    assert_no_traceback,
    assert_one_error_line,
    checksums,
    engine_argv,
    leftover_temp_files,
    run_cli,
)


def _says_disk_full(line: str) -> bool:
    lowered = line.lower()
    return "disk" in lowered or "space" in lowered


# Each sets up what its command needs (with the disk still fine) and returns (argv, folders it writes into).
def _import_coco(root, tmp, capsys):
    coco, _ = build_coco(scan_dataset(root))
    for annotation in coco["annotations"]:  # every mask changes: the import has to write
        annotation["segmentation"] = [BOX]
    source = tmp / "coco-in" / "coco.json"
    source.parent.mkdir()
    source.write_text(json.dumps(coco))
    return ["import-coco", root, source], [source.parent]


def _export_coco(root, tmp, capsys):
    (tmp / "coco-out").mkdir()
    return ["export-coco", root, tmp / "coco-out" / "coco.json"], [tmp / "coco-out"]


def _demo(root, tmp, capsys):
    dest = tmp / "demo"
    return ["demo", dest, "--size", "64", "--goods", "1", "--categories", "drink_can"], [dest]


def _predict_out(root, tmp, capsys):
    assert run_cli(engine_argv("predict", root), capsys)[0] == 0  # fitted and cached: only --out is left to write
    return engine_argv("predict", root, tmp / "maps"), [tmp / "maps"]


def _evaluate_out(root, tmp, capsys):
    assert run_cli(engine_argv("evaluate", root, tmp / "first-report"), capsys)[0] == 0
    return engine_argv("evaluate", root, tmp / "report"), [tmp / "report"]


def _fit(root, tmp, capsys):
    return engine_argv("fit", root), []


COMMANDS = {
    "import-coco": _import_coco,
    "export-coco": _export_coco,
    "demo": _demo,
    "predict --out": _predict_out,
    "evaluate --out": _evaluate_out,
    "fit": _fit,
}


@pytest.mark.parametrize("setup", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_full_disk_is_one_message_exit_2_and_nothing_changed(dataset, tmp_path, capsys, disk_full, setup):
    argv, written = setup(dataset, tmp_path, capsys)
    before = checksums(dataset)
    disk_full.start()
    status, out, err = run_cli(argv, capsys)
    assert status == 2, out + err
    line = assert_one_error_line(err, only_line=False)
    assert _says_disk_full(line), line
    assert str(tmp_path) in line, f"the message names no file of the command: {line}"
    assert_no_traceback(out, err)
    assert checksums(dataset) == before
    assert leftover_temp_files(dataset, *written) == []
    assert disk_full.calls  # the write really was attempted


def test_export_coco_on_a_full_disk_leaves_no_file(dataset, tmp_path, capsys, disk_full):
    dest = tmp_path / "coco.json"
    disk_full.start()
    assert run_cli(["export-coco", dataset, dest], capsys)[0] == 2
    assert not dest.exists() and leftover_temp_files(tmp_path) == []


def test_a_demo_that_runs_out_of_disk_leaves_no_half_dataset(tmp_path, capsys, disk_full):
    dest = tmp_path / "new" / "demo"
    disk_full.start()
    assert run_cli(["demo", dest, "--size", "64", "--goods", "1", "--categories", "drink_can"], capsys)[0] == 2
    assert not dest.exists(), sorted(dest.rglob("*"))


@pytest.mark.parametrize(
    "write",
    [
        lambda path: atomic_write_bytes(path, b"new contents"),
        lambda path: atomic_write_text(path, "new contents"),
    ],
    ids=["atomic_write_bytes", "atomic_write_text"],
)
def test_atomic_writes_raise_disk_full_naming_the_target_and_keep_the_old_file(tmp_path, disk_full, write):
    target = tmp_path / "kept.txt"
    target.write_bytes(b"old contents")
    disk_full.start()
    with pytest.raises(DiskFullError) as caught:
        write(target)
    assert caught.value.path == target and str(target) in str(caught.value)
    assert isinstance(caught.value, WriteError)
    assert target.read_bytes() == b"old contents"
    assert leftover_temp_files(tmp_path) == []


def test_write_mask_on_a_full_disk_raises_disk_full_and_keeps_the_mask(dataset, disk_full):
    path = dataset / DEFECT_MASK
    old = read_mask(path)
    disk_full.start()
    with pytest.raises(DiskFullError) as caught:
        write_mask(path, ~old)
    assert caught.value.path == path
    assert (read_mask(path) == old).all() and leftover_temp_files(dataset) == []


@contextlib.contextmanager
def _small_tmpfs(folder):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the simulated full disk above covers the rest)")
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def _fill(folder):
    with (folder / "filler").open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_really_full_tmpfs_raises_disk_full_and_keeps_the_old_file(tmp_path):
    with _small_tmpfs(tmp_path / "small") as folder:
        target = folder / "kept.bin"
        target.write_bytes(b"old contents")
        _fill(folder)
        with pytest.raises(DiskFullError) as caught:
            atomic_write_bytes(target, b"x" * 65536)
        assert caught.value.path == target
        assert target.read_bytes() == b"old contents"
        assert leftover_temp_files(folder) == []
