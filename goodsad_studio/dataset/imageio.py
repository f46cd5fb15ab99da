"""Image and mask reading and writing with OpenCV, numpy arrays everywhere.

Conventions: images come back as ``uint8`` arrays, RGB ``(H, W, 3)`` unless asked for grayscale; masks come back as
``bool`` arrays ``(H, W)`` at native size; masks are written as 8-bit single-channel PNGs holding 0 and 255 only.
Every failure raises an error that names the file and says what is wrong with it.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from goodsad_studio.errors import ImageReadError, MaskError
from goodsad_studio.fsutil import atomic_write_bytes

_JPEG_SUFFIXES = (".jpg", ".jpeg")

MAX_MEGAPIXELS_VARIABLE = "GOODSAD_STUDIO_MAX_MEGAPIXELS"
DEFAULT_MAX_MEGAPIXELS = 150.0
"""The largest image or mask the studio decodes, by its header (a GoodsAD photo is 9 megapixels). A file whose
header declares more is refused before a byte is decoded: a 69-byte PNG may declare 60000 x 60000 pixels."""

_COUNT_CHUNK = 1 << 20  # pixels counted per step: value counts never widen a whole mask to 64-bit


def max_pixels() -> int:
    """The decode limit in pixels: ``GOODSAD_STUDIO_MAX_MEGAPIXELS`` megapixels (default 150)."""
    text = os.environ.get(MAX_MEGAPIXELS_VARIABLE, "")
    try:
        megapixels = float(text) if text.strip() else DEFAULT_MAX_MEGAPIXELS
    except ValueError:
        megapixels = DEFAULT_MAX_MEGAPIXELS
    if not megapixels > 0:  # also NaN
        megapixels = DEFAULT_MAX_MEGAPIXELS
    return int(megapixels * 1_000_000)


def _check_declared_size(info: ImageInfo, path: Path, error: type[Exception]) -> None:
    """Refuse a header that declares no pixels or more than :func:`max_pixels`, before anything is decoded."""
    if info.width <= 0 or info.height <= 0:
        raise error(f"the header declares an image of {info.width}x{info.height} pixels (nothing to decode)", path)
    limit = max_pixels()
    if info.width * info.height > limit:
        raise error(
            f"the header declares {info.width}x{info.height} pixels ({info.width * info.height / 1e6:,.0f} "
            f"megapixels), over the limit of {limit / 1e6:g} megapixels; refused without decoding "
            f"(raise {MAX_MEGAPIXELS_VARIABLE} to open it)",
            path,
        )


def _read_bytes(path: Path, error: type[Exception]) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error("file not found", path) from None
    except IsADirectoryError:
        raise error("is a folder, not an image file", path) from None
    except PermissionError:
        raise error("no permission to read the file", path) from None
    except OSError as exc:
        raise error(f"cannot read the file: {exc.strerror}", path) from None
    if not data:
        raise error("the file is empty (0 bytes)", path)
    return data


def check_complete(path: Path, data: bytes) -> str | None:
    """Why ``data`` looks truncated or is not the kind its header claims, or None when it looks whole.

    OpenCV decodes a truncated JPEG into a half-grey picture with only a warning on stderr; this catches it by
    the missing end-of-image marker, and a truncated PNG by the missing IEND chunk.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        if b"IEND" not in data[-64:]:
            return "truncated PNG (no IEND chunk at the end of the file)"
        return None
    if data[:2] == b"\xff\xd8":
        if b"\xff\xd9" not in data[-4096:]:
            return "truncated JPEG (no end-of-image marker)"
        return None
    if data[:2] == b"BM" or data[:4] in (b"II*\x00", b"MM\x00*"):
        return None
    return "not a PNG, JPEG, BMP or TIFF file (unknown header)"


def file_problem(path: str | Path) -> str | None:
    """Why an image or mask file cannot be used, from its header and its last bytes only (no pixels decoded):
    unreadable, empty, truncated, of an unknown kind, or declaring more than :func:`max_pixels`; None when it
    looks usable. A file this passes may still hold damaged pixel data, which decoding reports."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 4096))
            tail = handle.read()
    except OSError as exc:
        return f"cannot read the file: {exc.strerror}"
    if size == 0:
        return "the file is empty (0 bytes)"
    problem = check_complete(path, head + tail if size > 16 else head)
    if problem:
        return problem
    try:
        probe_image(path)
    except ImageReadError as exc:
        return exc.problem
    return None


def _header_of(data: bytes) -> ImageInfo | None:
    """The size a file's bytes declare (PNG, JPEG, BMP), or None when the header cannot be parsed (TIFF)."""
    try:
        return _parse_header(data[:65536], io.BytesIO(data[65536:]))
    except (struct.error, ValueError, IndexError):
        return None


