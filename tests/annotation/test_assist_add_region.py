"""MaskDocument.add_region: a tool's region united (or erased) pixel-exactly as one undo step."""

from __future__ import annotations

import numpy as np
import pytest
from shapely import union_all

from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.errors import MaskError
from goodsad_studio.geometry import rasterize


def _region(shape, rows, cols):
    region = np.zeros(shape, bool)
    region[rows, cols] = True
    return region


def test_add_region_unites_pixel_exactly_in_one_undo_step():
    doc = MaskDocument.blank((60, 80))
    doc.paint([(10.5, 10.5)], 3.0)
    before = doc.mask.copy()
    region = _region((60, 80), slice(20, 41), slice(30, 57))
    region[25, 30] = False  # a notch, to show nothing is rounded
    report = doc.add_region(region, "Magic wand")
    assert report.changed_pixels == int(region.sum())
    assert np.array_equal(doc.mask, before | region)
    assert np.array_equal(rasterize(union_all(doc.polygons), doc.shape), doc.mask)
    assert doc.undo() == "Magic wand"
    assert np.array_equal(doc.mask, before)
    assert doc.undo() == "Brush"
    assert doc.redo() == "Brush" and doc.redo() == "Magic wand"
    assert np.array_equal(doc.mask, before | region)


def test_erase_subtracts_the_region():
    doc = MaskDocument.from_mask(_region((40, 40), slice(5, 35), slice(5, 35)))
    cut = _region((40, 40), slice(10, 20), slice(0, 40))
    report = doc.add_region(cut, "Erase region", erase=True)
    assert report.changed_pixels == 10 * 30
    assert np.array_equal(doc.mask, _region((40, 40), slice(5, 35), slice(5, 35)) & ~cut)
    doc.undo()
    assert doc.mask.sum() == 30 * 30


def test_an_empty_or_already_present_region_makes_no_undo_step():
    doc = MaskDocument.from_mask(_region((20, 20), slice(2, 8), slice(2, 8)))
    assert doc.add_region(np.zeros((20, 20), bool), "Grabcut").changed_pixels == 0
    assert doc.add_region(_region((20, 20), slice(3, 5), slice(3, 5)), "Grabcut").changed_pixels == 0
    assert doc.undo() is None


def test_bad_regions_are_refused_with_a_clear_message():
    doc = MaskDocument.blank((20, 30), path="mask.png")
    with pytest.raises(MaskError, match=r"mask.png: the region has shape \(30, 20\).*30x20"):
        doc.add_region(np.zeros((30, 20), bool), "x")
    with pytest.raises(MaskError, match="bool array, got uint8"):
        doc.add_region(np.zeros((20, 30), np.uint8), "x")
