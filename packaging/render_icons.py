"""Render the application icon's SVGs to the PNG sizes desktops ask for, with Qt's own SVG renderer.

    .venv/bin/python packaging/render_icons.py

Reads ``resources/icons/goodsad-studio.svg`` (drawn for 48 px and up) and ``goodsad-studio-small.svg`` (the
16-32 px cut, on a 16 px grid so edges land on whole pixels) and writes
``resources/icons/hicolor/<N>x<N>/apps/<APP_ID>.png`` for every size in ``ICON_SIZES``: the freedesktop icon-theme
layout, so ``packaging/linux/install.sh`` copies the tree as it is and the studio loads the same files. The PNGs
are committed; run this again after editing an SVG. Pass ``--preview FILE.png`` to also write a sheet of every
size on light and dark backgrounds, each scaled up 4x without smoothing, to look at the pixels.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ICONS = REPO / "resources" / "icons"
LARGE_SVG = ICONS / "goodsad-studio.svg"
SMALL_SVG = ICONS / "goodsad-studio-small.svg"
SMALL_UP_TO = 32
"""Sizes up to this one are rendered from the small cut; larger ones from the full drawing."""

sys.path.insert(0, str(REPO))
from goodsad_studio.gui.launch import APP_ID, ICON_SIZES  # noqa: E402  (the one place the id and sizes live)


def png_path(size: int) -> Path:
    return ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def render(svg: Path, size: int):
    """The SVG drawn into a transparent size x size ARGB image, antialiased."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG for Qt")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def preview_sheet(images: dict[int, object], out: Path) -> None:
    """Every size side by side on a light and a dark strip, scaled 4x with nearest-neighbour sampling."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage, QPainter

    scale, gap = 4, 16
    width = sum(size * scale + gap for size in images) + gap
    height = 2 * (max(images) * scale + 2 * gap)
    sheet = QImage(width, height, QImage.Format.Format_ARGB32)
    sheet.fill(QColor("#f0f0f0"))
    painter = QPainter(sheet)
    painter.fillRect(0, height // 2, width, height // 2, QColor("#303030"))
    for row in range(2):
        x = gap
        for size, image in images.items():
            big = image.scaled(
                size * scale,
                size * scale,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
            painter.drawImage(x, row * height // 2 + gap, big)
            x += size * scale + gap
    painter.end()
    sheet.save(str(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preview", type=Path, default=None, help="also write a 4x preview sheet to this PNG")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841  (QPainter needs one)
    images = {}
    for size in ICON_SIZES:
        source = SMALL_SVG if size <= SMALL_UP_TO else LARGE_SVG
        image = render(source, size)
        target = png_path(size)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target), "PNG"):
            raise SystemExit(f"render_icons: cannot write {target}")
        images[size] = image
        print(f"{target.relative_to(REPO)}  ({size}x{size}, from {source.name})")
    if args.preview is not None:
        preview_sheet(images, args.preview)
        print(f"preview sheet: {args.preview}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
