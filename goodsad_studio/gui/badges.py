"""Badges of an image row in the dataset tree: small coloured chips for split, defect type, mask, edits and
problems, painted by :class:`BadgeDelegate` from a list stored in the item."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.gui.tree_filter import RecordFlags

BADGES_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True, slots=True)
class Badge:
    text: str
    background: str  # a colour name Qt understands
    foreground: str = "#ffffff"


def badges_for(record: ImageRecord, flags: RecordFlags) -> list[Badge]:
    badges = [Badge(record.split, "#5f6368")]
    badges.append(Badge("good", "#2e7d32") if not record.is_anomalous else Badge(record.defect, "#c75b12"))
    if record.mask_path is not None:
        badges.append(Badge("mask", "#00838f"))
    elif record.is_anomalous:
        badges.append(Badge("no mask", "#c62828"))
    if flags.unsaved:
        badges.append(Badge("● unsaved", "#f9a825", "#202124"))
    elif flags.edited:
        badges.append(Badge("edited", "#6a1b9a"))
    if flags.recoverable:
        badges.append(Badge("recover", "#f9a825", "#202124"))
    if flags.problems:
        badges.append(Badge(f"⚠ {flags.problems}", "#b71c1c"))
    return badges


def fit_badges(badges: list[Badge], metrics: QFontMetrics, available: int, pad: int, gap: int) -> list[Badge]:
    """The badges to draw in ``available`` pixels. A column too narrow for all of them first shortens the defect
    type (the longest text, e.g. ``surface_damage``), then ends with a grey ``+N`` chip for those left out, so a
    ``● unsaved`` or ``⚠`` badge is never dropped without a sign (the row's tooltip lists them all)."""

    def width(chips: list[Badge]) -> int:
        return sum(metrics.horizontalAdvance(b.text) + 2 * pad + gap for b in chips)

    if width(badges) <= available:
        return badges
    chips = list(badges)
    if len(chips) > 1:  # elide the defect type as far as it takes, keeping a few letters
        rest = width(chips) - (metrics.horizontalAdvance(chips[1].text) + 2 * pad + gap)
        room = max(metrics.horizontalAdvance("wwww"), available - rest - 2 * pad - gap)
        text = metrics.elidedText(chips[1].text, Qt.TextElideMode.ElideRight, room)
        chips[1] = Badge(text, chips[1].background, chips[1].foreground)
        if width(chips) <= available:
            return chips
    for keep in range(len(chips) - 1, -1, -1):
        shown = chips[:keep] + [Badge(f"+{len(chips) - keep}", "#9e9e9e")]
        if width(shown) <= available or keep == 0:
            return shown
    return chips


class BadgeDelegate(QStyledItemDelegate):
    """Paints the chips of :data:`BADGES_ROLE` in one column."""

    PAD, GAP = 4, 3

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        badges = index.data(BADGES_ROLE)
        if badges is None:  # a category or goods row: its counts are plain text
            super().paint(painter, option, index)
            return
        style_option = QStyleOptionViewItem(option)
        self.initStyleOption(style_option, index)
        style_option.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, style_option, painter, widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        metrics = QFontMetrics(option.font)
        x = option.rect.x() + 2
        height = min(option.rect.height() - 4, metrics.height() + 2)
        y = option.rect.y() + (option.rect.height() - height) // 2
        for badge in fit_badges(badges, metrics, option.rect.right() - x, self.PAD, self.GAP):
            width = metrics.horizontalAdvance(badge.text) + 2 * self.PAD
            rect = QRect(x, y, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(badge.background))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(QColor(badge.foreground))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, badge.text)
            x += width + self.GAP
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:  # noqa: N802 - Qt override
        badges = index.data(BADGES_ROLE)
        if badges is None:
            return super().sizeHint(option, index)
        metrics = QFontMetrics(option.font)
        width = sum(metrics.horizontalAdvance(b.text) + 2 * self.PAD + self.GAP for b in badges) + 4
        return QSize(width, metrics.height() + 6)
