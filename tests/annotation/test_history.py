"""Edit history: box-limited XOR patches, grouping, undo/redo stacks and the saved marker."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.annotation.history import EditHistory, Patch


def test_patch_is_cut_to_the_changed_pixels_and_undoes_and_redoes():
    before = np.zeros((300, 400), bool)
    after = before.copy()
    after[100:103, 200:210] = True
    after[150, 205] = True
    patch = Patch.from_xor(0, 0, before ^ after)
    assert patch.box == (100, 200, 151, 210)
    assert patch.changed_pixels == 31
    assert patch.nbytes <= (51 * 10) // 8 + 1  # packed bits of the box, not the image
    mask = after.copy()
    patch.apply(mask)
    assert np.array_equal(mask, before)
    patch.apply(mask)
    assert np.array_equal(mask, after)


def test_no_change_gives_no_patch():
    assert Patch.from_xor(5, 5, np.zeros((4, 4), bool)) is None


def test_composed_patches_equal_applying_them_in_turn():
    rng = np.random.default_rng(3)
    mask = rng.random((50, 60)) < 0.3
    start = mask.copy()
    patches = []
    for _ in range(6):
        y0, x0 = rng.integers(0, 40, 2)
        region = rng.random((10, 15)) < 0.5
        current = mask[y0 : y0 + 10, x0 : x0 + 15]
        patches.append(Patch.from_xor(int(y0), int(x0), current ^ region))
        current[...] = region
    total = Patch.compose(p for p in patches if p is not None)
    replay = start.copy()
    total.apply(replay)
    assert np.array_equal(replay, mask)


def _step(history: EditHistory, label: str, y: int) -> None:
    history.begin(label)
    xor = np.zeros((3, 3), bool)
    xor[1, 1] = True
    history.record(Patch.from_xor(y, 0, xor))
    history.end()


def test_undo_redo_order_and_a_new_edit_clears_redo():
    history = EditHistory()
    for i, label in enumerate("abc"):
        _step(history, label, i)
    assert history.undo_label == "c"
    assert history.pop_undo().label == "c"
    assert history.pop_undo().label == "b"
    assert history.redo_label == "b" and history.redo_count == 2
    assert history.pop_redo().label == "b"
    _step(history, "d", 9)
    assert not history.can_redo and history.pop_redo() is None
    assert [history.pop_undo().label for _ in range(3)] == ["d", "b", "a"]
    assert history.pop_undo() is None


def test_a_group_of_many_changes_is_one_step_and_empty_groups_leave_none():
    history = EditHistory()
    history.begin("stroke")
    for y in range(10):
        history.begin("segment")  # nested groups join the outer one
        xor = np.zeros((2, 2), bool)
        xor[0, 0] = True
        history.record(Patch.from_xor(y * 2, 0, xor))
        history.end()
    assert not history.can_undo  # nothing to undo while a group is open
    step = history.end()
    assert len(history) == 1 and step.label == "stroke" and step.patch.changed_pixels == 10
    history.begin("nothing")
    assert history.end() is None and len(history) == 1


def test_saved_marker_follows_undo_and_redo():
    history = EditHistory()
    assert history.at_saved_state
    _step(history, "a", 0)
    assert not history.at_saved_state
    history.mark_saved()
    _step(history, "b", 1)
    history.pop_undo()
    assert history.at_saved_state
    history.pop_undo()
    assert not history.at_saved_state
    history.pop_redo()
    assert history.at_saved_state
    # a new edit after undoing past the save makes the saved state unreachable
    history.pop_undo()
    _step(history, "c", 2)
    history.pop_undo()
    assert not history.at_saved_state


def test_misuse_is_refused():
    history = EditHistory()
    with pytest.raises(RuntimeError):
        history.end()
    with pytest.raises(RuntimeError):
        history.record(None)
