"""Which images the dataset tree shows: split, defect type, mask state, edited, problems, and a name search."""

from __future__ import annotations

from dataclasses import dataclass

from goodsad_studio.dataset.index import ImageRecord

HAS_MASK = "has"
MISSING_MASK = "missing"


@dataclass(frozen=True, slots=True)
class RecordFlags:
    """Session facts about one image that the index does not hold."""

    edited: bool = False  # changed in this session (saved or not)
    unsaved: bool = False
    recoverable: bool = False  # the recovery journal holds edits not offered yet
    problems: int = 0  # validation findings naming its image or mask


@dataclass(frozen=True, slots=True)
class TreeFilter:
    split: str | None = None
    defect: str | None = None
    mask: str | None = None  # HAS_MASK, MISSING_MASK or None
    edited_only: bool = False
    problems_only: bool = False
    text: str = ""

    @property
    def active(self) -> bool:
        return self != TreeFilter()

    def matches(self, record: ImageRecord, flags: RecordFlags) -> bool:
        if self.split is not None and record.split != self.split:
            return False
        if self.defect is not None and record.defect != self.defect:
            return False
        if self.mask == HAS_MASK and record.mask_path is None:
            return False
        if self.mask == MISSING_MASK and not (record.is_anomalous and record.mask_path is None):
            return False
        if self.edited_only and not flags.edited:
            return False
        if self.problems_only and not flags.problems:
            return False
        text = self.text.strip().lower()
        return not text or text in record.key.lower() or text in record.file_name.lower()
