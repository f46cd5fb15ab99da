"""Badges in a narrow tree column: the defect type is shortened first, then a "+N" chip says what did not fit."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetrics

from goodsad_studio.gui.badges import Badge, fit_badges

PAD, GAP = 4, 3
BADGES = [
    Badge("test", "#5f6368"),
    Badge("surface_damage", "#c75b12"),
    Badge("mask", "#00838f"),
    Badge("● unsaved", "#f9a825", "#202124"),
]


def _width(metrics, badges):
    return sum(metrics.horizontalAdvance(b.text) + 2 * PAD + GAP for b in badges)


def test_badges_shrink_then_count_what_is_left_out(qtbot):
    metrics = QFontMetrics(QFont())
    full = _width(metrics, BADGES)
    assert fit_badges(BADGES, metrics, full, PAD, GAP) == BADGES

    # a little short: the defect type is elided, every badge is still there
    shorter = fit_badges(BADGES, metrics, full - metrics.horizontalAdvance("damage"), PAD, GAP)
    assert [b.text for b in shorter[2:]] == ["mask", "● unsaved"]
    assert shorter[1].text != "surface_damage" and shorter[1].text.startswith("surf")
    assert _width(metrics, shorter) <= full - metrics.horizontalAdvance("damage")

    # much too short: what is left out is counted in a last chip, never silently dropped
    narrow = _width(metrics, BADGES[:2]) // 2
    shown = fit_badges(BADGES, metrics, narrow, PAD, GAP)
    assert shown[-1].text == f"+{len(BADGES) - len(shown) + 1}"
    assert _width(metrics, shown) <= narrow or len(shown) == 1