def _decode(
    path: Path, data: bytes, flags: int, error: type[Exception], *, shape: tuple[int, int] | None = None
) -> np.ndarray:
    """Decode ``data`` once its header has been checked: whole (end markers), within :func:`max_pixels`, and of
    ``shape`` (height, width) when given. OpenCV's own refusals become ``error`` naming the file."""
    problem = check_complete(path, data)
    if problem:
        raise error(problem, path)
    info = _header_of(data)
    if info is not None:
        _check_declared_size(info, path, error)
        if shape is not None and (info.height, info.width) != tuple(shape):
            raise error(
                f"{_kind(error)} is {info.width}x{info.height} but its image is {shape[1]}x{shape[0]} (width x height)",
                path,
            )
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unknown reason"
        raise error(f"OpenCV refused to decode it ({reason})", path) from None
    if image is None or image.size == 0:
        raise error("corrupt or unsupported image data (OpenCV could not decode it)", path)
    return image


def _kind(error: type[Exception]) -> str:
    return "mask" if error is MaskError else "image"


def verify_image(path: str | Path) -> None:
    """Decode an image strictly, for validation: raises :class:`ImageReadError` naming the file for any damage.

    OpenCV's libjpeg only warns (on stderr) about a JPEG whose scan data ends early, and grey-fills the rest: a
    JPEG cut in half with its end marker re-appended decodes "fine". A second decode by libjpeg-turbo through
    ``simplejpeg`` in strict mode turns every such warning into an error. Only validation (``info --deep``) pays
    for it; the display and model paths decode once, with OpenCV.
    """
    path = Path(path)
    data = _read_bytes(path, ImageReadError)
    flags = cv2.IMREAD_REDUCED_GRAYSCALE_8 if data[:2] == b"\xff\xd8" else cv2.IMREAD_UNCHANGED
    _decode(path, data, flags, ImageReadError)
    if data[:2] != b"\xff\xd8":
        return
    import simplejpeg

    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", strict=True)
    except ValueError as exc:
        if "color conversion" in str(exc).lower():  # CMYK/YCCK: OpenCV read it above; libjpeg-turbo cannot
            return
        raise ImageReadError(f"damaged JPEG data ({exc})", path) from None


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        return np.clip(image * 255.0, 0, 255).astype(np.uint8)
    clipped: np.ndarray = np.clip(image, 0, 255)
    return clipped.astype(np.uint8)


def read_image(path: str | Path, *, gray: bool = False) -> np.ndarray:
    """Read an image as ``uint8`` RGB ``(H, W, 3)`` (grayscale files expanded), or ``(H, W)`` with ``gray=True``."""
    path = Path(path)
    data = _read_bytes(path, ImageReadError)
    image = _to_uint8(_decode(path, data, cv2.IMREAD_UNCHANGED, ImageReadError))
    return _convert(image, gray)


def _convert(image: np.ndarray, gray: bool) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if gray:
        return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def is_grayscale_file(path: str | Path) -> bool:
    """True when the file stores one channel (read from the header; no pixels are decoded)."""
    return probe_image(path).channels == 1


_REDUCED_COLOR = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def read_preview(path: str | Path, max_side: int) -> tuple[np.ndarray, float]:
    """A reduced RGB copy whose longer side is at most ``max_side``, and the scale (preview px per image px).

    JPEGs are decoded at 1/2, 1/4 or 1/8 size directly by the decoder (OpenCV's reduced modes), which makes a
    preview of a 3000px photo several times cheaper than a full decode.
    """
    path = Path(path)
    info = probe_image(path)
    longest = max(info.width, info.height)
    factor = 1
    if path.suffix.lower() in _JPEG_SUFFIXES:
        while factor < 8 and longest / (factor * 2) >= max_side:
            factor *= 2
    data = _read_bytes(path, ImageReadError)
    image = _to_uint8(_decode(path, data, _REDUCED_COLOR[factor], ImageReadError))
    image = _convert(image, gray=False)
    height, width = image.shape[:2]
    if max(height, width) > max_side:
        scale = max_side / max(height, width)
        image = cv2.resize(
            image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
        )
    return image, image.shape[1] / info.width


