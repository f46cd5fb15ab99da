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
        return not self.hidden_by(record, flags)

    def hidden_by(self, record: ImageRecord, flags: RecordFlags) -> list[str]:
        """The parts of the filter that hide ``record``, in words ("split train", "search '042'"); empty when it
        passes. The dataset panel says these when the image shown is not in the tree."""
        parts = []
        if self.split is not None and record.split != self.split:
            parts.append(f"split {self.split}")
        if self.defect is not None and record.defect != self.defect:
            parts.append(f"defect type {self.defect}")
        if self.mask == HAS_MASK and record.mask_path is None:
            parts.append("has mask")
        if self.mask == MISSING_MASK and not (record.is_anomalous and record.mask_path is None):
            parts.append("missing mask")
        if self.edited_only and not flags.edited:
            parts.append("edited")
        if self.problems_only and not flags.problems:
            parts.append("problems")
        text = self.text.strip().lower()
        if text and text not in record.key.lower() and text not in record.file_name.lower():
            parts.append(f"search '{self.text.strip()}'")
        return parts
