"""What the hostile-input checks cost on GoodsAD-sized files, each against a baseline measured in the same run.

1. Reading a 3000 x 3000 JPEG with ``read_image`` (header checked against the decode limit, then OpenCV) against
   the same read, decode and colour conversion without the checks: the display and model paths should not slow
   down (goal: ratio ~1.0).
2. Strict validation of the same JPEG (``verify_image``: OpenCV at 1/8 plus libjpeg-turbo in strict mode) against
   the full OpenCV decode ``info --deep`` did before: the price of catching a JPEG cut short.
3. Refusing a 69-byte PNG that declares 60000 x 60000 pixels, against reading a 1 KB file (both should be
   instant; before the check OpenCV raised after allocating nothing but with a traceback).
4. Peak numpy memory of ``mask_stats`` on a 12000 x 12000 mask (144 megapixels, just under the limit) against a
   whole-mask ``np.bincount`` (what it did before): bytes per pixel.

    .venv/bin/python benchmarks/bench_hostile_inputs.py
"""

from __future__ import annotations

import statistics
import struct
import sys
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goodsad_studio.dataset.imageio import mask_stats, read_image, verify_image, write_mask
from goodsad_studio.errors import ImageReadError

REPEATS = 9


def _median_seconds(function, repeats: int = REPEATS) -> float:
    function()  # warm-up: first-touch page faults and lazy library set-up are not what is measured
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _photo(path: Path, side: int = 3000) -> bytes:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (side // 16, side // 16, 3), dtype=np.uint8)
    image = cv2.resize(small, (side, side), interpolation=cv2.INTER_CUBIC)  # smooth, photo-like texture
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    path.write_bytes(buffer.tobytes())
    return buffer.tobytes()


def _png_bomb(path: Path, width: int, height: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\0" * 4))
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat + chunk(b"IEND", b"")
    path.write_bytes(data)


def _peak_bytes(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        photo = root / "000000.jpg"
        data = _photo(photo)
        print(f"a 3000 x 3000 JPEG of {len(data) / 1e6:.1f} MB, median of {REPEATS} runs")

        def unchecked() -> np.ndarray:  # what read_image did before the checks: read, decode, BGR to RGB
            raw = cv2.imdecode(np.frombuffer(photo.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
            return cv2.cvtColor(raw, cv2.COLOR_BGR2RGB)

        bare = _median_seconds(unchecked)
        checked = _median_seconds(lambda: read_image(photo))
        print(
            f"1. read_image {checked * 1000:.0f} ms vs unchecked read + decode {bare * 1000:.0f} ms: "
            f"{checked / bare:.2f}x"
        )

        strict = _median_seconds(lambda: verify_image(photo))
        full = _median_seconds(lambda: read_image(photo))
        print(
            f"2. verify_image (strict) {strict * 1000:.0f} ms vs a full OpenCV decode {full * 1000:.0f} ms: "
            f"{strict / full:.2f}x"
        )

        bomb = root / "bomb.png"
        _png_bomb(bomb, 60000, 60000)
        small = root / "small.png"
        write_mask(small, np.zeros((16, 16), bool))

        def refuse() -> None:
            try:
                read_image(bomb)
            except ImageReadError:
                return
            raise AssertionError("the bomb was decoded")

        refused = _median_seconds(refuse, 50)
        tiny = _median_seconds(lambda: read_image(small), 50)
        print(
            f"3. refusing a {bomb.stat().st_size}-byte 60000 x 60000 PNG {refused * 1e6:.0f} us vs reading a "
            f"16 x 16 PNG {tiny * 1e6:.0f} us: {refused / tiny:.2f}x"
        )

        side = 12000
        mask = np.zeros((side, side), np.uint8)
        mask[1000:3000, 2000:5000] = 255
        mask[5000:5010, :] = 7
        big = root / "mask.png"
        ok, buffer = cv2.imencode(".png", mask)
        assert ok
        big.write_bytes(buffer.tobytes())
        raw = cv2.imdecode(np.frombuffer(buffer, np.uint8), cv2.IMREAD_UNCHANGED)
        del mask
        chunked = _peak_bytes(lambda: mask_stats(big))
        whole = _peak_bytes(lambda: np.bincount(raw.ravel(), minlength=256))
        pixels = side * side
        print(
            f"4. mask_stats on a {side} x {side} mask ({big.stat().st_size / 1e3:.0f} KB): peak numpy "
            f"{chunked / pixels:.2f} bytes/pixel vs a whole-mask bincount {whole / pixels:.2f} bytes/pixel "
            f"({whole / max(1, chunked):.0f}x less)"
        )


if __name__ == "__main__":
    main()