def read_reduced(path: str | Path, min_side: int) -> tuple[np.ndarray, int]:
    """An RGB copy decoded at 1/1, 1/2, 1/4 or 1/8 of its size, the smallest whose shorter side is still at least
    ``min_side``, and that factor. For model input: a 3000px JPEG bound for a 224px network is decoded at 1/8
    (375px) by the JPEG decoder itself, about six times faster than a full decode. Other formats decode fully."""
    path = Path(path)
    factor = 1
    if path.suffix.lower() in _JPEG_SUFFIXES:
        info = probe_image(path)
        while factor < 8 and min(info.width, info.height) / (factor * 2) >= min_side:
            factor *= 2
    data = _read_bytes(path, ImageReadError)
    image = _to_uint8(
        _decode(path, data, _REDUCED_COLOR[factor] if factor > 1 else cv2.IMREAD_UNCHANGED, ImageReadError)
    )
    return _convert(image, gray=False), factor


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int
    height: int
    channels: int


def probe_image(path: str | Path) -> ImageInfo:
    """Width, height and channel count from the file header, without decoding pixels.

    PNG, JPEG and BMP headers are parsed directly; TIFF (rare here) is decoded.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
            info = _parse_header(head, handle)
    except FileNotFoundError:
        raise ImageReadError("file not found", path) from None
    except (PermissionError, IsADirectoryError):
        raise ImageReadError("cannot open the file for reading", path) from None
    except (struct.error, ValueError, IndexError):
        info = None
    if info is None:
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            image = _decode(path, _read_bytes(path, ImageReadError), cv2.IMREAD_UNCHANGED, ImageReadError)
            channels = 1 if image.ndim == 2 else image.shape[2]
            return ImageInfo(image.shape[1], image.shape[0], channels)
        if not head:
            raise ImageReadError("the file is empty (0 bytes)", path)
        raise ImageReadError("not a readable PNG, JPEG, BMP or TIFF header", path)
    _check_declared_size(info, path, ImageReadError)
    return info


def _parse_header(head: bytes, handle: BinaryIO) -> ImageInfo | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        width, height = struct.unpack(">II", head[16:24])
        color_type = head[25]
        channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(color_type, 3)
        if color_type == 4:
            channels = 1  # gray + alpha: one colour channel
        return ImageInfo(width, height, channels)
    if head[:2] == b"BM" and len(head) >= 30:
        width, height = struct.unpack("<ii", head[18:26])
        bits = struct.unpack("<H", head[28:30])[0]
        return ImageInfo(width, abs(height), 1 if bits <= 8 else 3)
    if head[:2] == b"\xff\xd8":
        return _parse_jpeg(head, handle)
    return None


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _parse_jpeg(head: bytes, handle: BinaryIO) -> ImageInfo | None:
    data = head
    pos = 2
    while True:
        while pos + 4 > len(data):
            more = handle.read(65536)
            if not more:
                return None
            data += more
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if marker in _SOF_MARKERS:
            while pos + 10 > len(data):
                more = handle.read(65536)
                if not more:
                    return None
                data += more
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return ImageInfo(width, height, data[pos + 9])
        if marker in (0xD9, 0xDA):
            return None
        pos += 2 + length


# ----------------------------------------------------------------------------------------------- masks


@dataclass(frozen=True, slots=True)
class MaskStats:
    """What a mask file holds, for validation: its size, how many pixels are neither 0 nor 255, and the area."""

    width: int
    height: int
    nonbinary_pixels: int
    values: tuple[int, ...]
    foreground_pixels: int


def read_mask_values(path: str | Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A mask file's values as uint8, not yet binarised (a repair previews them): one channel (three equal ones are
    taken as one), 16 bits mapped onto 0..255 with 0 and 65535 kept at the ends; :class:`MaskError` when it cannot
    be read, or — from its header, before decoding — when it is not ``shape`` (height, width)."""
    path = Path(path)
    data = _read_bytes(path, MaskError)
    raw = _decode(path, data, cv2.IMREAD_UNCHANGED, MaskError, shape=shape)
    if raw.ndim == 3:
        channels = raw[:, :, :3]
        if not (
            np.array_equal(channels[:, :, 0], channels[:, :, 1])
            and np.array_equal(channels[:, :, 0], channels[:, :, 2])
        ):
            raise MaskError("colour mask: a mask must be one channel (or three equal channels)", path)
        raw = channels[:, :, 0]
    if raw.dtype == np.uint16:
        raw = np.where(raw == 65535, 255, np.where(raw == 0, 0, np.minimum(raw, 254))).astype(np.uint8)
    return raw


