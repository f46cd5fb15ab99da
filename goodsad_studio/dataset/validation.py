"""Validation of a dataset index: every problem that would mislead a method or a metric, each naming the file.

Checks: defective test images without masks (a category without ground_truth/ is image-level only: one warning for
the category instead), masks without images, mask size differing from image size, non-binary masks (with the count
of offending pixels), empty masks on defective images, masks on good images, duplicate names,
unreadable or truncated files, odd names, training images outside train/good.

Image sizes come from file headers and completeness from the file's end markers, so validating a 6000-image GoodsAD
tree decodes only the masks; ``deep=True`` decodes every image too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from goodsad_studio.dataset.imageio import file_problem, mask_stats, probe_image, verify_image
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GOOD
from goodsad_studio.errors import StudioError

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str  # "error" or "warning"
    code: str  # a stable identifier, e.g. "missing-mask"
    path: Path
    message: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


@dataclass
class ValidationReport:
    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: str, code: str, path: Path, message: str) -> None:
        self.findings.append(Finding(severity, code, path, message))

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_code(self, code: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.code == code]

    def for_path(self, path: Path) -> list[Finding]:
        return [finding for finding in self.findings if finding.path == path]


def validate(
    index: DatasetIndex, *, deep: bool = False, progress: Callable[[int, int], None] | None = None
) -> ValidationReport:
    """Check every record and mask of ``index``; see the module docstring for what is checked."""
    report = ValidationReport()
    for first, second in index.duplicates:
        report.add(
            ERROR, "duplicate-name", second, f"duplicate image name: {first.name} in the same folder has the same stem"
        )
    for orphan in index.orphan_masks:
        report.add(
            WARNING,
            "mask-without-image",
            orphan.path,
            f"mask without an image (no test/{orphan.defect}/ image with this name)",
        )
    image_only = _image_level_only(index)
    for category in sorted(image_only):
        report.add(
            WARNING,
            "image-level-only",
            index.category_dirs[category],
            "no ground_truth/ folder: the category is evaluated at image level (pixel metrics n/a)",
        )
    total = len(index.records)
    for position, record in enumerate(index.records):
        _validate_record(record, report, deep, masks_expected=record.category not in image_only)
        if progress is not None and (position % 64 == 0 or position == total - 1):
            progress(position + 1, total)
    return report


def _image_level_only(index: DatasetIndex) -> set[str]:
    """Categories with defective test images and no ground_truth/ at all (MVTec-style sets without masks)."""
    defective = {r.category for r in index.records if r.split == "test" and r.is_anomalous}
    return {category for category in defective if index.image_level_only(category)}


def _validate_record(record: ImageRecord, report: ValidationReport, deep: bool, *, masks_expected: bool) -> None:
    image_size = None
    problem = file_problem(record.image_path)
    if problem:
        report.add(ERROR, "unreadable-image", record.image_path, problem)
    else:
        try:
            info = probe_image(record.image_path)
            image_size = (info.width, info.height)
            if deep:
                verify_image(record.image_path)
        except StudioError as exc:
            report.add(ERROR, "unreadable-image", record.image_path, exc.problem)
    if record.split == "train" and record.defect != GOOD:
        report.add(
            WARNING,
            "train-not-good",
            record.image_path,
            f"training image under train/{record.defect}/: unsupervised methods train on good images only",
        )
    if masks_expected and record.split == "test" and record.is_anomalous and record.mask_path is None:
        report.add(ERROR, "missing-mask", record.image_path, "defective test image without a ground-truth mask")
    if record.mask_path is None:
        return
    try:
        declared = probe_image(record.mask_path)
        if image_size is not None and (declared.width, declared.height) != image_size:
            report.add(  # from the header: a wrong-size mask is never decoded (it may be a decompression bomb)
                ERROR,
                "mask-size",
                record.mask_path,
                f"mask is {declared.width}x{declared.height} but its image {record.image_path.name} is "
                f"{image_size[0]}x{image_size[1]} (scale it: goodsad-studio repair-masks ROOT --resize)",
            )
            return
        stats = mask_stats(record.mask_path)
    except StudioError as exc:
        report.add(ERROR, "unreadable-mask", record.mask_path, exc.problem)
        return
    if stats.nonbinary_pixels:
        shown = ", ".join(str(v) for v in stats.values[:8])
        report.add(
            ERROR,
            "non-binary-mask",
            record.mask_path,
            f"mask is not binary: {stats.nonbinary_pixels} pixels are neither 0 nor 255 (values: {shown}; "
            "binarise it: goodsad-studio repair-masks ROOT --binarise 127)",
        )
    if stats.foreground_pixels == 0 and record.is_anomalous:
        report.add(ERROR, "empty-mask", record.mask_path, "empty mask on a defective image")
    if stats.foreground_pixels and not record.is_anomalous:
        report.add(WARNING, "mask-on-good", record.mask_path, "non-empty mask on an image in a good/ folder")
