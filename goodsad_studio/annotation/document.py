"""The mask document of one image: a pixel mask, its polygon view, and the edit history.

The canonical state is the pixel mask at native resolution (docs/adr/0003-pixel-convention.md): it is what is
drawn, saved and measured. The polygons are a view of it (:class:`~goodsad_studio.annotation.view.ShapeView`)
whose pixels always equal the mask, so polygon edits and brush strokes mix freely in any order, and the file on
disk is exactly what the user sees. Every edit is one undo step; a vertex drag (:meth:`MaskDocument.drag_vertex`)
or a brush stroke (:meth:`MaskDocument.begin_stroke`) groups its many small changes into one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry, BaseMultipartGeometry

from goodsad_studio.annotation import shapes as ops
from goodsad_studio.annotation.brush import segment_footprint
from goodsad_studio.annotation.history import EditHistory, Patch, Step
from goodsad_studio.annotation.view import Box, ShapeView, pixel_box, raster_in, union_box
from goodsad_studio.errors import MaskError
from goodsad_studio.geometry import rasterize_region

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class EditReport:
    """What an edit did: pixels changed, notes for the user (repairs, clipping), indices of the shapes made."""

    label: str
    changed_pixels: int
    notes: tuple[str, ...] = ()
    shapes: tuple[int, ...] = ()


class MaskDocument:
    """One image's ground truth being edited. Create with :meth:`blank`, :meth:`from_mask` or
    :func:`goodsad_studio.annotation.storage.open_mask`."""

    def __init__(self, mask: np.ndarray, path: str | Path | None = None, *, notes: Sequence[str] = ()) -> None:
        mask = np.asarray(mask)
        if mask.ndim != 2 or mask.dtype != bool:
            raise ValueError(f"a mask document needs a 2-D bool array, got {mask.dtype} {mask.shape}")
        self._mask = np.array(mask, dtype=bool, copy=True, order="C")
        self.path = Path(path) if path is not None else None
        self.notes: list[str] = list(notes)
        self.history = EditHistory()
        self._view = ShapeView.of_mask(self._mask)
        self._differs_from_disk = False
        self._changes = 0
        #: (size, mtime ns) of the mask file when it was opened or last saved; None when there is no file
        self.disk_signature: tuple[int, int] | None = None
        #: whether the mask file's content when opened or last saved is known (``disk_digest``): only then can a
        #: save tell that another editor changed the file since (documents made from arrays are not tracked)
        self.disk_tracked = False
        #: SHA-256 of the mask file when opened or last saved; None when there was no file
        self.disk_digest: str | None = None

    @classmethod
    def blank(cls, shape: tuple[int, int], path: str | Path | None = None) -> MaskDocument:
        return cls(np.zeros(shape, bool), path)

    @classmethod
    def from_mask(cls, mask: np.ndarray, path: str | Path | None = None) -> MaskDocument:
        return cls(np.asarray(mask).astype(bool), path)

    # ------------------------------------------------------------------------------------ reading
    @property
    def shape(self) -> tuple[int, int]:
        return self._mask.shape

    @property
    def mask(self) -> np.ndarray:
        """The mask as a read-only view (edits go through the document so they can be undone)."""
        view = self._mask.view()
        view.flags.writeable = False
        return view

    @property
    def polygons(self) -> list[Polygon]:
        """The editable shapes; their pixels are disjoint and together equal :attr:`mask`."""
        return self._view.shapes(self._mask)

    @property
    def modified(self) -> bool:
        """True when the mask differs from the file it was opened from (or when there is no file yet and the
        mask was edited)."""
        return self._differs_from_disk or not self.history.at_saved_state

    @property
    def change_count(self) -> int:
        """Grows on every edit, undo or redo (autosave compares it)."""
        return self._changes

    def mark_saved(self, path: Path) -> None:
        """Called after the mask was written to ``path``."""
        self.path = path
        self.history.mark_saved()
        self._differs_from_disk = False

    def mark_differs_from_disk(self, note: str) -> None:
        """The mask in memory is not what the file holds (it was binarised, or recovered from a journal)."""
        self._differs_from_disk = True
        self.notes.append(note)

    # ------------------------------------------------------------------------------------ low level
    @contextlib.contextmanager
    def edit(self, label: str) -> Iterator[None]:
        """Group every change inside into one undo step."""
        self.begin_edit(label)
        try:
            yield
        finally:
            self.end_edit()

    def begin_edit(self, label: str) -> None:
        self.history.begin(label, self._view.state())

    def end_edit(self) -> Step | None:
        step = self.history.end(self._view.state())
        if step is not None:
            self._changes += 1
        return step

    def _write(self, box: Box, region: np.ndarray) -> int:
        """Set the mask in ``box`` to ``region``, recording the change; returns the number of pixels changed."""
        y0, x0, y1, x1 = box
        current = self._mask[y0:y1, x0:x1]
        patch = Patch.from_xor(y0, x0, current ^ region)
        if patch is None:
            return 0
        current[...] = region
        self.history.record(patch)
        return patch.changed_pixels

    # ------------------------------------------------------------------------------------ undo / redo
    def undo(self) -> str | None:
        """Undo the last step; returns its label, or None when there is nothing to undo."""
        step = self.history.pop_undo()
        if step is None:
            return None
        if step.patch is not None:
            step.patch.apply(self._mask)
        self._view.restore(step.before)
        self._changes += 1
        return step.label

    def redo(self) -> str | None:
        step = self.history.pop_redo()
        if step is None:
            return None
        if step.patch is not None:
            step.patch.apply(self._mask)
        self._view.restore(step.after)
        self._changes += 1
        return step.label

    # ------------------------------------------------------------------------------------ whole masks
    def replace_mask(self, mask: np.ndarray, label: str = "Replace mask") -> EditReport:
        """Set the whole mask (e.g. recovered edits or a binarised file) as one undoable step."""
        mask = np.asarray(mask)
        if mask.shape != self.shape:
            raise MaskError(
                f"mask is {mask.shape[1]}x{mask.shape[0]} but the image is "
                f"{self.shape[1]}x{self.shape[0]} (width x height)",
                self.path,
            )
        with self.edit(label):
            changed = self._write((0, 0, *self.shape), mask.astype(bool))
            self._view.mark_dirty((0, 0, *self.shape))
        return EditReport(label, changed)

    def add_region(self, region: np.ndarray, label: str, *, erase: bool = False) -> EditReport:
        """Unite a full-size bool region with the mask (or, with ``erase``, cut it out) as one undo step.

        The outlining tools (goodsad_studio/annotation/assist/) answer with such a region; only its bounding box
        is diffed and recorded, and the shapes there are traced again on next use, so the result is exactly
        the region's pixels.
        """
        region = np.asarray(region)
        if region.shape != self.shape:
            raise MaskError(
                f"the region has shape {region.shape} (rows, columns) but the image is "
                f"{self.shape[1]}x{self.shape[0]} (width x height)",
                self.path,
            )
        if region.dtype != bool:
            raise MaskError(f"a region must be a bool array, got {region.dtype}", self.path)
        rows = np.flatnonzero(region.any(axis=1))
        if len(rows) == 0:
            return EditReport(label, 0, ("the region is empty: nothing changed",))
        cols = np.flatnonzero(region[rows[0] : rows[-1] + 1].any(axis=0))
        box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
        y0, x0, y1, x1 = box
        part = region[y0:y1, x0:x1]
        current = self._mask[y0:y1, x0:x1]
        with self.edit(label):
            changed = self._write(box, current & ~part if erase else current | part)
            if changed:
                self._view.mark_dirty(box)
        return EditReport(label, changed)

    # ------------------------------------------------------------------------------------ brush / eraser
    def begin_stroke(self, radius: float, *, erase: bool = False) -> Stroke:
        """Start a brush (or eraser) stroke; add points as the pointer moves, then :meth:`Stroke.end`."""
        return Stroke(self, radius, erase)

    def paint(self, points: Sequence[Point], radius: float, *, erase: bool = False) -> EditReport:
        """A whole stroke through ``points`` in one call (one undo step)."""
        stroke = self.begin_stroke(radius, erase=erase)
        for point in points:
            stroke.add(point)
        return stroke.end()

    # ------------------------------------------------------------------------------------ polygons
    def _shape(self, index: int) -> Polygon:
        shapes = self.polygons
        if not 0 <= index < len(shapes):
            raise ops.ShapeEditError(f"polygon {index} does not exist (the mask has {len(shapes)} polygons)")
        return shapes[index]

    def _replace(
        self, label: str, remove: list[int], geom: BaseGeometry | None, notes: list[str] | None = None
    ) -> EditReport:
        """Swap shapes ``remove`` for ``geom`` (repaired and clipped first), in pixels and in the view."""
        notes = list(notes or [])
        if geom is not None:
            geom, repair_notes = ops.repair(geom, self.shape)
            notes += repair_notes
        shapes = self.polygons
        added = None if geom is None or geom.is_empty else rasterize_region(geom, self.shape)
        if geom is not None and not geom.is_empty and added is None:
            notes.append("the polygon covers no pixel centre, so it adds no pixels")
        old_boxes = [pixel_box(shapes[i], self.shape) for i in remove]
        area = union_box(old_boxes + ([added[0]] if added else []))
        changed = 0
        with self.edit(label):
            if area is not None:
                y0, x0, y1, x1 = area
                region = self._mask[y0:y1, x0:x1].copy()
                for i in remove:
                    region &= ~raster_in(shapes[i], self.shape, area)
                if added is not None:
                    (ay0, ax0, ay1, ax1), pixels = added
                    region[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0] |= pixels
                changed = self._write(area, region)
            parts = [p for p in _parts(geom) if rasterize_region(p, self.shape) is not None]
            made = self._view.replace(self._mask, sorted(remove), parts, added)
        return EditReport(label, changed, tuple(notes), tuple(made))

    def add_polygon(
        self, exterior: Sequence[Point] | BaseGeometry, holes: Sequence[Sequence[Point]] = ()
    ) -> EditReport:
        """Add a drawn polygon (united with any shape it overlaps)."""
        geom = exterior if isinstance(exterior, BaseGeometry) else _polygon(exterior, holes)
        if geom.is_empty:
            raise ops.ShapeEditError("the polygon is empty (fewer than three distinct vertices)")
        return self._replace("Add polygon", [], geom)

    def subtract(self, exterior: Sequence[Point] | BaseGeometry) -> EditReport:
        """Cut a drawn shape out of every polygon it overlaps."""
        geom = exterior if isinstance(exterior, BaseGeometry) else _polygon(exterior)
        cutter, notes = ops.repair(geom, self.shape)
        found = None if cutter.is_empty else rasterize_region(cutter, self.shape)
        if found is None:
            return EditReport("Subtract", 0, tuple(notes + ["the shape covers no pixel centre"]))
        box, pixels = found
        self.polygons  # refresh the view before the pixels change  # noqa: B018
        with self.edit("Subtract"):
            y0, x0, y1, x1 = box
            changed = self._write(box, self._mask[y0:y1, x0:x1] & ~pixels)
            self._view.subtract(self._mask, cutter, box)
        return EditReport("Subtract", changed, tuple(notes))

    def delete_polygon(self, index: int) -> EditReport:
        self._shape(index)
        return self._replace("Delete polygon", [index], None)

    def replace_polygon(self, index: int, geom: BaseGeometry, label: str = "Edit polygon") -> EditReport:
        """Put ``geom`` in place of polygon ``index`` (the common path of every vertex edit)."""
        self._shape(index)
        return self._replace(label, [index], geom)

    def move_vertex(self, index: int, ring: int, vertex: int, to: Point) -> EditReport:
        return self.replace_polygon(index, ops.move_vertex(self._shape(index), ring, vertex, to), "Move vertex")

    def insert_vertex(self, index: int, ring: int, edge: int, at: Point) -> EditReport:
        return self.replace_polygon(index, ops.insert_vertex(self._shape(index), ring, edge, at), "Insert vertex")

    def delete_vertex(self, index: int, ring: int, vertex: int) -> EditReport:
        return self.replace_polygon(index, ops.delete_vertex(self._shape(index), ring, vertex), "Delete vertex")

    def cut_hole(self, index: int, hole: Sequence[Point]) -> EditReport:
        """Cut a hole into polygon ``index`` only (other polygons inside it stay)."""
        return self.replace_polygon(index, ops.add_hole(self._shape(index), hole), "Cut hole")

    def drag_vertex(self, index: int, ring: int, vertex: int) -> VertexDrag:
        """Start dragging a vertex; every :meth:`VertexDrag.move` redraws from the start, :meth:`finish` makes
        the whole drag one undo step."""
        return VertexDrag(self, index, ring, vertex)


def _polygon(exterior: Sequence[Point], holes: Sequence[Sequence[Point]] = ()) -> Polygon:
    try:
        return Polygon(exterior, holes)
    except (ValueError, TypeError) as exc:
        raise ops.ShapeEditError(f"not a polygon ({exc}): a polygon needs at least three vertices") from None


def _parts(geom: BaseGeometry | None) -> list[Polygon]:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [cast(Polygon, geom)]  # its geom_type says it is one
    # Otherwise a multi-part geometry or a collection: the polygons among its parts.
    multi = cast("BaseMultipartGeometry[BaseGeometry]", geom)
    return [cast(Polygon, p) for p in multi.geoms if p.geom_type == "Polygon" and not p.is_empty]


class Stroke:
    """A brush or eraser stroke in progress; the pixels change as points arrive, one undo step in all."""

    def __init__(self, document: MaskDocument, radius: float, erase: bool) -> None:
        if not radius >= 0:
            raise ValueError(f"brush radius must be >= 0, got {radius!r}")
        self.document = document
        self.radius = float(radius)
        self.erase = erase
        self.label = "Erase" if erase else "Brush"
        self._last: Point | None = None
        self._boxes: list[Box] = []
        self._changed = 0
        self._open = True
        document.begin_edit(self.label)

    def add(self, point: Point) -> int:
        """Paint from the previous point to ``point``; returns the pixels changed by this segment."""
        if not self._open:
            raise RuntimeError("the stroke has ended")
        point = (float(point[0]), float(point[1]))
        start = self._last if self._last is not None else point
        self._last = point
        found = segment_footprint(start, point, self.radius, self.document.shape)
        if found is None:
            return 0
        box, pixels = found
        y0, x0, y1, x1 = box
        current = self.document._mask[y0:y1, x0:x1]
        changed = self.document._write(box, current & ~pixels if self.erase else current | pixels)
        if changed:
            self._boxes.append(box)
            self._changed += changed
        return changed

    def end(self) -> EditReport:
        if self._open:
            self._open = False
            self.document._view.mark_dirty(union_box(self._boxes))
            self.document.end_edit()
        return EditReport(self.label, self._changed)


class VertexDrag:
    """A vertex being dragged: each move undoes the previous one and applies the new position to the polygon
    as it was when the drag began, so passing over a neighbour and back leaves the neighbour whole."""

    def __init__(self, document: MaskDocument, index: int, ring: int, vertex: int) -> None:
        self.document = document
        self.polygon = document._shape(index)
        count = len(ops.ring_coords(self.polygon, ring))
        if not 0 <= vertex < count:
            raise ops.ShapeEditError(f"vertex {vertex} does not exist (ring {ring} has {count} vertices)")
        self.index, self.ring, self.vertex = index, ring, vertex
        self._base = document._view.state()
        self._undo_last: Patch | None = None
        self._open = True
        self.report = EditReport("Move vertex", 0)
        document.begin_edit("Move vertex")

    def move(self, to: Point) -> EditReport:
        if not self._open:
            raise RuntimeError("the drag has ended")
        doc = self.document
        if self._undo_last is not None:
            self._undo_last.apply(doc._mask)
            doc.history.record(self._undo_last)
        doc._view.restore(self._base)
        before = doc.history.group_size
        moved = ops.move_vertex(self.polygon, self.ring, self.vertex, to)
        self.report = doc._replace("Move vertex", [self.index], moved)
        self._undo_last = Patch.compose(doc.history.group_patches_since(before))
        return self.report

    def finish(self) -> EditReport:
        if self._open:
            self._open = False
            self.document.end_edit()
        return self.report

    def cancel(self) -> None:
        """Put everything back as it was before the drag (no undo step is left)."""
        if not self._open:
            return
        doc = self.document
        if self._undo_last is not None:
            self._undo_last.apply(doc._mask)
            doc.history.record(self._undo_last)
        doc._view.restore(self._base)
        self._open = False
        doc.end_edit()
