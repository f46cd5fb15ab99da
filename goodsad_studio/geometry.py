"""Pixel-exact conversions between shapely polygons and boolean masks.

The pixel convention (docs/adr/0003-pixel-convention.md): image coordinates are ``(x, y)`` with x to the right and
y down; pixel ``(row, col)`` is the unit square ``[col, col+1] x [row, row+1]`` and its centre is
``(col + 0.5, row + 0.5)``. A pixel belongs to a shape when its **centre** lies inside the shape. A centre lying
exactly on an edge is decided by the top-left rule: it is inside when the edge is a left or a top edge of the
shape, outside when it is a right or a bottom edge, so two shapes sharing an edge never both claim (or both miss)
a pixel.

* :func:`rasterize` fills polygons with that rule by a scanline over the geometry's bounding box only (nonzero
  winding, so overlapping parts of a collection are united and holes are cut).
* :func:`trace` turns a mask into polygons whose edges run along pixel edges (integer corner coordinates). No pixel
  centre ever lies on such an edge, so ``rasterize(trace(m), m.shape) == m`` holds exactly, for every mask.

Diagonally touching pixels are where naive boundary tracing makes invalid shapely geometry (a ring touching
itself). :func:`trace` decides each such pinch point by 4-connectivity: two diagonal pixels of the same 4-connected
region stay one polygon (the ring turns so that the background on the other diagonal becomes a hole, or the
outside, touching at the point), pixels of different regions become separate polygons touching at the point. Every
ring is then the boundary between one region and one connected piece of its complement, which is a simple ring, so
the result is valid by construction.
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

# Directions of travel along pixel edges, in image coordinates (y down). Rings keep the foreground on the
# right-hand side of the direction of travel as seen on screen, which makes outer rings counter-clockwise in
# shapely's sense (positive signed area) and holes clockwise.
_E, _S, _W, _N = 0, 1, 2, 3

# Vertex configurations (TL | TR<<1 | BL<<2 | BR<<3 of the four pixels around a pixel corner) that are not corners
# of a boundary: nothing (0, 15) or a straight edge through the vertex (3, 12, 5, 10).
_STRAIGHT_OR_NONE = np.zeros(16, bool)
_STRAIGHT_OR_NONE[[0, 15, 3, 12, 5, 10]] = True
_PINCH_CODES = (6, 9)

# What _trace_rings hands to _assemble: (ring order, ring starts), entry vertex, entry direction, vertex x, vertex y.
_Traced = tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _polygon_parts(geom: BaseGeometry) -> np.ndarray:
    """The polygons of a polygonal geometry or collection (lines and points carry no area and are dropped)."""
    parts = np.asarray([geom], dtype=object)
    while True:
        types = shapely.get_type_id(parts)
        nested = np.isin(types, (4, 5, 6, 7))  # multi-geometries and collections
        if not nested.any():
            break
        parts = np.concatenate([parts[~nested], shapely.get_parts(parts[nested])])
    polygons = parts[shapely.get_type_id(parts) == 3]
    non_empty: np.ndarray = polygons[~shapely.is_empty(polygons)]
    return non_empty


def rasterize(geom: BaseGeometry | None, shape: tuple[int, int]) -> np.ndarray:
    """Pixels ``(H, W)`` whose centres lie inside ``geom`` (pixel-centre rule, top-left tie-break).

    ``geom`` is a Polygon, MultiPolygon or GeometryCollection in image coordinates; parts outside the image are
    clipped. Overlapping parts are united (nonzero winding); holes are cut. The cost is a sort of the edge
    crossings and one pass over the geometry's bounding box, independent of the image size.
    """
    out = np.zeros((int(shape[0]), int(shape[1])), bool)
    found = rasterize_region(geom, shape)
    if found is not None:
        (y0, x0, y1, x1), region = found
        out[y0:y1, x0:x1] = region
    return out


def rasterize_region(
    geom: BaseGeometry | None, shape: tuple[int, int]
) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Like :func:`rasterize`, but only the box ``(y0, x0, y1, x1)`` holding the inside pixels and that region;
    None when no pixel centre is inside (or ``geom`` is None or empty). Editing code uses it to touch only the
    part of a big mask that changes."""
    height, width = int(shape[0]), int(shape[1])
    if geom is None or geom.is_empty or height <= 0 or width <= 0:
        return None
    polygons = _polygon_parts(geom)
    if len(polygons) == 0:
        return None
    rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
    is_exterior = np.ones(len(rings), bool)
    is_exterior[1:] = ring_polygon[1:] != ring_polygon[:-1]
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    if len(coords) < 2:
        return None
    if not np.isfinite(coords).all():
        raise ValueError("cannot rasterise a polygon with coordinates that are not finite numbers (NaN or inf)")
    x, y = coords[:, 0], coords[:, 1]
    # Each edge joins a coordinate with the next one of the same (closed) ring.
    same = ring_of[1:] == ring_of[:-1]
    x0, y0, x1, y1, edge_ring = x[:-1][same], y[:-1][same], x[1:][same], y[1:][same], ring_of[:-1][same]
    # Orientation of each ring (shoelace), so that every exterior counts +1 inside and every hole -1 whatever the
    # direction its coordinates were given in.
    area2 = np.bincount(edge_ring, weights=x0 * y1 - x1 * y0, minlength=len(rings))
    factor = np.sign(area2).astype(np.int64) * np.where(is_exterior, 1, -1)
    moving = y0 != y1
    x0, y0, x1, y1 = x0[moving], y0[moving], x1[moving], y1[moving]
    # An edge going down (+y) adds -1 to the winding of pixels right of it; scaled by the ring factor above.
    step = np.where(y1 > y0, -1, 1) * factor[edge_ring[moving]]
    # Rows whose centre line y = r + 0.5 meets the edge, half-open [ylo, yhi) so shared vertices count once.
    ylo, yhi = np.minimum(y0, y1), np.maximum(y0, y1)
    first = np.clip(np.ceil(ylo - 0.5), 0, height).astype(np.int64)
    stop = np.clip(np.ceil(yhi - 0.5), 0, height).astype(np.int64)
    counts = np.maximum(stop - first, 0)
    total = int(counts.sum())
    if total == 0:
        return None
    edge = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    rows = first[edge] + (np.arange(total) - starts[edge])
    # where along the edge the row's centre line crosses it: a fraction in [0, 1], so a nearly horizontal edge
    # (a tiny y1 - y0) cannot overflow the way a slope would
    along = (rows + 0.5 - y0[edge]) / (y1 - y0)[edge]
    xs = x0[edge] + along * (x1 - x0)[edge]
    # A pixel is right of a crossing when its centre c + 0.5 >= x, i.e. from column ceil(x - 0.5) on.
    cols = np.clip(np.ceil(xs - 0.5), 0, width).astype(np.int64)
    return _fill_spans(rows, cols, step[edge], width)


