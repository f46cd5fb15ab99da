"""The mask/polygon model of ground-truth annotation, Qt-free.

* ``document`` — ``MaskDocument``: the pixel mask (canonical), its polygon view, vertex edits, brush and eraser
  strokes, undo/redo (``history``: bounding-box XOR diffs, drags and strokes grouped into one step).
* ``storage`` — open/save MVTec mask PNGs and dataset records (atomic saves, explicit binarisation).
* ``recovery`` — autosave of unsaved edits to a journal and recovery on the next open.

It stands on :mod:`goodsad_studio.geometry` (pixel-exact ``rasterize`` and ``trace``), which the dataset's COCO and
labelme import and export use too. Submodules are imported explicitly, so importing one does not pull in the others.
"""
