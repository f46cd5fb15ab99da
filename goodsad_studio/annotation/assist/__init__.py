"""Assisted outlining: tools that turn a few clicks into a pixel-exact defect region, Qt-free.

Each tool returns a full-size bool mask that the canvas hands to
:meth:`goodsad_studio.annotation.document.MaskDocument.add_region` (one undo step), computed on a work crop around
the interaction only (:mod:`.crop`), so a step on a 3000x3000 image costs what a step on the crop costs.

* ``prompts`` — the clicks, boxes and scribbles every tool takes (image coordinates, pixel centres at +0.5).
* ``grabcut`` — a box and/or scribbles and clicks segmented by OpenCV's GrabCut.
* ``live_wire`` — click along the edge: intelligent scissors between anchors, closed into a filled outline.
* ``magic_wand`` — flood fill from a click within a colour tolerance (Lab, RGB or gray).
* ``heatmap_seeded`` — the anomaly heatmap above a threshold seeds GrabCut; the region under the cursor is the draft.
* ``segmenter`` — the interface a SAM-class model plugs into, with the built-in GrabCut one and an ONNX one.

Submodules are imported explicitly (``onnxruntime`` is loaded only by :class:`.segmenter.OnnxSegmenter`).
"""
