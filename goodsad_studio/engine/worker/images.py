"""Images for methods: decoded at reduced size when the network input is small, lazily, with read-ahead.

A method's network sees ``image_size`` pixels (224 in the papers); a 3000px GoodsAD JPEG is decoded by the JPEG
decoder at 1/8 (375px) instead of in full, and the next images are decoded in background threads (OpenCV releases
the GIL) while the model works on the current ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import overload

import numpy as np

from goodsad_studio.dataset.imageio import read_reduced
from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.errors import StudioError

READ_AHEAD = 8


def load_for_model(record: ImageRecord, image_size: int) -> np.ndarray:
    """The RGB image of ``record`` decoded at the smallest reduction whose shorter side is >= ``image_size``."""
    image, _factor = read_reduced(record.image_path, image_size)
    return image


class LazyImages(Sequence[np.ndarray]):
    """A sequence of the records' images, decoded on access; iteration reads ahead in two threads."""

    def __init__(self, records: Sequence[ImageRecord], image_size: int):
        self.records = list(records)
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.records)

    @overload
    def __getitem__(self, position: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, position: slice) -> LazyImages: ...
    def __getitem__(self, position: int | slice) -> np.ndarray | LazyImages:
        if isinstance(position, slice):
            return LazyImages(self.records[position], self.image_size)
        return load_for_model(self.records[position], self.image_size)

    def __iter__(self) -> Iterator[np.ndarray]:
        for outcome in self.outcomes():
            if isinstance(outcome, StudioError):
                raise outcome
            yield outcome

    def outcomes(self) -> Iterator[np.ndarray | StudioError]:
        """Each record's image in order, or the error that decoding it raised (naming the file) in its place, so
        a caller can skip a damaged image and go on (a generator ends at the first exception it raises)."""
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="decode") as pool:
            pending: list[Future[np.ndarray] | None] = [
                pool.submit(load_for_model, record, self.image_size) for record in self.records[:READ_AHEAD]
            ]
            for position in range(len(self.records)):
                future = pending[position]
                assert future is not None  # only positions already handed out are cleared
                image: np.ndarray | StudioError
                try:
                    image = future.result()
                except StudioError as exc:
                    image = exc
                ahead = position + READ_AHEAD
                if ahead < len(self.records):
                    pending.append(pool.submit(load_for_model, self.records[ahead], self.image_size))
                pending[position] = None  # free the decoded image once handed out
                yield image
