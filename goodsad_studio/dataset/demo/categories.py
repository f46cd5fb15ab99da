"""The six GoodsAD categories: how each is designed, viewed, drawn and which defects make sense for it.

A defect is either a *state* the shape draws itself (a bottle's cap open or tilted) or a change applied to the drawn
layer (scratches, stains, dents, openings). Both kinds give back the defective layer; the generator finds the exact
mask by comparing it with the clean one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from goodsad_studio.dataset.demo import bottles, boxes, cans, defects, openings, packages
from goodsad_studio.dataset.demo.layer import DrawState, Layer

SURFACE_DAMAGE = "surface_damage"
CAP_OPEN = "cap_open"
CAP_HALF_OPEN = "cap_half_open"
SURFACE_ANOMALY = "surface_anomaly"
DEFORMATION = "deformation"
OPENED = "opened"


@dataclass(frozen=True)
class CategorySpec:
    """How to make goods of one category."""

    name: str
    defects: tuple[str, ...]
    design: Callable[[np.random.Generator], Any]
    view: Callable[[np.random.Generator], Any]
    draw: Callable[..., Layer]
    aspect: Callable[[Any], float]
    """Product width / height, to keep wide goods inside the photo."""
    height: float
    """Typical product height as a fraction of the photo's side."""


def _bottle_view(rng: np.random.Generator) -> bottles.BottleView:
    return bottles.BottleView(
        azimuth=np.pi + rng.uniform(-0.7, 0.7), tilt=rng.uniform(0.06, 0.16), light=rng.uniform(-0.6, 0.6)
    )


def _can_view(rng: np.random.Generator) -> cans.CanView:
    return cans.CanView(
        azimuth=np.pi + rng.uniform(-0.8, 0.8), tilt=rng.uniform(0.08, 0.18), light=rng.uniform(-0.6, 0.6)
    )


def _box_view(rng: np.random.Generator) -> boxes.BoxView:
    return boxes.BoxView(
        side=1 if rng.random() < 0.5 else -1,
        foreshortening=rng.uniform(0.35, 0.8),
        elevation=rng.uniform(0.45, 0.8),
        light=rng.uniform(0.6, 0.78),
    )


def _package_view(rng: np.random.Generator) -> packages.PackageView:
    return packages.PackageView(light=rng.uniform(-1, 1), gloss=rng.uniform(0.1, 0.7), squeeze=rng.uniform(0.05, 0.12))


def _bottle_aspect(design: bottles.BottleDesign) -> float:
    return design.width


def _can_aspect(design: cans.CanDesign) -> float:
    return design.width


def _box_aspect(design: boxes.BoxDesign) -> float:
    return design.width * (1 + design.depth * 0.6)


def _package_aspect(design: packages.PackageDesign) -> float:
    return design.width


CATEGORIES: dict[str, CategorySpec] = {
    spec.name: spec
    for spec in (
        CategorySpec(
            "drink_bottle",
            (CAP_OPEN, CAP_HALF_OPEN, SURFACE_DAMAGE, SURFACE_ANOMALY, DEFORMATION),
            bottles.design_drink_bottle,
            _bottle_view,
            bottles.draw_bottle,
            _bottle_aspect,
            0.74,
        ),
        CategorySpec(
            "drink_can",
            (SURFACE_DAMAGE, SURFACE_ANOMALY, DEFORMATION),
            cans.design_drink_can,
            _can_view,
            cans.draw_can,
            _can_aspect,
            0.6,
        ),
        CategorySpec(
            "food_bottle",
            (CAP_OPEN, CAP_HALF_OPEN, SURFACE_DAMAGE, SURFACE_ANOMALY),
            bottles.design_food_bottle,
            _bottle_view,
            bottles.draw_bottle,
            _bottle_aspect,
            0.62,
        ),
        CategorySpec(
            "food_box",
            (OPENED, DEFORMATION, SURFACE_DAMAGE, SURFACE_ANOMALY),
            boxes.design_food_box,
            _box_view,
            boxes.draw_box,
            _box_aspect,
            0.6,
        ),
        CategorySpec(
            "food_package",
            (OPENED, DEFORMATION, SURFACE_DAMAGE, SURFACE_ANOMALY),
            packages.design_food_package,
            _package_view,
            packages.draw_package,
            _package_aspect,
            0.64,
        ),
        CategorySpec(
            "cigarette_box",
            (OPENED, DEFORMATION, SURFACE_DAMAGE, SURFACE_ANOMALY),
            boxes.design_cigarette_box,
            _box_view,
            boxes.draw_box,
            _box_aspect,
            0.56,
        ),
    )
}


def defect_state(category: str, defect: str, rng: np.random.Generator, severity: float) -> DrawState | None:
    """The drawing state for defects the shape draws itself (bottle caps); None for the others."""
    if defect == CAP_OPEN:
        return {"cap": bottles.OPEN}
    if defect == CAP_HALF_OPEN:
        return {
            "cap": bottles.HALF,
            "cap_angle": float(rng.uniform(14, 24) + 14 * severity),
            "cap_side": 1 if rng.random() < 0.5 else -1,
            "cap_lift": float(rng.uniform(0.15, 0.45)),
        }
    return None


def apply_defect(category: str, defect: str, layer: Layer, rng: np.random.Generator, severity: float) -> Layer:
    """The layer with a layer-level defect drawn on it (cap defects come from :func:`defect_state` instead)."""
    if defect == SURFACE_DAMAGE:
        draw = defects.scratches if rng.random() < 0.6 else defects.scuff
        return draw(layer, rng, severity)
    if defect == SURFACE_ANOMALY:
        draw = defects.stain if rng.random() < 0.55 else defects.sticker
        return draw(layer, rng, severity)
    if defect == DEFORMATION:
        if category in ("food_box", "cigarette_box") and rng.random() < 0.6:
            centre = defects.corner_point(layer, rng)
        elif rng.random() < 0.45:
            centre = defects.edge_point(layer, rng)
        else:
            centre = None
        return defects.dent(layer, rng, severity, centre=centre)
    if defect == OPENED:
        if category == "cigarette_box":
            return openings.open_lid(layer, rng, severity)
        if category == "food_package":
            return openings.torn_corner(layer, rng, severity, face="bag", see_through=True)
        if rng.random() < 0.55:
            return openings.open_flap(layer, rng, severity)
        return openings.torn_corner(layer, rng, severity)
    if defect in (CAP_OPEN, CAP_HALF_OPEN):
        return layer
    raise ValueError(f"unknown defect type {defect!r}")
