"""What the hostile-input tests share: checksums of a dataset, crafted files, the CLI run in-process, and the
assertions every case makes (one message line naming the file, no traceback)."""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from goodsad_studio.paths import STATE_DIR_NAME

HEIGHT, WIDTH = 20, 28  # the tiny dataset's images (tests/dataset_io/conftest.py)
PLUGIN = "engine_helpers:MeanImageDistance"  # tests/engine_helpers.py: the cheapest method there is
ERROR_PREFIX = "goodsad-studio: error:"
DEFECT_KEY = "drink_can/test/dent/001003"
DEFECT_IMAGE = "drink_can/test/dent/001003.png"
DEFECT_MASK = "drink_can/ground_truth/dent/001003_mask.png"

TALLY = {"items": 0, "generated": 0}
"""What the suite ran: collected test items, and the examples the hypothesis tests generated (the summary line)."""


def count_example() -> None:
    """Called once in the body of every hypothesis example."""
    TALLY["generated"] += 1


# ------------------------------------------------------------------------------------------ files on disk
def checksums(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` by relative path, leaving out the studio's state folder."""
    sums = {}
    for path in sorted(Path(root).rglob("*")):
        relative = path.relative_to(root)
        if STATE_DIR_NAME in relative.parts or not path.is_file():
            continue
        sums[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


_TEMP_NAME = re.compile(r"^\..+\.tmp$")


def leftover_temp_files(*roots: Path) -> list[Path]:
    """Temporary files of an atomic write (``.NAME.*.tmp``) anywhere under ``roots`` (state folders included)."""
    found = []
    for root in roots:
        if Path(root).exists():
            found.extend(path for path in Path(root).rglob("*") if _TEMP_NAME.match(path.name))
    return found


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_bomb(width: int, height: int, *, color_type: int = 0) -> bytes:
    """A PNG of a few dozen bytes whose header declares ``width`` x ``height`` pixels: signature, IHDR with a
    correct CRC, an IDAT of a few bytes and IEND."""
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 8))
        + png_chunk(b"IEND", b"")
    )


def noisy_image(size: tuple[int, int] = (64, 64), seed: int = 0) -> np.ndarray:
    """Blurred noise: compresses to a few KB, so truncation offsets land in the compressed data."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    return cv2.GaussianBlur(image, (3, 3), 0)


def encode(image: np.ndarray, suffix: str) -> bytes:
    ok, buffer = cv2.imencode(suffix, image)
    assert ok
    return buffer.tobytes()


def jpeg_scan_start(data: bytes) -> int:
    """Where the entropy-coded data of a baseline JPEG begins (just past its SOS segment)."""
    sos = data.index(b"\xff\xda")
    (length,) = struct.unpack(">H", data[sos + 2 : sos + 4])
    return sos + 2 + length


# ------------------------------------------------------------------------------------------ the CLI
def run_cli(argv: Sequence[Any], capsys) -> tuple[int, str, str]:
    """``goodsad-studio ARGV`` in-process: (exit status, stdout, stderr)."""
    from goodsad_studio.cli import main

    capsys.readouterr()
    status = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return status, out, err


def engine_argv(command: str, root: Path, out: Path | None = None, category: str = "drink_can") -> list[Any]:
    """fit / predict / evaluate of the test plug-in on one category, on the CPU."""
    method = ["--methods" if command == "evaluate" else "--method", PLUGIN]
    argv = [command, root, *method, "--category", category, "--device", "cpu"]
    return argv + (["--out", out] if out is not None else [])


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]


def assert_no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text
        assert 'File "' not in text, text  # a traceback's frame lines, printed without the header


def names(text: str, path: Path) -> bool:
    """Whether ``text`` names the file: its full path or at least its name."""
    return str(path) in text or Path(path).name in text


def assert_one_error_line(err: str, path: Path | None = None, *, only_line: bool = True) -> str:
    """Exactly one ``goodsad-studio: error:`` line on stderr (the only line there unless ``only_line`` is False:
    progress lines of the engine commands), naming ``path``; no traceback. Returns the line."""
    lines = error_lines(err)
    assert len(lines) == 1, f"expected one error line on stderr, got:\n{err}"
    if only_line:
        assert [line for line in err.splitlines() if line.strip()] == lines, f"more than one line on stderr:\n{err}"
    assert_no_traceback(err)
    if path is not None:
        assert names(lines[0], path), f"the message does not name {path}: {lines[0]}"
    return lines[0]


def paths_in(text: str) -> list[Path]:
    """The absolute paths a message mentions, trailing punctuation stripped."""
    return [Path(token.rstrip(").,;:'\"]")) for token in re.findall(r"/[^\s'\"]+", text)]


# ------------------------------------------------------------------------------------------ annotation files
def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def coco_for(
    segmentation: Any,
    *,
    file_name: str = DEFECT_IMAGE,
    width: Any = WIDTH,
    height: Any = HEIGHT,
    bbox: Any = None,
    category: str = "dent",
) -> dict[str, Any]:
    """A COCO instances document with one image and one annotation."""
    annotation: dict[str, Any] = {"id": 1, "image_id": 1, "category_id": 1, "segmentation": segmentation}
    annotation["iscrowd"] = 1 if isinstance(segmentation, dict) else 0
    if bbox is not None:
        annotation["bbox"] = bbox
    return {
        "images": [{"id": 1, "file_name": file_name, "width": width, "height": height}],
        "annotations": [annotation],
        "categories": [{"id": 1, "name": category}],
    }


def labelme_for(
    shapes: list[dict[str, Any]], *, image_path: str = DEFECT_IMAGE, width: Any = WIDTH, height: Any = HEIGHT
) -> dict[str, Any]:
    """A labelme document for one image (``imagePath`` is matched by its tail inside the dataset)."""
    return {
        "version": "5.4.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": None,
        "imageHeight": height,
        "imageWidth": width,
    }


def labelme_shape(points: Any, shape_type: str = "polygon", label: str = "dent") -> dict[str, Any]:
    return {"label": label, "points": points, "group_id": None, "shape_type": shape_type, "flags": {}}


BOX = [2.0, 2.0, 12.0, 2.0, 12.0, 9.0, 2.0, 9.0]
"""A valid COCO polygon (10 x 7 pixels) inside the 28 x 20 images."""

SENTINEL = 424242.25
"""A number put in a document and replaced, in its JSON text, by a literal json.dumps cannot write (1e999)."""


def dumps_with(document: Any, literal: str | None = None) -> str:
    """JSON text of ``document`` (NaN and Infinity as their literals), with :data:`SENTINEL` replaced by
    ``literal`` when given."""
    text = json.dumps(document, allow_nan=True)
    if literal is not None:
        assert str(SENTINEL) in text
        text = text.replace(str(SENTINEL), literal)
    return text


# ------------------------------------------------------------------------------------------ decoder spies
class DecoderSpy:
    """Stands in for ``cv2.imdecode`` and ``cv2.imread`` (seen through ``goodsad_studio.dataset.imageio.cv2``):
    records every call; refuses (AssertionError, nothing decoded) those ``refuse`` picks, decodes the others."""

    def __init__(self, monkeypatch, refuse: Callable[[bytes], bool] = lambda data: True) -> None:
        from goodsad_studio.dataset import imageio

        self.decoded: list[int] = []  # byte counts of every buffer given to the decoder
        self.refused: list[int] = []
        self._refuse = refuse
        self._imdecode = imageio.cv2.imdecode
        self._imread = imageio.cv2.imread
        monkeypatch.setattr(imageio.cv2, "imdecode", self.imdecode)
        monkeypatch.setattr(imageio.cv2, "imread", self.imread)

    def imdecode(self, buffer, flags):
        data = np.asarray(buffer).tobytes()
        self.decoded.append(len(data))
        if self._refuse(data):
            self.refused.append(len(data))
            raise AssertionError(
                f"cv2.imdecode was called on a file that must be refused from its header ({len(data)} bytes)"
            )
        return self._imdecode(buffer, flags)

    def imread(self, filename, *args):
        data = Path(filename).read_bytes()
        self.decoded.append(len(data))
        if self._refuse(data):
            self.refused.append(len(data))
            raise AssertionError(f"cv2.imread was called on {filename}, which must be refused from its header")
        return self._imread(filename, *args)


def masks_are_binary_pngs_of_their_images(root: Path) -> list[str]:
    """Every mask of the dataset that is not an 8-bit 0/255 PNG of its image's size, with why (empty when all are)."""
    from goodsad_studio.dataset.imageio import mask_stats, probe_image
    from goodsad_studio.dataset.index import scan_dataset

    problems = []
    for record in scan_dataset(root).records:
        if record.mask_path is None:
            continue
        if record.mask_path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            problems.append(f"{record.mask_path}: not a PNG")
            continue
        info = probe_image(record.image_path)
        stats = mask_stats(record.mask_path)
        if (stats.width, stats.height) != (info.width, info.height):
            problems.append(f"{record.mask_path}: {stats.width}x{stats.height}, its image {info.width}x{info.height}")
        if stats.nonbinary_pixels:
            problems.append(f"{record.mask_path}: values {stats.values}")
    return problems
