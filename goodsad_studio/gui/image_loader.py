"""Image loading for the canvas: a preview at once, the full decode in the background, neighbours prefetched.

Single-thread pools keep the work apart: ``decode`` (the image the user is looking at), ``masks`` (its mask
document, read beside the decode), ``prefetch`` (the next and previous images of the tree: full decode plus their
mask documents, so that stepping to them only swaps pointers) and ``thumbs`` (small previews for the thumbnail
strip). Results land in small caches owned by the UI
thread. A prefetched mask document is handed out once, and only while its file on disk is unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import CancelledError, Future
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.annotation.recovery import file_signature
from goodsad_studio.annotation.storage import open_record
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.gui.display_image import DisplayImage
from goodsad_studio.gui.workers import Relay, WorkerPool

THUMBNAIL_SIDE = 96


class ImageLoader(QObject):
    """Decodes images off the UI thread and caches the results (see the module docstring)."""

    full_ready = Signal(str)  # image path: its full-resolution DisplayImage is now cached
    load_failed = Signal(str, object)  # image path, the exception
    document_ready = Signal(str, object, object)  # record key, MaskDocument or None, exception or None
    thumbnail_ready = Signal(str)  # image path: its thumbnail is now cached

    def __init__(self, parent: QObject | None = None, *, cache_size: int = 5, thumbnail_cache: int = 600) -> None:
        super().__init__(parent)
        self._relay = Relay(self)
        self._decode = WorkerPool("decode", self._relay)
        self._prefetch = WorkerPool("prefetch", self._relay)
        self._thumbs = WorkerPool("thumbs", self._relay)
        self._masks = WorkerPool("masks", self._relay)
        self._cache_size = cache_size
        self._images: OrderedDict[Path, DisplayImage] = OrderedDict()
        self._documents: dict[Path, MaskDocument] = {}
        self._pending: dict[Path, Future] = {}
        self._prefetching: dict[Path, Future] = {}
        self._thumb_cache_size = thumbnail_cache
        self._thumbnails: OrderedDict[Path, QImage] = OrderedDict()
        self._thumb_pending: set[Path] = set()
        self.current: Path | None = None

    # ------------------------------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        """True while any decode, prefetch or thumbnail job is running or queued."""
        return any(pool.busy for pool in (self._decode, self._prefetch, self._thumbs, self._masks))

    def cached(self, path: Path) -> DisplayImage | None:
        image = self._images.get(path)
        if image is not None:
            self._images.move_to_end(path)
        return image

    def _store(self, image: DisplayImage) -> None:
        self._images[image.path] = image
        self._images.move_to_end(image.path)
        while len(self._images) > self._cache_size:
            oldest = next(iter(self._images))
            if oldest == self.current:
                self._images.move_to_end(oldest)
                if len(self._images) == 1:
                    break
                continue
            del self._images[oldest]

    # ------------------------------------------------------------------------------------ the current image
    def preview(self, path: Path) -> DisplayImage:
        """The full image when cached, else a reduced decode made now (raises the core's ImageReadError)."""
        return self.cached(path) or DisplayImage.load_preview(path)

    def request_full(self, path: Path) -> None:
        """Decode ``path`` fully in the background; :attr:`full_ready` (or :attr:`load_failed`) follows."""
        if path in self._images or path in self._pending:
            return
        if path in self._prefetching:  # already on its way: just report it when it lands
            self._pending[path] = self._prefetching[path]
            return
        future = self._decode.submit(
            lambda: DisplayImage.load_full(path), lambda result, error: self._full_done(path, result, error)
        )
        if future is not None:  # None: the loader was shut down, nothing runs
            self._pending[path] = future

    def _full_done(self, path: Path, image: DisplayImage | None, error: BaseException | None) -> None:
        self._pending.pop(path, None)
        if isinstance(error, CancelledError):
            return
        if error is not None:
            self.load_failed.emit(str(path), error)
            return
        assert image is not None  # no error: load_full returned the image
        self._store(image)
        self.full_ready.emit(str(path))

    def request_document(self, index: DatasetIndex, record: ImageRecord) -> None:
        """Open the mask document of ``record`` in the background (reading a 3000px mask PNG takes longer than
        the preview); :attr:`document_ready` follows."""
        self._masks.submit(
            lambda: open_record(index, record),
            lambda document, error: self.document_ready.emit(record.key, document, error),
        )

    # ------------------------------------------------------------------------------------ neighbours
    def prefetch(self, index: DatasetIndex, records: Iterable[ImageRecord]) -> None:
        """Decode these images and open their mask documents in the background; queued prefetches of other
        images are dropped."""
        records = list(records)
        wanted = {record.image_path for record in records}
        for path, future in list(self._prefetching.items()):
            if path not in wanted and path not in self._pending and future.cancel():
                self._prefetching.pop(path, None)
        for record in records:
            path = record.image_path
            if path in self._prefetching or path in self._pending:
                continue
            need_image = path not in self._images
            need_document = path not in self._documents
            if not need_image and not need_document:
                continue
            submitted = self._prefetch.submit(
                partial(self._prefetch_job, index, record, path, need_image, need_document),
                partial(self._prefetch_done, path),
            )
            if submitted is not None:  # None: the loader was shut down, nothing runs
                self._prefetching[path] = submitted

    @staticmethod
    def _prefetch_job(
        index: DatasetIndex, record: ImageRecord, path: Path, need_image: bool, need_document: bool
    ) -> tuple[DisplayImage | None, MaskDocument | None]:
        image = DisplayImage.load_full(path) if need_image else None
        document = None
        if need_document:
            try:
                document = open_record(index, record)
            except Exception:  # noqa: BLE001 - a bad mask is reported when the image is opened for real
                document = None
        return image, document

    def _prefetch_done(self, path: Path, result, error: BaseException | None) -> None:
        self._prefetching.pop(path, None)
        waiting = self._pending.pop(path, None) is not None
        if isinstance(error, CancelledError):
            return
        if error is not None:
            if waiting:
                self.load_failed.emit(str(path), error)
            return
        image, document = result
        if document is not None:
            self._documents[path] = document
            while len(self._documents) > self._cache_size:
                del self._documents[next(iter(self._documents))]
        if image is not None:
            self._store(image)
            if waiting:
                self.full_ready.emit(str(path))

    def take_document(self, record: ImageRecord) -> MaskDocument | None:
        """The prefetched mask document of ``record``, once, if its file has not changed since it was read."""
        document = self._documents.pop(record.image_path, None)
        if document is None or document.path is None:
            return None
        if file_signature(Path(document.path)) != document.disk_signature:
            return None
        return document

    def forget_documents(self) -> None:
        """Drop prefetched documents (after a save or a move, the files they were read from changed)."""
        self._documents.clear()

    def forget(self, path: Path) -> None:
        """Drop everything cached for one image file (it was moved or rewritten)."""
        self._images.pop(path, None)
        self._documents.pop(path, None)
        self._thumbnails.pop(path, None)

    # ------------------------------------------------------------------------------------ thumbnails
    def thumbnail(self, path: Path) -> QImage | None:
        return self._thumbnails.get(path)

    def request_thumbnail(self, path: Path) -> None:
        if path in self._thumbnails or path in self._thumb_pending:
            return
        self._thumb_pending.add(path)
        self._thumbs.submit(
            lambda: DisplayImage.load_preview(path, THUMBNAIL_SIDE).levels[0].image,
            lambda result, error: self._thumbnail_done(path, result, error),
        )

    def _thumbnail_done(self, path: Path, image: QImage | None, error: BaseException | None) -> None:
        self._thumb_pending.discard(path)
        if error is not None or image is None:
            return  # the strip keeps its placeholder; the canvas reports the error when the image is opened
        self._thumbnails[path] = image
        while len(self._thumbnails) > self._thumb_cache_size:
            del self._thumbnails[next(iter(self._thumbnails))]
        self.thumbnail_ready.emit(str(path))

    def shutdown(self) -> None:
        for pool in (self._decode, self._prefetch, self._thumbs, self._masks):
            pool.shutdown()
