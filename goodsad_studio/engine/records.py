"""An open dataset: which images a job or a view works on (a category's training and test records, a record by key,
each with a clear error naming the dataset when it is not there) and where its state lives. No torch."""

from __future__ import annotations

from pathlib import Path

from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GOOD
from goodsad_studio.engine.contract import DatasetRef
from goodsad_studio.engine.layout import StateLayout
from goodsad_studio.errors import StudioError
from goodsad_studio.paths import dataset_state_dir


class OpenDataset:
    """A dataset as the engine and the views work on it: its index (records, as they ask for them), its state
    folder's layout, and the reference requests name it by."""

    def __init__(self, index: DatasetIndex, state_dir: str | Path | None = None):
        self.index = index
        self.layout = StateLayout(Path(state_dir) if state_dir is not None else dataset_state_dir(index.root))

    @property
    def state_dir(self) -> Path:
        return self.layout.state_dir

    @property
    def cache_dir(self) -> Path:
        return self.layout.cache_dir

    def ref(self) -> DatasetRef:
        """The reference a request carries (with this process's environment, read now)."""
        return DatasetRef.of(self.index.root, self.state_dir)

    def require_category(self, category: str) -> None:
        if category not in self.index.category_dirs:
            raise StudioError(f"category {category!r} is not in this dataset", self.index.root)

    def training_records(self, category: str, goods_id: str | None = None) -> list[ImageRecord]:
        """The normal training images (train/good) of ``category`` or of one of its goods ids."""
        records = self.index.filter(category=category, split="train", defect=GOOD, goods_id=goods_id)
        if not records:
            where = f"category {category!r}" + (f", goods id {goods_id}" if goods_id else "")
            raise StudioError(f"no training images (train/good) for {where}", self.index.category_dirs.get(category))
        return records

    def test_records(self, category: str, goods_id: str | None = None) -> list[ImageRecord]:
        return self.index.filter(category=category, split="test", goods_id=goods_id)

    def record(self, key: str) -> ImageRecord:
        found = self.index.get(key)
        if found is None:
            raise StudioError(f"image {key} is no longer in the dataset (was it moved or deleted?)", self.index.root)
        return found