def mask_value_counts(raw: np.ndarray) -> np.ndarray:
    """How many pixels hold each value 0..255 of a uint8 mask, counted a million pixels at a time (a whole-mask
    ``bincount`` would first widen every pixel to 64 bits: 8 GB for a 32000 x 32000 mask)."""
    flat = raw.reshape(-1)
    counts = np.zeros(256, np.int64)
    for start in range(0, flat.size, _COUNT_CHUNK):
        counts += np.bincount(flat[start : start + _COUNT_CHUNK], minlength=256)
    return counts


def mask_stats(path: str | Path, *, shape: tuple[int, int] | None = None) -> MaskStats:
    """Decode a mask file and describe it (see :class:`MaskStats`); raises :class:`MaskError` when unreadable,
    or — from its header, before decoding — when it is not ``shape`` (height, width)."""
    path = Path(path)
    raw = read_mask_values(path, shape)
    counts = mask_value_counts(raw)
    values = tuple(int(v) for v in np.flatnonzero(counts)[:16])
    nonbinary = int(raw.size - counts[0] - counts[255])
    return MaskStats(raw.shape[1], raw.shape[0], nonbinary, values, int(raw.size - counts[0]))


def read_mask(
    path: str | Path, *, shape: tuple[int, int] | None = None, binarize: bool = False, threshold: int = 127
) -> np.ndarray:
    """Read a mask as ``bool`` ``(H, W)`` at its native size.

    A mask holding values other than 0 and 255 is refused with the count of such pixels, unless ``binarize`` is
    given: then pixels above ``threshold`` are foreground. ``shape`` (height, width) is checked when given.
    """
    path = Path(path)
    raw = read_mask_values(path, shape)
    if shape is not None and raw.shape[:2] != tuple(shape):  # a TIFF, whose size only decoding tells
        raise MaskError(
            f"mask is {raw.shape[1]}x{raw.shape[0]} but its image is {shape[1]}x{shape[0]} (width x height)", path
        )
    if not binarize:
        counts = mask_value_counts(raw)
        nonbinary = int(raw.size - counts[0] - counts[255])
        if nonbinary:
            values = np.flatnonzero(counts)
            shown = ", ".join(str(int(v)) for v in values[:8]) + (", ..." if len(values) > 8 else "")
            raise MaskError(
                f"mask is not binary: {nonbinary} pixels are neither 0 nor 255 (values: {shown}); "
                "binarise it explicitly to use it (goodsad-studio repair-masks ROOT --binarise 127, with --dry-run "
                "to preview; in the studio: Edit > Binarise mask...)",
                path,
            )
        mask: np.ndarray = raw == 255
        return mask
    return raw > threshold


def encode_mask_png(mask: np.ndarray) -> bytes:
    """PNG bytes of a mask as 8-bit 0/255, one channel."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {mask.shape}")
    ok, buffer = cv2.imencode(
        ".png", np.where(mask.astype(bool), 255, 0).astype(np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 3]
    )
    if not ok:
        raise MaskError("OpenCV could not encode the mask as PNG")
    return buffer.tobytes()


def write_mask(path: str | Path, mask: np.ndarray) -> None:
    """Write a mask as an 8-bit 0/255 PNG, atomically (the old file stays whole if anything fails)."""
    atomic_write_bytes(path, encode_mask_png(mask))


def encode_image(image_rgb: np.ndarray, suffix: str, *, jpeg_quality: int = 92) -> bytes:
    """Encode an RGB (or grayscale) ``uint8`` image in the format named by ``suffix`` (".png", ".jpg", ...)."""
    image = image_rgb if image_rgb.ndim == 2 else cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if suffix.lower() in _JPEG_SUFFIXES else []
    ok, buffer = cv2.imencode(suffix, image, params)
    if not ok:
        raise ImageReadError(f"OpenCV could not encode an image as {suffix}")
    return buffer.tobytes()


def write_image(path: str | Path, image_rgb: np.ndarray, *, jpeg_quality: int = 92) -> None:
    """Write an RGB or grayscale image atomically, in the format given by the file's suffix."""
    path = Path(path)
    atomic_write_bytes(path, encode_image(image_rgb, path.suffix, jpeg_quality=jpeg_quality))