def _fill_spans(
    rows: np.ndarray, cols: np.ndarray, steps: np.ndarray, width: int
) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Fill the runs between sorted crossings where the winding number is nonzero (run-length decode)."""
    order = np.argsort(rows * (width + 1) + cols, kind="stable")
    rows, cols, steps = rows[order], cols[order], steps[order]
    winding = np.cumsum(steps)  # every row's crossings sum to zero, so the running sum restarts on each row
    inside = np.flatnonzero(winding[:-1] != 0)
    if len(inside) == 0:
        return None
    row_lo, row_hi = int(rows[0]), int(rows[-1]) + 1
    col_lo, col_hi = int(cols.min()), int(cols.max())
    box_width = col_hi - col_lo
    if box_width == 0:
        return None
    span_row = rows[inside] - row_lo
    span_start = span_row * box_width + (cols[inside] - col_lo)
    span_end = span_row * box_width + (cols[inside + 1] - col_lo)
    size = (row_hi - row_lo) * box_width
    bounds = np.empty(2 * len(inside) + 2, np.int64)
    bounds[0], bounds[-1] = 0, size
    bounds[1:-1:2], bounds[2:-1:2] = span_start, span_end
    values = np.zeros(len(bounds) - 1, bool)
    values[1::2] = True
    region = np.repeat(values, np.diff(bounds)).reshape(row_hi - row_lo, box_width)
    return (row_lo, col_lo, row_hi, col_hi), region


def trace(mask: np.ndarray) -> MultiPolygon:
    """Polygons with holes along the pixel edges of ``mask``: one polygon per 4-connected region.

    Corners have integer coordinates; collinear points are dropped. Outer rings are counter-clockwise and holes
    clockwise (shapely's orientation). The result is valid shapely geometry and ``rasterize(trace(mask),
    mask.shape)`` equals ``mask`` exactly.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {mask.shape}")
    polygons = trace_polygons(mask)
    if not len(polygons):
        return MultiPolygon()
    # A 1-D array of polygons with no indices makes one MultiPolygon (the stubs also allow an array result).
    return cast(MultiPolygon, shapely.multipolygons(polygons))


