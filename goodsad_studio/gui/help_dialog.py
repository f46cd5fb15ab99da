"""The keyboard shortcuts dialog, built from the command table so it always lists what the keys really do."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout

from goodsad_studio.gui.commands import COMMANDS, GROUPS, POINTER_HELP


def shortcut_rows() -> list[tuple[str, str, str]]:
    """(group, what, keys) for every command, grouped as in the menus, then the pointer gestures."""
    rows = []
    for group in GROUPS:
        for command in COMMANDS:
            if command.group == group:
                rows.append((group, command.text.replace("&", "").rstrip("."), ", ".join(command.keys)))
    rows += [("Pointer", what, keys) for keys, what in POINTER_HELP]
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows()
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Group", "Command", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 720)
