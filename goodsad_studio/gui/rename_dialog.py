"""Rename a photo into GoodsAD's scheme: the dialog that asks for the goods id, and the engine's suggestions for it.

The suggestions come from an ``Identify`` job (the engine ranks the goods ids of the category's training photos by
how like this photo they look); they arrive while the dialog is open, in a :class:`GoodsLookup`. The dialog shows
"looking up..." until then, fills the goods id with the best match unless the user typed one already, and shows
why when there are none (no training photos with goods ids, say): a goods id can always be typed in. The new name
is shown as it would be, from the core's rules (``dataset.edits``), with each keystroke.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from goodsad_studio.dataset.edits import renamed_paths
from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.engine.contract import GoodsMatch, Identified
from goodsad_studio.errors import StudioError
from goodsad_studio.gui.jobs import Job, JobState

LOOKING_UP = "looking up the goods of this photo..."
ERROR_STYLE = "color: #c62828;"

StemFor = Callable[[str], str]
"""The stem a goods id gives the photo (``dataset.edits.goods_stem``); raises the core's error naming the problem."""


class GoodsLookup(QObject):
    """The engine's goods ids for one photo, most similar first: ``pending`` until the job ends, then ``matches``
    (empty when the engine found none) or ``error`` (the job's error, as the user should read it)."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pending = True
        self.matches: tuple[GoodsMatch, ...] = ()
        self.training_photos = 0
        self.error = ""

    def follow(self, job: Job) -> None:
        """Take the outcome of ``job`` (an ``Identify`` of this one photo) when it ends."""
        if job.running:
            job.finished.connect(self._settle)
        else:
            self._settle(job)

    def finish(self, matches: tuple[GoodsMatch, ...], training_photos: int) -> None:
        self.pending, self.matches, self.training_photos = False, tuple(matches), training_photos
        self.changed.emit()

    def fail(self, text: str) -> None:
        self.pending, self.error = False, text
        self.changed.emit()

    def _settle(self, job: Job) -> None:
        if job.state == JobState.DONE and isinstance(job.result, Identified):
            result = job.result
            self.finish(result.matches[0] if result.matches else (), result.training_photos)
        elif job.state == JobState.CANCELLED:
            self.fail("the look-up was cancelled")
        else:
            self.fail(str(job.error) if job.error is not None else "the look-up gave no answer")


class RenameDialog(QDialog):
    """Asks for the goods id of ``record`` (see the module docstring); :meth:`goods_id` once accepted."""

    def __init__(
        self, record: ImageRecord, lookup: GoodsLookup, stem_for: StemFor, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rename to goods id")
        self.record, self.lookup, self._stem_for = record, lookup, stem_for
        self._typed = False  # the user typed a goods id: a late suggestion does not replace it
        self.goods = QLineEdit()
        self.goods.setObjectName("goods-id")
        self.goods.setMaxLength(3)
        self.goods.setValidator(QRegularExpressionValidator(QRegularExpression("[0-9]{0,3}"), self.goods))
        self.goods.setPlaceholderText("3 digits")
        self.new_name = QLabel()
        self.new_name.setObjectName("new-name")
        self.new_name.setWordWrap(True)
        self.status = QLabel(LOOKING_UP)
        self.status.setObjectName("lookup-status")
        self.status.setWordWrap(True)
        self.suggestions = QListWidget()
        self.suggestions.setObjectName("suggestions")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.rename_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.rename_button.setText("Rename")
        self._layout()
        self.goods.textEdited.connect(self._user_typed)
        self.goods.textChanged.connect(lambda _text: self._preview())
        self.suggestions.itemClicked.connect(self._pick)
        self.suggestions.itemDoubleClicked.connect(self._pick_and_accept)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lookup.changed.connect(self._fill)
        if not lookup.pending:
            self._fill()
        self._preview()

    def _layout(self) -> None:
        record = self.record
        where = QLabel(f"{record.file_name} in {record.category}/{record.split}/{record.defect}")
        form = QFormLayout()
        form.addRow("Goods id", self.goods)
        form.addRow("New name", self.new_name)
        layout = QVBoxLayout(self)
        layout.addWidget(where)
        layout.addLayout(form)
        layout.addWidget(QLabel("Suggestions: goods of the most similar training photos (cosine similarity)"))
        layout.addWidget(self.status)
        layout.addWidget(self.suggestions, 1)
        layout.addWidget(self.buttons)
        self.resize(440, 360)

    def goods_id(self) -> str:
        return self.goods.text()

    # ------------------------------------------------------------------------------------ suggestions
    def _fill(self) -> None:
        """The look-up ended: list its goods ids, or say why there are none."""
        lookup = self.lookup
        self.suggestions.clear()
        if lookup.error or not lookup.matches:
            self.status.setText(f"No suggestions: {lookup.error or 'the engine found no similar goods'}")
            self.status.setStyleSheet(ERROR_STYLE)
            return
        self.status.setText(f"ranked against {lookup.training_photos} training photos")
        self.status.setStyleSheet("")
        for match in lookup.matches:
            item = QListWidgetItem(f"{match.goods_id}    {match.similarity:.3f}")
            item.setData(Qt.ItemDataRole.UserRole, match.goods_id)
            self.suggestions.addItem(item)
        if not self._typed:
            self.goods.setText(lookup.matches[0].goods_id)
        self._select_suggestion()

    def _select_suggestion(self) -> None:
        """Highlight the suggestion the goods id field holds (none when it holds another)."""
        self.suggestions.setCurrentRow(-1)
        for row in range(self.suggestions.count()):
            if self.suggestions.item(row).data(Qt.ItemDataRole.UserRole) == self.goods.text():
                self.suggestions.setCurrentRow(row)

    def _user_typed(self, _text: str) -> None:
        self._typed = True
        self._select_suggestion()

    def _pick(self, item: QListWidgetItem) -> None:
        self._typed = True
        self.goods.setText(item.data(Qt.ItemDataRole.UserRole))

    def _pick_and_accept(self, item: QListWidgetItem) -> None:
        self._pick(item)
        if self.rename_button.isEnabled():
            self.accept()

    # ------------------------------------------------------------------------------------ the new name
    def _preview(self) -> None:
        """Show the name the goods id gives (or why it gives none); Rename is enabled only for a new name."""
        text, problem = self.goods.text(), ""
        stem = ""
        if len(text) < 3:
            problem = "type the three digits of a goods id, or pick a suggestion"
        else:
            try:
                stem = self._stem_for(text)
            except StudioError as exc:
                problem = exc.problem
        if not problem and stem == self.record.stem:
            problem = f"{self.record.file_name} is a photo of goods {text} already: nothing to rename"
        self.rename_button.setEnabled(not problem)
        self.new_name.setStyleSheet(ERROR_STYLE if problem and len(text) == 3 else "")
        self.new_name.setText(problem or self._names(stem))

    def _names(self, stem: str) -> str:
        image, mask = renamed_paths(self.record, stem)
        return image.name + (f"  (mask: {mask.name})" if mask is not None else "")
