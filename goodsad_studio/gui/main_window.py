"""The studio's main window: it wires the parts together and holds no annotation or dataset logic itself.

Parts: the dataset dock (:class:`DatasetPanel`: filters and tree), the :class:`Canvas` in the centre, the
thumbnail strip of the current goods id, the tool bar and status bar. Images come from the :class:`ImageLoader`
(preview first, full resolution in the background, neighbours prefetched), mask documents from the
:class:`DocumentStore` (recovery prompt, autosave, saving). Questions go through :class:`Prompts`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QElapsedTimer, Qt, QThread, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QMainWindow, QWidget

from goodsad_studio.annotation.recovery import RecoveryJournal
from goodsad_studio.dataset.edits import trash_root
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord, scan_dataset
from goodsad_studio.errors import MaskChangedError, StudioError
from goodsad_studio.gui import record_actions
from goodsad_studio.gui.about_dialog import AboutDialog
from goodsad_studio.gui.analysis_ui import AnalysisUI
from goodsad_studio.gui.canvas import Canvas
from goodsad_studio.gui.canvas_preferences import CanvasPreferences
from goodsad_studio.gui.commands import build_actions
from goodsad_studio.gui.dataset_panel import DatasetPanel
from goodsad_studio.gui.documents import DocumentStore
from goodsad_studio.gui.gui_thread_gc import collect_on_gui_thread
from goodsad_studio.gui.help_dialog import ShortcutsDialog
from goodsad_studio.gui.image_loader import ImageLoader
from goodsad_studio.gui.mask_repair_actions import MaskRepairActions
from goodsad_studio.gui.prompts import CANCEL, DISCARD, KEEP, KEEP_BOTH, OVERWRITE, SAVE, Prompts, SilentPrompts
from goodsad_studio.gui.rename_history import Moved, Rename, RenameHistory
from goodsad_studio.gui.settings import StudioSettings
from goodsad_studio.gui.settings_dialog import AppliedSettings, open_settings
from goodsad_studio.gui.status_bar import StudioStatusBar
from goodsad_studio.gui.thumbnail_strip import ThumbnailStrip
from goodsad_studio.gui.tree_filter import RecordFlags
from goodsad_studio.gui.window_chrome import ToolControls, build_menus, fill_recent, list_panels
from goodsad_studio.gui.workers import Relay, WorkerPool

SAVED, FAILED = "saved", "failed"  # what one save did (or CANCEL: the user kept the file on disk as it was)
KEPT_AT = " kept in the trash at "  # annotation.storage's note after a keep_both save names the copy after this


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: StudioSettings | None = None,
        prompts: Prompts | None = None,
        *,
        interactive: bool = True,
        autosave_ms: int | None = None,
    ) -> None:
        super().__init__()
        collect_on_gui_thread()  # never destroy Qt objects on a worker thread (see gui_thread_gc)
        self.settings = settings or StudioSettings()
        self.prompts = prompts or (Prompts(self) if interactive else SilentPrompts(self))
        self._autosave_ms = autosave_ms
        self.remember_recent = True  # File > Open recent (off for a one-off render: ``gui --screenshot``)
        self.index: DatasetIndex | None = None
        self.store: DocumentStore | None = None
        self.findings: record_actions.Findings = {}
        self.current: ImageRecord | None = None
        self.renames = RenameHistory()
        self._shown_at = QElapsedTimer()
        self.setWindowTitle("goodsad-studio")
        self.loader = ImageLoader(self)
        self._checks = WorkerPool("validate", Relay(self))
        self.canvas = Canvas(self)
        self.setCentralWidget(self.canvas)
        self.panel = DatasetPanel(self)
        self.tree = self.panel.tree
        self.tree.flags_for = self._flags
        self.tree.tooltip_for = self._tooltip
        self.thumbnails = ThumbnailStrip(self.loader, self)
        dataset_dock = self._dock("Dataset", "dataset-dock", self.panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("Goods", "thumbnails-dock", self.thumbnails, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.status = StudioStatusBar(self)
        self.setStatusBar(self.status)
        self.prefs = CanvasPreferences(self.settings, self.canvas, self.status)
        self.mask_repair = MaskRepairActions(self)  # a mask refused as not binary or the wrong size: repair it
        self.actions_by_id = build_actions(self, self._handlers())
        self.recent_menu = build_menus(self, self.actions_by_id)
        self.controls = ToolControls(self, self.actions_by_id)
        self.controls.wand.bind(self.canvas.tools["wand"], self.settings)
        self.analysis_ui = AnalysisUI(self)  # methods, heatmaps, metrics, compare, export (GUI part 2)
        self.canvas.heatmap_source = self.shown_heatmap  # the heatmap-seeded tool's seed
        self.view_menu = list_panels(self, [self.actions_by_id["compare"], self.actions_by_id["metrics"]])
        self.applied = AppliedSettings(self)  # device, default method, cache limit, data folder (settings_dialog)
        self._update_rename_actions()
        self._connect()
        self._apply_settings()
        self.resizeDocks([dataset_dock], [400], Qt.Orientation.Horizontal)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _handlers(self) -> dict:
        return {
            **self.prefs.handlers(),
            **self.mask_repair.handlers(),
            "open": self._ask_open,
            "save": self.save_current,
            "save_all": self.save_all,
            "quit": self.close,
            "next": lambda: self.step(1),
            "prev": lambda: self.step(-1),
            "find": lambda: self.panel.filters.search.setFocus(),
            "mark_good": self.mark_good,
            "mark_defective": self.mark_defective,
            "rename_goods": self.rename_to_goods,
            "undo_rename": self.undo_rename,
            "redo_rename": self.redo_rename,
            "help": lambda: ShortcutsDialog(self).exec(),
            "settings": open_settings(self),
            "about": lambda: AboutDialog(self.analysis_ui.methods.description, self.settings.file_name(), self).exec(),
            # the analysis part is built after the actions: look it up when the command runs
            "compare": lambda: self.analysis_ui.show_compare(),
            "metrics": lambda: self.analysis_ui.show_metrics(),
            "export": lambda: self.analysis_ui.export(),
            "propose": lambda: self.analysis_ui.overlay.propose(),
        }

    def _connect(self) -> None:
        self.tree.image_selected.connect(self.show_record)
        self.panel.filters.filter_changed.connect(lambda _f: self._after_filter())
        self.thumbnails.image_selected.connect(self._thumbnail_chosen)
        self.loader.full_ready.connect(self._on_full_image)
        self.loader.load_failed.connect(self._on_load_failed)
        self.loader.document_ready.connect(self._on_document)
        self.canvas.hovered.connect(self.status.show_pixel)
        self.canvas.zoom_changed.connect(self.status.show_zoom)
        self.canvas.message.connect(lambda text: self.status.showMessage(text, 8000))
        self.canvas.document_changed.connect(self._on_edit)
        self.canvas.editable_changed.connect(self._on_editable)
        self.canvas.mark_defective_requested.connect(self.mark_defective)

    def shown_heatmap(self):
        """The displayed method's result of the image shown and the threshold set for it, or None."""
        result = self.analysis_ui.overlay.result
        return None if result is None else (result, self.analysis_ui.controls.threshold())

    def _thumbnail_chosen(self, key: str) -> None:
        if not self.tree.select_key(key):
            self.show_record(key)

    def _apply_settings(self) -> None:
        self.prefs.bind(self.controls, self.actions_by_id)
        geometry, state = self.settings.window_layout()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        fill_recent(self.recent_menu, self.settings.recent_datasets(), self.open_dataset)

    # ------------------------------------------------------------------------------------ dataset
    def _ask_open(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a dataset root (MVTec-AD layout)")
        if folder:
            self.open_dataset(Path(folder))

    def report(self, error: Exception) -> None:
        """Show a core error (it names the file) and keep the window usable."""
        self.status.showMessage(str(error), 20000)
        self.prompts.warn(str(error))

    def open_dataset(self, root: Path, select: str | None = None) -> bool:
        """Open a dataset root and show ``select`` (a key or image path), else its first image with a mask."""
        if self.store is not None and not self._settle_unsaved():
            return False
        try:
            index = scan_dataset(root)
        except StudioError as exc:
            self.report(exc)
            return False
        if self.store is not None:
            self.store.stop()
        journal = RecoveryJournal.for_dataset(root)
        self.index, self.current, self.findings = index, None, {}
        self.renames.clear()
        self._update_rename_actions()
        self.store = DocumentStore(
            index,
            journal,
            self.prompts.ask_recovery,
            self,
            autosave_ms=self._autosave_ms if self._autosave_ms is not None else round(self.settings.autosave_s * 1000),
        )
        self.store.state_changed.connect(self._on_state)
        self.canvas.clear("Choose an image in the dataset tree")
        self.panel.filters.set_defects(
            sorted({d for c in index.categories for d in index.defects(c)}, key=lambda d: (d != "good", d))
        )
        self.tree.set_index(index)
        self.applied.hold_cache_limit(index)
        self.analysis_ui.dataset_opened(index)
        self.applied.dataset_opened()
        self.setWindowTitle(f"goodsad-studio - {root}")
        if self.remember_recent:
            fill_recent(self.recent_menu, self.settings.add_recent(root), self.open_dataset)
        recoverable = len(journal.keys())
        notes = f"; {recoverable} images have recoverable edits" if recoverable else ""
        self.status.showMessage(f"{len(index)} images in {len(index.categories)} categories{notes}", 8000)
        if self.store.legacy_notes:  # an older version's recovery entries, re-keyed or dropped (once)
            self.prompts.warn("Unsaved edits autosaved by an older version:\n" + "\n".join(self.store.legacy_notes))
        self._checks.submit(
            lambda: record_actions.check_records(index, index.records),
            lambda found, error: self._on_findings(index, found, error),
        )
        if select is not None:
            self.select_image(select)
        elif index.records:
            first = next((record for record in index.records if record.mask_path), index.records[0])
            self.tree.select_key(first.key)
        return True

    def _on_findings(self, index: DatasetIndex, found, error) -> None:
        if index is not self.index or error is not None:
            return
        self.findings = found
        self.tree.refresh_all()

    def recheck(self, record: ImageRecord) -> None:
        """Validate ``record`` again after its files changed (a mask repaired), behind any validation pass still
        running: that pass's older findings arrive first and cannot overwrite these."""
        index = self.index
        if index is None:
            return

        def done(found, error) -> None:
            if index is self.index and error is None:
                self.findings.update({path: found.get(path, []) for path in _paths(record)})
                self.tree.refresh_record(record.key)

        self._checks.submit(lambda: record_actions.check_records(index, [record]), done)

    def _flags(self, record: ImageRecord) -> RecordFlags:
        problems = sum(len(self.findings.get(path, [])) for path in _paths(record))
        store = self.store
        if store is None:
            return RecordFlags(problems=problems)
        return RecordFlags(
            edited=store.is_edited(record.key),
            unsaved=store.is_modified(record.key),
            recoverable=store.has_recoverable(record),
            problems=problems,
        )

    def _tooltip(self, record: ImageRecord) -> str:
        lines = [str(record.image_path)] + ([f"mask: {record.mask_path}"] if record.mask_path else [])
        for path in _paths(record):
            lines += self.findings.get(path, [])
        return "\n".join(lines)

    def _after_filter(self) -> None:
        if self.current is not None and self.tree.current_key() is None:
            self.status.showMessage("The current image is hidden by the filter", 5000)
        if self.current is not None:
            self._load_around(self.current.key)  # the strip dims what the filter hides now

    # ------------------------------------------------------------------------------------ images
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
        if not self.tree.select_key(record.key):
            self.show_record(record.key)
        return True

    def show_record(self, key: str) -> None:
        index, store = self.index, self.store
        record = index.get(key) if index is not None else None
        if index is None or record is None or store is None:
            return
        clock = self._shown_at = QElapsedTimer()
        clock.start()
        self.current = record
        self.panel.follow(key)  # the tree selects it, or says which filter hides it
        self.loader.current = record.image_path
        lock = record_actions.mask_lock(record)  # a good image: no edit that could not be saved
        self.canvas.set_locked(lock.reason if lock else None, lock is not None and lock.offer_mark_defective)
        try:
            display = self.loader.preview(record.image_path)
        except StudioError as exc:
            self.canvas.clear(f"Cannot show this image:\n{exc}")
            self.status.showMessage(str(exc), 20000)
            self.status.show_state(None)
            return
        ready = store.get(key) or self.loader.take_document(record)
        if ready is not None:  # open already, or prefetched: image and mask appear together
            self.canvas.set_content(display, self._adopt(ready))
        else:  # the image shows now, the mask follows from a worker
            self.canvas.set_content(display, None)
            self.loader.request_document(index, record)
        if not display.full:
            self.loader.request_full(record.image_path)
        if display.full:  # the thumbnails and the neighbours wait for the paint, or for the full decode
            QTimer.singleShot(0, lambda: self._load_around(key))
        follows = "" if display.full else ", full resolution follows"
        self.status.showMessage(f"{key}  {display.width}x{display.height}  (shown in {clock.elapsed()} ms{follows})", 0)

    def _on_document(self, key: str, document, error: Exception | None) -> None:
        """The mask document of ``key`` was read in the background."""
        if self.current is None or key != self.current.key:
            return
        if error is not None:
            if not self.mask_repair.offer(error):  # not binary, wrong size: the repair is offered instead
                self.report(error)
            return
        adopted = self._adopt(document)
        if adopted is not None:
            self.canvas.set_document(adopted)

    def _adopt(self, document):
        """Enter a document in the store (which offers recovered edits); None (reported) when it fails."""
        try:
            document = self.store.open(self.current, document)
        except StudioError as exc:
            self.report(exc)
            return None
        if document.notes:
            self.status.showMessage("; ".join(document.notes), 15000)
        self._on_state(self.current.key)
        return document

    def _load_around(self, key: str) -> None:
        """Thumbnails of the goods and the neighbours in the tree, once the image itself is in."""
        if self.current is None or self.current.key != key:
            return
        goods = self.tree.goods_records(key) or [self.current]  # the whole goods; the filter's hidden ones dimmed
        self.thumbnails.show_group(goods, key, [r.key for r in goods if not self.tree.is_shown(r.key)])
        self._prefetch_neighbours(key)

    def _prefetch_neighbours(self, key: str) -> None:
        keys = self.tree.visible_keys()
        index = self.index
        if key not in keys or index is None:  # the tree shows keys only once a dataset is open
            return
        at = keys.index(key)
        near = [keys[i] for i in (at + 1, at - 1, at + 2) if 0 <= i < len(keys)]
        records = [index.get(k) for k in near]
        self.loader.prefetch(index, [record for record in records if record is not None])

    def step(self, offset: int) -> None:
        """Show the next (1) or previous (-1) image of the tree."""
        keys = self.tree.visible_keys()
        if not keys:
            return
        current = self.current.key if self.current is not None else None
        at = keys.index(current) + offset if current in keys else 0
        if 0 <= at < len(keys):
            self.tree.select_key(keys[at])

    def _on_full_image(self, path: str) -> None:
        if self.current is not None and Path(path) == self.current.image_path:
            image = self.loader.cached(self.current.image_path)
            assert image is not None  # full_ready is emitted right after the image was cached
            self.canvas.set_display(image)
            display = self.canvas.display
            assert display is not None  # set_content showed this image's preview before its full decode
            self.status.showMessage(
                f"{self.current.key}  {display.width}x{display.height}"
                f"  (full resolution in {self._shown_at.elapsed()} ms)",
                0,
            )
            self._load_around(self.current.key)

    def _on_load_failed(self, path: str, error: Exception) -> None:
        if self.current is not None and Path(path) == self.current.image_path:
            self.report(error)
            self._load_around(self.current.key)

    # ------------------------------------------------------------------------------------ edits and saving
    def _on_editable(self, enabled: bool) -> None:
        """The canvas locked or unlocked mask editing: the tools, undo, redo, delete and propose follow."""
        self.controls.set_mask_editing(enabled)
        self.analysis_ui.controls.propose_button.setEnabled(enabled)

    def _on_edit(self) -> None:
        if self.current is not None and self.store is not None:
            self.store.touched(self.current.key)

    def _on_state(self, key: str) -> None:
        self.tree.refresh_record(key)
        if self.current is None or key != self.current.key or self.store is None:
            return
        state = self.store.state(key)
        self.status.show_state(state, self.store.autosaved_at.get(key, "") if state.value == "autosaved" else "")
        dirty = " *" if self.store.is_modified(key) else ""
        self.setWindowTitle(f"goodsad-studio - {key}{dirty}")

    def save_current(self) -> bool:
        return self.current is not None and self._save(self.current.key)

    def save_all(self) -> bool:
        """Save every document with edits; False when a save failed (reported; the others are still saved) or the
        user cancelled a conflict prompt (then the documents after it are left unsaved too)."""
        if self.store is None:
            return False
        saved = True
        for key in self.store.modified_keys():
            outcome = self._save_one(key)
            if outcome == CANCEL:
                return False
            saved = saved and outcome == SAVED
        return saved

    def _save(self, key: str) -> bool:
        return self._save_one(key) == SAVED

    def _save_one(self, key: str) -> str:
        """Save ``key``'s document: ``SAVED``, ``FAILED`` (reported) or ``CANCEL`` (its file changed on disk since
        it was opened and the user chose not to write over it: the edits stay unsaved)."""
        # callers check that an image is shown or that edits exist: both need an open dataset
        assert self.store is not None and self.index is not None
        document = self.store.get(key)
        notes = len(document.notes) if document is not None else 0
        try:
            try:
                record = self.store.save(key)
            except MaskChangedError as exc:  # another window or program saved (or removed) the file meanwhile
                path = exc.path if exc.path is not None else Path(key)  # the core's error names the mask file
                answer = self.prompts.ask_conflict(path, trash_root(self.index))
                if answer not in (KEEP_BOTH, OVERWRITE):
                    self.status.showMessage(
                        f"Not saved: {path} changed on disk since it was opened; your edits are still unsaved", 20000
                    )
                    return CANCEL
                record = self.store.save(key, "keep_both" if answer == KEEP_BOTH else "overwrite")
        except StudioError as exc:
            self.report(exc)
            return FAILED
        self.loader.forget_documents()
        if self.current is not None and self.current.key == key:
            self.current = record
        self.findings.update({p: [] for p in _paths(record)})
        self.findings.update(record_actions.check_records(self.index, [record]))
        self.tree.refresh_record(key)
        kept = document.notes[notes:] if document is not None else []  # keep_both names the other version's copy
        if kept:
            self.status.showMessage(self._kept_message(kept, record.mask_path or Path(key)), 30000)
        else:
            self.status.showMessage(f"Saved {record.mask_path or key}", 8000)
        return SAVED

    def _kept_message(self, notes: list[str], saved: Path) -> str:
        """The status line after a save that kept the other editor's version: where the copy is first (a status
        line is cut at the window's edge), relative to the dataset root shown in the title."""
        note = "; ".join(notes)
        copy = note.rpartition(KEPT_AT)[2] if KEPT_AT in note else ""
        if not copy or self.index is None:
            return f"Saved {note}"
        shown = Path(copy)
        if shown.is_relative_to(self.index.root):
            shown = shown.relative_to(self.index.root)
        return f"The other editor's version is kept in the trash at {shown}; saved {saved.name}"

    def mark_good(self) -> None:
        self._mark(record_actions.mark_record_good)

    def mark_defective(self) -> None:
        self._mark(record_actions.mark_record_defective)

    def _mark(self, action) -> None:
        index = self.index
        if self.current is None or self.store is None or index is None:  # a store exists only with an index
            return
        old = self.current
        try:
            new = action(index, self.store, self.loader, self.prompts, old)
        except StudioError as exc:
            self.report(exc)
            return
        if new is not None:
            self._show_moved(index, old, new, "Moved")

    def rename_to_goods(self) -> None:
        """Rename the current photo to a goods id asked for (the engine's suggestions fill in meanwhile)."""
        index, old = self.index, self.current
        if old is None or self.store is None or index is None:  # a store exists only with an index
            return
        lookup = self.analysis_ui.look_up_goods(old)
        try:
            new = record_actions.rename_record_to_goods(index, self.store, self.loader, self.prompts, old, lookup)
        except StudioError as exc:
            self.report(exc)
            return
        if new is not None and new != old:
            self.renames.record(old, new)
            self._update_rename_actions()
            self._show_moved(index, old, new, "Renamed")

    def undo_rename(self) -> None:
        self._step_renames(self.renames.undo, "Undid the rename:")

    def redo_rename(self) -> None:
        self._step_renames(self.renames.redo, "Renamed again:")

    def _step_renames(self, step: Callable[[DatasetIndex, Rename], Moved | None], verb: str) -> None:
        """Undo or redo a rename (``step``), then show the photo under the name it has now."""
        index, store = self.index, self.store
        if index is None or store is None:
            return
        try:
            moved = step(
                index, lambda record, stem: record_actions.rename_record_to(index, store, self.loader, record, stem)
            )
        except StudioError as exc:
            self.report(exc)
            return
        finally:
            self._update_rename_actions()
        if moved is None:
            self.status.showMessage("No rename to undo or redo", 5000)
            return
        old, new = moved
        self._show_moved(index, old, new, verb)

    def _update_rename_actions(self) -> None:
        self.actions_by_id["undo_rename"].setEnabled(self.renames.can_undo)
        self.actions_by_id["redo_rename"].setEnabled(self.renames.can_redo)

    def _show_moved(self, index: DatasetIndex, old: ImageRecord, new: ImageRecord, verb: str) -> None:
        """An image-level edit moved or renamed ``old`` to ``new``: findings, filters and tree follow, ``new`` shows."""
        if new == old:
            return
        for path in _paths(old):
            self.findings.pop(path, None)
        self.findings.update(record_actions.check_records(index, [new]))
        self.panel.filters.set_defects(
            sorted({d for c in index.categories for d in index.defects(c)}, key=lambda d: (d != "good", d))
        )
        self.current = None
        self.tree.rebuild()
        self.status.showMessage(f"{verb} {old.key} to {new.key}", 8000)
        if not self.tree.select_key(new.key):
            self.show_record(new.key)

    # ------------------------------------------------------------------------------------ closing
    def _settle_unsaved(self) -> bool:
        """Ask what to do with unsaved edits; False when the user cancelled."""
        if self.store is None:
            return True
        modified = self.store.modified_keys()
        if not modified:
            return True
        answer = self.prompts.ask_unsaved(modified)
        if answer == SAVE:
            return self.save_all()
        if answer == DISCARD:
            for key in modified:
                self.store.discard(key)
            return True
        if answer == KEEP:
            self.store.autosave()
            return True
        return False  # CANCEL

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if not self._settle_unsaved():
            event.ignore()
            return
        self.settings.save_window_layout(self.saveGeometry(), self.saveState())
        self.settings.sync()
        if self.store is not None:
            self.store.stop()
        self.loader.shutdown()
        self.canvas.shutdown()
        self._checks.shutdown()
        self.analysis_ui.shutdown()
        event.accept()

    def wait_until_loaded(self, timeout_ms: int = 15000) -> bool:
        """Process events until the full image, its thumbnails and the validation pass are in (or timeout)."""
        clock = QElapsedTimer()
        clock.start()
        while clock.elapsed() < timeout_ms:
            QApplication.processEvents()
            full = self.current is None or self.canvas.image_layer.is_full_resolution or self.canvas.display is None
            if full and not self.loader.busy and not self._checks.busy:
                QApplication.processEvents()
                return True
            QThread.msleep(10)
        return False

    def wait_until_settled(self, timeout_ms: int = 45000) -> bool:
        """:meth:`wait_until_loaded`, then until the Methods panel has described its method (backbone, weights,
        device) and the heatmap and image metrics are drawn: the window as a user sees it a moment later."""
        clock = QElapsedTimer()
        clock.start()
        if not self.wait_until_loaded(timeout_ms):
            return False
        ui = self.analysis_ui
        while clock.elapsed() < timeout_ms:
            QApplication.processEvents()
            if ui.methods.description is not None and not ui.busy:
                settle = QElapsedTimer()
                settle.start()
                while settle.elapsed() < 100:  # layouts ripple up one event-loop round per level
                    QApplication.processEvents()
                    QThread.msleep(5)
                return True
            QThread.msleep(10)
        return False

    def save_screenshot(self, path: Path) -> int:
        """Render the settled window to a PNG (offscreen works) and return a process exit code."""
        self.wait_until_settled()
        if not self.grab().save(str(path)):
            print(f"goodsad-studio: error: {path}: could not save the screenshot")
            return 2
        print(f"screenshot saved to {path}")
        return 0


def _paths(record: ImageRecord) -> list[Path]:
    """The files of ``record`` that validation findings can name: its image, and its mask when it has one."""
    return [record.image_path] + ([record.mask_path] if record.mask_path is not None else [])