def trace_polygons(mask: np.ndarray, x_offset: int = 0, y_offset: int = 0) -> np.ndarray:
    """The polygons of :func:`trace` as an array of shapely Polygons, shifted by the offsets (for a mask that
    is a region of a larger image)."""
    mask = np.ascontiguousarray(np.asarray(mask).astype(bool, copy=False))
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {mask.shape}")
    parts = [_trace_box(mask, box, x_offset, y_offset) for box in _region_boxes(mask)]
    return np.concatenate(parts) if parts else np.empty(0, dtype=object)


# Above this many separate regions the boxes are not worth merging: the whole foreground box is traced at once.
_MAX_BOXES = 256
_BOX_OVERHEAD = 100_000


def _region_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Disjoint boxes ``(x0, y0, x1, y1)`` that together hold every foreground pixel, each region whole.

    Tracing works on these boxes rather than on the whole image, so a 3000x3000 mask with a few small defects
    costs little more than the defects themselves. OpenCV's outer contours give one box per 8-connected region
    (regions nested in holes lie inside their parent's box); overlapping boxes are merged.
    """
    contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return []
    rects = [cv2.boundingRect(contour) for contour in contours]
    boxes = [(x, y, x + w, y + h) for x, y, w, h in rects]
    whole = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    # Each box costs a fixed overhead worth about _BOX_OVERHEAD pixels of tracing: split only when it pays.
    split_cost = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes) + _BOX_OVERHEAD * len(boxes)
    if len(boxes) > _MAX_BOXES or (whole[2] - whole[0]) * (whole[3] - whole[1]) <= split_cost:
        return [whole]
    merged = True
    while merged:
        merged = False
        out: list[tuple[int, int, int, int]] = []
        for box in boxes:
            for i, other in enumerate(out):
                if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]:
                    out[i] = (
                        min(box[0], other[0]),
                        min(box[1], other[1]),
                        max(box[2], other[2]),
                        max(box[3], other[3]),
                    )
                    merged = True
                    break
            else:
                out.append(box)
        boxes = out
    return boxes


def _trace_box(mask: np.ndarray, box: tuple[int, int, int, int], x_offset: int, y_offset: int) -> np.ndarray:
    """Polygons of the regions inside one box (an array of shapely Polygons)."""
    x0, y0, x1, y1 = box
    padded = np.zeros((y1 - y0 + 2, x1 - x0 + 2), np.uint8)
    padded[1:-1, 1:-1] = mask[y0:y1, x0:x1]
    _, labels = cv2.connectedComponents(padded, connectivity=4, ltype=cv2.CV_32S)
    return _assemble(_trace_rings(padded, labels), labels, x_offset=x0 + x_offset, y_offset=y0 + y_offset)


def _trace_rings(padded: np.ndarray, labels: np.ndarray) -> _Traced:
    """Corner vertices of every boundary ring, walked in order (foreground on the right of travel)."""
    tl, tr, bl, br = padded[:-1, :-1], padded[:-1, 1:], padded[1:, :-1], padded[1:, 1:]
    code = tl | (tr << 1) | (bl << 2) | (br << 3)
    vy, vx = np.nonzero(~_STRAIGHT_OR_NONE[code])  # corner vertices, row-major order
    vcode = code[vy, vx]
    n = len(vy)
    v_tl, v_tr, v_bl, v_br = (vcode & 1) > 0, (vcode & 2) > 0, (vcode & 4) > 0, (vcode & 8) > 0
    pinch = (vcode == 6) | (vcode == 9)
    # The one outgoing direction of an ordinary corner (foreground on the right of travel).
    out_dir = np.select([v_br & ~v_tr, v_bl & ~v_br, v_tl & ~v_bl, v_tr & ~v_tl], [_E, _S, _W, _N], -1)
    # Pinch points: the two diagonal pixels are joined when they belong to one 4-connected region (the ring
    # turns left), kept apart otherwise (the ring turns right, hugging its own pixel).
    diag_a = np.where(vcode == 9, labels[vy, vx], labels[vy, vx + 1])
    diag_b = np.where(vcode == 9, labels[vy + 1, vx + 1], labels[vy + 1, vx])
    joined = pinch & (diag_a == diag_b)
    # Entries: one per (corner, outgoing direction); pinch points have two.
    pinch_idx = np.flatnonzero(pinch)
    pinch_dirs = np.where(vcode[pinch_idx] == 9, _E, _N), np.where(vcode[pinch_idx] == 9, _W, _S)
    plain = np.flatnonzero(~pinch)
    entry_vertex = np.concatenate([plain, pinch_idx, pinch_idx])
    entry_dir = np.concatenate([out_dir[plain], pinch_dirs[0], pinch_dirs[1]])
    table = np.full((n, 4), -1, np.int64)
    table[entry_vertex, entry_dir] = np.arange(len(entry_vertex))
    # The corner reached by travelling from a corner: the next one in row-major order going east, the previous
    # one going west, and the same along columns for south and north (no corner lies between two on a run).
    by_column = np.lexsort((vy, vx))
    column_pos = np.empty(n, np.int64)
    column_pos[by_column] = np.arange(n)
    v = entry_vertex
    d = entry_dir
    target = np.empty_like(v)
    east, south, west, north = d == _E, d == _S, d == _W, d == _N
    target[east] = v[east] + 1
    target[west] = v[west] - 1
    target[south] = by_column[column_pos[v[south]] + 1]
    target[north] = by_column[column_pos[v[north]] - 1]
    turn = np.where(joined[target], (d + 3) % 4, (d + 1) % 4)
    next_dir = np.where(pinch[target], turn, out_dir[target])
    following = table[target, next_dir]
    return _walk_cycles(following), entry_vertex, entry_dir, vx, vy


def _walk_cycles(following: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entries in ring order, and the start offset of each ring, from the successor permutation."""
    nxt = following.tolist()
    seen = bytearray(len(nxt))
    order: list[int] = []
    starts: list[int] = []
    append = order.append
    for start in range(len(nxt)):
        if seen[start]:
            continue
        starts.append(len(order))
        j = start
        while not seen[j]:
            seen[j] = 1
            append(j)
            j = nxt[j]
    return np.asarray(order, np.int64), np.asarray(starts, np.int64)


def _assemble(traced: _Traced, labels: np.ndarray, *, x_offset: int, y_offset: int) -> np.ndarray:
    """Shapely polygons (shell first, then its holes) from the walked rings of one box."""
    (order, starts), entry_vertex, entry_dir, vx, vy = traced
    vertex = entry_vertex[order]
    # Vertex (a, b) of the corner grid has padded pixel (a, b) at its top left: it is the top-left corner of
    # padded pixel (a + 1, b + 1), i.e. of image pixel (a + y_offset, b + x_offset).
    xs = vx[vertex] + x_offset
    ys = vy[vertex] + y_offset
    ring_len = np.diff(np.append(starts, len(order)))
    ring_id = np.repeat(np.arange(len(starts)), ring_len)
    # The region a ring belongs to: the foreground pixel right of its first edge.
    first = order[starts]
    fv, fd = entry_vertex[first], entry_dir[first]
    a, b = vy[fv], vx[fv]
    pix_row = np.select([fd == _E, fd == _S, fd == _W], [a + 1, a + 1, a], a)
    pix_col = np.select([fd == _E, fd == _S, fd == _W], [b + 1, b, b], b + 1)
    region = labels[pix_row, pix_col]
    nxt = np.arange(len(order)) + 1
    nxt[starts + ring_len - 1] = starts  # close each ring
    area2 = np.bincount(ring_id, weights=(xs * ys[nxt] - xs[nxt] * ys).astype(np.float64), minlength=len(starts))
    is_hole = area2 < 0
    # Shells first within each region, as shapely.polygons expects for its indices.
    ring_order = np.lexsort((is_hole, region))
    rank = np.empty(len(starts), np.int64)
    rank[ring_order] = np.arange(len(starts))
    point_order = np.argsort(rank[ring_id], kind="stable")
    coords = np.column_stack([xs[point_order], ys[point_order]]).astype(np.float64)
    # With ``indices``, shapely builds one geometry per index and returns them as an array (never a scalar).
    ring_objects = cast("npt.NDArray[np.object_]", shapely.linearrings(coords, indices=rank[ring_id][point_order]))
    region_sorted = region[ring_order]
    _, polygon_index = np.unique(region_sorted, return_inverse=True)
    return cast("npt.NDArray[np.object_]", shapely.polygons(ring_objects, indices=polygon_index))
