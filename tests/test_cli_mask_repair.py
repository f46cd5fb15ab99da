"""``goodsad-studio repair-masks``: the dry run previews and writes nothing, a real run changes exactly the pixels
it said, a read-only dataset is refused before anything is read, and the messages that refuse a mask name it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import build_category

from goodsad_studio.cli import main
from goodsad_studio.dataset import mask_repair
from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.errors import MaskError


@pytest.fixture
def root(tmp_path):
    root = build_category(tmp_path / "data" / "drink_can", names=("000", "001", "002")).parent
    gt = root / "drink_can" / "ground_truth" / "scratch"
    soft = np.zeros((24, 32), np.uint8)
    soft[2:8, 2:8] = 200  # 36 pixels above 127
    soft[10:12, 10:20] = 60  # 20 pixels at or below 127
    soft[20:22, 0:5] = 255  # 10 pixels
    cv2.imwrite(str(gt / "000_mask.png"), soft)
    small = np.zeros((12, 16), np.uint8)
    small[2:5, 2:6] = 255
    cv2.imwrite(str(gt / "001_mask.png"), small)
    return root


def _files(root):
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def test_the_dry_run_lists_each_mask_and_what_would_change_and_writes_nothing(root, capsys):
    before = _files(root)
    assert main(["repair-masks", str(root), "--binarise", "127", "--resize", "--dry-run"]) == 0
    out = capsys.readouterr().out
    soft = root / "drink_can" / "ground_truth" / "scratch" / "000_mask.png"
    small = root / "drink_can" / "ground_truth" / "scratch" / "001_mask.png"
    assert f"would repair {soft}: values 0, 60, 200, 255; foreground is every value above 127: 56 pixels change" in out
    assert f"would repair {small}: scaled from 16x12 to the image's 32x24 by nearest neighbour" in out
    assert "dry run: 2 masks would be repaired, 1 need no repair, 0 left alone, 0 cannot be repaired" in out
    assert "nothing was written" in out
    assert _files(root) == before


def test_binarising_changes_exactly_the_pixels_that_were_neither_0_nor_255(root, capsys):
    soft_path = root / "drink_can" / "ground_truth" / "scratch" / "000_mask.png"
    soft = cv2.imread(str(soft_path), cv2.IMREAD_UNCHANGED)
    original = soft_path.read_bytes()
    assert main(["repair-masks", str(root), "--binarise", "127"]) == 0
    out = capsys.readouterr().out
    written = cv2.imread(str(soft_path), cv2.IMREAD_UNCHANGED)
    changed = written != soft
    assert int(changed.sum()) == 56 and np.array_equal(changed, (soft != 0) & (soft != 255))
    assert np.array_equal(written, np.where(soft > 127, 255, 0))
    assert "left alone:" in out and "001_mask.png: mask is 16x12 but its image 001.png is 32x24 (add --resize" in out
    assert "repaired 1 mask, 1 needed no repair, 1 left alone, 0 cannot be repaired; the originals are in " in out
    trash = root / ".goodsad-studio" / "trash"
    (kept,) = trash.rglob("000_mask.png")
    assert kept.read_bytes() == original and str(kept.parents[3]) in out


def test_resizing_then_nothing_is_left_to_repair(root, capsys):
    assert main(["repair-masks", str(root), "--resize", "--category", "drink_can"]) == 0
    out = capsys.readouterr().out
    assert "repaired 1 mask" in out and "000_mask.png: mask is not binary" in out and "(add --binarise T" in out
    small = read_mask(root / "drink_can" / "ground_truth" / "scratch" / "001_mask.png", shape=(24, 32))
    assert small.sum() == 4 * 3 * 4  # a 3x4 box, each pixel now 2x2
    assert main(["repair-masks", str(root), "--resize", "--dry-run"]) == 0
    assert "dry run: 0 masks would be repaired" in capsys.readouterr().out


def test_a_read_only_dataset_is_refused_and_nothing_changes(root, capsys, monkeypatch):
    before = _files(root)
    monkeypatch.setattr(mask_repair, "is_writable_dir", lambda path: False)
    assert main(["repair-masks", str(root), "--binarise", "127", "--resize"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"goodsad-studio: error: {root}: cannot write here (read-only or no permission)")
    assert "nothing was changed" in err
    assert _files(root) == before
    assert main(["repair-masks", str(root), "--binarise", "127", "--dry-run"]) == 0  # the preview still works
    assert "would repair" in capsys.readouterr().out


def test_bad_arguments_are_refused_with_a_clear_message(root, capsys):
    assert main(["repair-masks", str(root)]) == 2
    assert "needs --binarise T, --resize or both" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["repair-masks", str(root), "--binarise", "255"])
    assert "threshold must be from 0 to 254" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["repair-masks", str(root), "--binarise", "half"])
    assert "not a whole number: 'half'" in capsys.readouterr().err
    assert main(["repair-masks", str(root), "--resize", "--category", "cereal"]) == 2
    assert "no category cereal in this dataset (it has: drink_can)" in capsys.readouterr().err


def test_a_mask_that_cannot_be_repaired_is_named_and_the_exit_status_says_so(root, capsys):
    small = root / "drink_can" / "ground_truth" / "scratch" / "001_mask.png"
    soft_small = np.full((12, 16), 90, np.uint8)
    cv2.imwrite(str(small), soft_small)
    assert main(["repair-masks", str(root), "--resize", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert f"cannot repair: {small}: mask is not binary" in out and "--binarise 127" in out


def test_the_messages_that_refuse_a_mask_name_the_command(root, capsys):
    soft = root / "drink_can" / "ground_truth" / "scratch" / "000_mask.png"
    with pytest.raises(MaskError, match=r"goodsad-studio repair-masks ROOT --binarise 127"):
        read_mask(soft)
    assert main(["info", str(root)]) == 1
    out = capsys.readouterr().out
    assert "binarise it: goodsad-studio repair-masks ROOT --binarise 127" in out
    assert "scale it: goodsad-studio repair-masks ROOT --resize" in out
