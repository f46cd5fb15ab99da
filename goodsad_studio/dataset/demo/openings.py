"""The ``opened`` defect of boxes and packages: a raised top flap, a torn corner, an open cigarette lid.

Like the functions in ``defects``, each takes the clean layer (with its face quads) and returns a new, defective
layer. The canvas has room above the product for a raised flap or lid.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from goodsad_studio.dataset.demo.layer import Layer, blend_into, fill, poly, px
from goodsad_studio.dataset.demo.palette import RGB, shade

CARDBOARD = (196, 180, 152)
INSIDE = (62, 50, 40)
FOIL = (206, 207, 212)


def _jagged(
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    bulge: npt.NDArray[np.float64],
    rng: np.random.Generator,
    roughness: float,
    steps: int = 14,
) -> npt.NDArray[np.float64]:
    """Points from ``a`` to ``b`` bowing through ``bulge`` (a quadratic curve) with torn-paper jitter."""
    t = np.linspace(0, 1, steps)[:, None]
    curve = (1 - t) ** 2 * a + 2 * (1 - t) * t * bulge + t**2 * b
    normal = np.array([-(b - a)[1], (b - a)[0]], np.float64)
    normal /= max(float(np.linalg.norm(normal)), 1e-6)
    jitter = rng.normal(0, roughness, (steps, 1)) * normal
    jitter[0] = jitter[-1] = 0
    return curve + jitter


def torn_corner(
    layer: Layer, rng: np.random.Generator, severity: float, *, face: str = "front", see_through: bool = False
) -> Layer:
    """A corner of ``face`` torn off along a ragged line.

    Boxes show their dark inside through the hole, framed by the white torn edge of the board; a bag
    (``see_through``) loses the corner altogether and shows the silver inner film along the tear.
    """
    quad = layer.quads[face]
    corner = int(rng.integers(0, 2))  # a top corner: 0 top-left, 1 top-right
    c = quad[corner].astype(np.float64)
    along_top = (quad[1 - corner] - c).astype(np.float64)
    along_side = (quad[3 if corner == 0 else 2] - c).astype(np.float64)
    width = float(np.linalg.norm(along_top))
    reach = rng.uniform(0.18, 0.32) * (0.45 + severity * 0.7)
    a = c + along_top / width * width * reach
    b = c + along_side / np.linalg.norm(along_side) * width * reach * rng.uniform(0.9, 1.6)
    bulge = c + (a - c) * 0.9 + (b - c) * 0.9
    edge = _jagged(a, b, bulge, rng, width * 0.012)
    region = np.concatenate([[c], edge])
    out = layer.copy()
    unit = layer.unit
    if see_through:
        # cut a little beyond the outline so the serrated seal corner goes too
        outward = c - (along_top + along_side) * 0.05
        cut = np.concatenate([[outward], edge])
        cv2.fillPoly(out.alpha, poly(cut), 0, cv2.LINE_AA)
        cv2.polylines(out.rgb, poly(edge), False, FOIL, px(3, unit), cv2.LINE_AA)
        cv2.polylines(out.alpha, poly(edge), False, 255, px(3, unit), cv2.LINE_AA)
        inner = edge + (c - bulge) * -0.12
        cv2.polylines(out.rgb, poly(inner), False, (35, 35, 38), px(2.5, unit), cv2.LINE_AA)
    else:
        fill(out, region, INSIDE)
        shadow = edge + ((bulge - c) / max(np.linalg.norm(bulge - c), 1e-6)) * -width * 0.03
        cv2.polylines(out.rgb, poly(shadow), False, shade(INSIDE, 0.6), px(3, unit), cv2.LINE_AA)
        cv2.polylines(out.rgb, poly(edge), False, CARDBOARD, px(4, unit), cv2.LINE_AA)
        cv2.polylines(out.rgb, poly(edge), False, (242, 240, 232), px(1.5, unit), cv2.LINE_AA)
    return out


def open_flap(layer: Layer, rng: np.random.Generator, severity: float) -> Layer:
    """A food box with its top flap lifted: the dark inside shows and the flap stands up at the back."""
    top, front = layer.quads["top"], layer.quads["front"]
    out = layer.copy()
    unit = layer.unit
    back_l, back_r, front_r, front_l = top.astype(np.float64)
    width = np.linalg.norm(back_r - back_l)
    fill(out, top, INSIDE)
    inner_wall = np.array([back_l, back_r, back_r + (front_r - back_r) * 0.35, back_l + (front_l - back_l) * 0.35])
    fill(out, inner_wall, shade(CARDBOARD, 0.55))
    lift = width * rng.uniform(0.22, 0.34) * (0.5 + severity * 0.6)
    lean = rng.uniform(-0.15, 0.15) * lift
    flap = np.array([back_l + (lean, -lift), back_r + (lean, -lift), back_r, back_l])
    fill(out, flap, CARDBOARD)
    xs, ys = flap[:, 0], flap[:, 1]
    box = (int(xs.min()), int(ys.min()), int(np.ceil(xs.max())) + 1, int(np.ceil(ys.max())) + 1)
    patch = out.rgb[box[1] : box[3], box[0] : box[2]]
    gradient = np.linspace(0.85, 1.05, patch.shape[0], dtype=np.float32)[:, None] * np.ones(patch.shape[:2], np.float32)
    mask = np.zeros(patch.shape[:2], np.uint8)
    cv2.fillPoly(mask, poly(flap - (box[0], box[1])), 255, cv2.LINE_AA)
    blend_into(patch, np.clip(patch.astype(np.float32) * gradient[..., None], 0, 255), mask / 255.0)
    cv2.polylines(out.rgb, poly(flap), True, shade(CARDBOARD, 0.7), px(1.5, unit), cv2.LINE_AA)
    for side in (0, 1):  # the small dust flaps at the ends stand up too
        if rng.random() < 0.6:
            hinge_back, hinge_front = (back_l, front_l) if side == 0 else (back_r, front_r)
            tip = (hinge_back + hinge_front) / 2 + (rng.uniform(-0.05, 0.05) * width, -lift * rng.uniform(0.4, 0.7))
            fill(out, [hinge_back, tip, hinge_front], shade(CARDBOARD, 0.8))
    cv2.line(
        out.rgb,
        tuple(front[0].astype(np.int32)),
        tuple(front[1].astype(np.int32)),
        (235, 232, 225),
        px(2, unit),
        cv2.LINE_AA,
    )
    return out


def open_lid(
    layer: Layer,
    rng: np.random.Generator,
    severity: float,
    *,
    filter_colour: RGB | None = None,
    collar: RGB = (230, 200, 120),
) -> Layer:
    """A cigarette pack with its hinged lid flipped open: collar, foil and filter tips show, the lid stands back."""
    front, top, side = layer.quads["front"], layer.quads["top"], layer.quads["side"]
    x0, y0 = front[0]
    x1 = front[1][0]
    lid_y = layer.points["lid"][1]
    lid_h = lid_y - y0
    out = layer.copy()
    unit = layer.unit
    region = np.concatenate([front[:2], [[x1, lid_y], [x0, lid_y]]])
    hull = cv2.convexHull(np.concatenate([region, top, side[:2]]).astype(np.float32)).reshape(-1, 2)
    cv2.fillPoly(out.alpha, poly(hull), 0, cv2.LINE_AA)
    above = np.zeros(layer.shape, bool)
    above[: int(np.ceil(lid_y))] = True
    out.alpha[~above] = layer.alpha[~above]
    out.rgb[~above] = layer.rgb[~above]
    open_back = rng.uniform(0.75, 1.05) * (0.6 + 0.4 * severity)
    back_l, back_r = top[0].astype(np.float64), top[1].astype(np.float64)
    lid_panel = np.array(
        [back_l + (0, -lid_h * 1.6 * open_back), back_r + (0, -lid_h * 1.6 * open_back), back_r, back_l]
    )
    fill(out, lid_panel, (236, 233, 226))
    cv2.polylines(out.rgb, poly(lid_panel), True, (170, 165, 155), px(1.2, unit), cv2.LINE_AA)
    inset = (x1 - x0) * 0.04
    foil_top = y0 - (top[3][1] - top[0][1]) * 0.2
    foil = [(x0 + inset, foil_top), (x1 - inset, foil_top), (x1 - inset, lid_y), (x0 + inset, lid_y)]
    fill(out, foil, FOIL)
    for _ in range(8):
        fx = rng.uniform(x0 + inset, x1 - inset)
        cv2.line(
            out.rgb,
            (int(fx), int(foil_top)),
            (int(fx + rng.uniform(-1, 1) * inset), int(lid_y)),
            shade(FOIL, 0.8),
            px(1, unit),
            cv2.LINE_AA,
        )
    colour = filter_colour or ((205, 150, 80) if rng.random() < 0.6 else (238, 236, 228))
    count = 7
    step = (x1 - x0 - 2 * inset) / count
    ry = max(1.0, step * 0.3)
    for i in range(count):
        centre = (int(x0 + inset + step * (i + 0.5)), int(foil_top + ry * 1.5))
        cv2.ellipse(out.rgb, centre, (max(1, int(step * 0.46)), int(ry)), 0, 0, 360, colour, -1, cv2.LINE_AA)
        cv2.ellipse(
            out.rgb,
            centre,
            (max(1, int(step * 0.46)), int(ry)),
            0,
            0,
            360,
            shade(colour, 0.7),
            px(0.8, unit),
            cv2.LINE_AA,
        )
    collar_top = lid_y - lid_h * rng.uniform(0.35, 0.5)
    collar_shape = [
        (x0 + inset * 0.5, collar_top),
        (x0 + (x1 - x0) * 0.3, collar_top + lid_h * 0.15),
        (x0 + (x1 - x0) * 0.7, collar_top + lid_h * 0.15),
        (x1 - inset * 0.5, collar_top),
        (x1 - inset * 0.5, lid_y),
        (x0 + inset * 0.5, lid_y),
    ]
    fill(out, collar_shape, collar)
    cv2.line(out.rgb, (int(x0), int(lid_y)), (int(x1), int(lid_y)), shade(collar, 0.6), px(1.2, unit), cv2.LINE_AA)
    return out
