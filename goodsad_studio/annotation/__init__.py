"""The mask/polygon model of ground-truth annotation, Qt-free.

* ``geometry`` — pixel-exact ``rasterize`` (polygons -> mask, pixel-centre rule) and ``trace`` (mask -> polygons
  with holes along pixel edges); ``rasterize(trace(m), m.shape) == m`` for every mask.
* ``document`` — ``MaskDocument``: the pixel mask (canonical), its polygon view, vertex edits, brush and eraser
  strokes, undo/redo (``history``: bounding-box XOR diffs, drags and strokes grouped into one step).
* ``storage`` — open/save MVTec mask PNGs and dataset records (atomic saves, explicit binarisation).
* ``recovery`` — autosave of unsaved edits to a journal and recovery on the next open.

Submodules are imported explicitly (``from goodsad_studio.annotation.geometry import trace``) so that importing
the geometry does not pull in the dataset or document layers.
"""
