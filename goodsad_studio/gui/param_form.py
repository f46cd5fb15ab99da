"""A form generated from a method's :class:`ParamSpec` list: no per-method GUI code anywhere.

Each type gets the obvious editor (int: spin box, float: number field, bool: check box, choice: combo box, text or
an optional value: a line edit where empty means "automatic"). :meth:`ParamForm.values` validates every field with
the spec itself, so the form accepts exactly what the engine accepts, and names the field that is wrong.
"""

from __future__ import annotations

from typing import Any, cast

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from goodsad_studio.errors import ParamError
from goodsad_studio.params import ParamSpec, validate_params

INT_LIMIT = 2_000_000_000


class ParamForm(QWidget):
    """Editors for a list of :class:`ParamSpec` (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.specs: list[ParamSpec] = []
        self.editors: dict[str, QWidget] = {}

    def set_specs(self, specs: list[ParamSpec]) -> None:
        while self.layout_.rowCount():
            self.layout_.removeRow(0)
        self.specs, self.editors = list(specs), {}
        for spec in self.specs:
            editor = self._editor(spec)
            editor.setToolTip(f"{spec.help}\n({spec.describe()}; default {spec.default!r})".strip())
            editor.setObjectName(f"param-{spec.name}")
            self.editors[spec.name] = editor
            self.layout_.addRow(spec.name.replace("_", " "), editor)

    @staticmethod
    def _editor(spec: ParamSpec) -> QWidget:
        if spec.type == "bool" and not spec.optional:
            box = QCheckBox()
            box.setChecked(bool(spec.default))
            return box
        if spec.type == "choice":
            combo = QComboBox()
            for choice in spec.choices or ():
                combo.addItem(str(choice), choice)
            combo.setCurrentIndex(list(spec.choices or ()).index(spec.default))
            return combo
        if spec.type == "int" and not spec.optional:
            spin = QSpinBox()
            spin.setRange(
                int(spec.min) if spec.min is not None else -INT_LIMIT,
                int(spec.max) if spec.max is not None else INT_LIMIT,
            )
            spin.setValue(int(spec.default))
            return spin
        line = QLineEdit(
            "" if spec.default is None else repr(spec.default) if spec.type == "float" else str(spec.default)
        )
        if spec.optional:
            line.setPlaceholderText(spec.unset)
        return line

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values`` (unknown names are ignored)."""
        for name, value in values.items():
            editor = self.editors.get(name)
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(value)))
            elif isinstance(editor, QSpinBox):
                editor.setValue(int(value))
            elif isinstance(editor, QLineEdit):
                editor.setText("" if value is None else str(value))

    def raw_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self.specs:
            editor = self.editors[spec.name]
            if isinstance(editor, QCheckBox):
                values[spec.name] = editor.isChecked()
            elif isinstance(editor, QComboBox):
                values[spec.name] = editor.currentData()
            elif isinstance(editor, QSpinBox):
                values[spec.name] = editor.value()
            else:
                text = cast(QLineEdit, editor).text().strip()  # _editor's only other kind of editor
                values[spec.name] = None if (spec.optional and not text) else text
        return values

    def values(self) -> dict[str, Any]:
        """Validated, typed values; raises :class:`ParamError` naming the wrong field (also outlined in red)."""
        raw = self.raw_values()
        for spec in self.specs:
            editor = self.editors[spec.name]
            try:
                spec.validate(raw[spec.name])
                editor.setStyleSheet("")
            except ParamError:
                editor.setStyleSheet("border: 1px solid #e53935;")
        return validate_params(self.specs, raw)

    def changed_values(self) -> dict[str, Any]:
        """Only the values that differ from their defaults (what a model key and a job title need)."""
        values = self.values()
        return {spec.name: values[spec.name] for spec in self.specs if values[spec.name] != spec.default}
