"""The studio's main window: the dataset tree in a dock, the image with its mask in the centre."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox

from goodsad_studio.dataset.imageio import read_image, read_mask
from goodsad_studio.dataset.index import DatasetIndex, scan_dataset
from goodsad_studio.errors import StudioError
from goodsad_studio.gui.dataset_tree import DatasetTree
from goodsad_studio.gui.image_view import ImageView


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.index: DatasetIndex | None = None
        self.setWindowTitle("goodsad-studio")
        self.image_view = ImageView(self)
        self.setCentralWidget(self.image_view)
        self.tree = DatasetTree(self)
        dock = QDockWidget("Dataset", self)
        dock.setObjectName("dataset-dock")
        dock.setWidget(self.tree)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.resizeDocks([dock], [380], Qt.Orientation.Horizontal)
        self.tree.image_selected.connect(self.show_record)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction("&Open dataset...", self._ask_open)
        file_menu.addAction("&Quit", self.close)

    def _ask_open(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset root (MVTec-AD layout)")
        if folder:
            self.open_dataset(Path(folder))

    def report(self, error: Exception) -> None:
        """Show a core error (it names the file) and keep the window usable."""
        self.statusBar().showMessage(str(error), 15000)
        if self.isVisible():
            QMessageBox.warning(self, "goodsad-studio", str(error))

    def open_dataset(self, root: Path) -> bool:
        try:
            index = scan_dataset(root)
        except StudioError as exc:
            self.report(exc)
            return False
        self.index = index
        self.tree.set_index(index)
        self.setWindowTitle(f"goodsad-studio - {root}")
        self.statusBar().showMessage(f"{len(index)} images in {len(index.categories)} categories", 5000)
        if index.records:
            first = next((record for record in index.records if record.mask_path), index.records[0])
            self.tree.select_key(first.key)
        return True

    def select_image(self, key_or_path: str) -> bool:
        """Select an image by its key (category/split/defect/stem) or by its file path."""
        if self.index is None:
            return False
        record = self.index.get(key_or_path)
        if record is None:
            wanted = Path(key_or_path).resolve()
            record = next((r for r in self.index.records if r.image_path.resolve() == wanted), None)
        if record is None:
            self.report(StudioError("no such image in the open dataset", key_or_path))
            return False
        return self.tree.select_key(record.key)

    def show_record(self, key: str) -> None:
        record = self.index.get(key) if self.index else None
        if record is None:
            return
        try:
            image = read_image(record.image_path)
            mask = read_mask(record.mask_path, shape=image.shape[:2]) if record.mask_path else None
        except StudioError as exc:
            self.report(exc)
            return
        self.image_view.show_image(image, mask)
        self.statusBar().showMessage(f"{record.key}  {image.shape[1]}x{image.shape[0]}", 0)

    def save_screenshot(self, path: Path) -> int:
        """Render the window to a PNG (offscreen works) and return a process exit code."""
        from PySide6.QtWidgets import QApplication

        for _ in range(5):
            QApplication.processEvents()
        if not self.grab().save(str(path)):
            print(f"goodsad-studio: error: {path}: could not save the screenshot")
            return 2
        print(f"screenshot saved to {path}")
        return 0
