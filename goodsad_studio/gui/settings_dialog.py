"""The Settings dialog (Edit > Settings..., Ctrl+,) and where its choices take effect.

What it sets, kept in :class:`StudioSettings`, and when each applies:

* **Device** (auto, cpu, cuda): the Methods panel's device, at once and at every start.
* **Run jobs on** this machine, or a Ray cluster (an address, or none: a one-machine Ray on this computer): the
  executor of every later fit, predict and evaluate (``engine.worker.ray_executor``), at once and at every start.
* **Default method and its parameters**: chosen in the Methods panel each time a dataset opens. The parameters are
  edited in the form generated from the method's ParamSpecs (``param_form``), so they are validated exactly as the
  engine validates them; only those that differ from the method's defaults are stored.
* **Data folder** (``GOODSAD_STUDIO_DATA``): where the studio keeps the models and results caches of read-only
  datasets, recovery journals and crash logs. From the next start (the open dataset's recovery journal lives in the
  old one); the environment variable, when set, wins. A folder that cannot be written is refused, named.
* **Results cache limit**: the most a dataset's results cache (``<state dir>/cache``: every image's score and
  heatmap per model) may hold. Checked at once and whenever a dataset opens; over it, whole result sets go, the
  least recently written first, never the newest. The dialog shows the current usage and clears the cache.
* **Autosave interval**: from the next dataset opened (the open one's autosave timer keeps its interval).
* **Segmenter** of the GrabCut box tool: the built-in GrabCut, or a SAM-style ONNX encoder + decoder pair, opened
  (and so validated) when its files are chosen (``canvas.tools.segmenter_choice``); at once and at every start.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
)

from goodsad_studio.dataset.index import DatasetIndex
from goodsad_studio.engine.cache_usage import CacheSet, cache_sets, clear_cache, folder_size, prune_cache
from goodsad_studio.engine.contract import LOCAL, Executor, ExecutorKind, MethodDescription, MethodList
from goodsad_studio.errors import StudioError
from goodsad_studio.gui.canvas.tools.segmenter_choice import SegmenterGroup, segmenter_of
from goodsad_studio.gui.methods_panel import describe_cached, known_methods, methods_cached
from goodsad_studio.gui.param_form import ParamForm
from goodsad_studio.gui.settings import AUTOSAVE_RANGE_S, CACHE_LIMIT_MAX_MB, DEVICES, StudioSettings
from goodsad_studio.gui.workers import Relay, WorkerPool
from goodsad_studio.paths import check_data_folder, dataset_state_dir, user_data_dir, xdg_data_dir

if TYPE_CHECKING:
    from goodsad_studio.gui.main_window import MainWindow
    from goodsad_studio.gui.methods_panel import MethodsPanel

DATA_ENV = "GOODSAD_STUDIO_DATA"
MB = 1024 * 1024
PANEL_CHOICE = "(the Methods panel's own choice)"


def size_text(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB / 10 or size == 0 else f"{size / 1024:.0f} kB"


# ---------------------------------------------------------------------------------------------------- applying
def executor_of(settings: StudioSettings) -> Executor:
    """The engine's executor for the settings' "Run jobs on"."""
    if settings.executor == "ray":
        return Executor(ExecutorKind.RAY, settings.ray_address or None)
    return LOCAL


def apply_data_folder(settings: StudioSettings) -> Path | None:
    """Make the chosen data folder the studio's (``GOODSAD_STUDIO_DATA``) unless the environment already names
    one; the folder applied, or None. Called by the launch before anything is written there (the demo set) and by
    the window; engine requests carry it to the worker (``contract.ENVIRONMENT``)."""
    folder = settings.data_folder
    if folder is None or os.environ.get(DATA_ENV):
        return folder if folder is not None and os.environ.get(DATA_ENV) == str(folder) else None
    os.environ[DATA_ENV] = str(folder)
    return folder


class AppliedSettings(QObject):
    """Puts the settings where they act (see the module docstring): the data folder and the device at start, the
    cache limit and the default method whenever a dataset opens."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.settings: StudioSettings = window.settings
        self.panel: MethodsPanel = window.analysis_ui.methods
        self._method_pending = False
        self.data_folder_applied = apply_data_folder(self.settings)
        self.apply_device()
        self.apply_executor()
        window.canvas.segmenter = segmenter_of(self.settings)
        self.panel.described.connect(lambda _found: self._choose_method())

    def apply_device(self) -> None:
        self.panel.device.setCurrentText(self.settings.device)

    def apply_executor(self) -> None:
        """Where the analysis's later jobs run (a job already queued keeps its own)."""
        self.window.analysis_ui.analysis.executor = executor_of(self.settings)

    def dataset_opened(self) -> None:
        """A dataset was opened: the Methods panel starts with the default method and its parameters."""
        self._method_pending = bool(self.settings.default_method)
        self._choose_method()

    def hold_cache_limit(self, index: DatasetIndex) -> list[CacheSet]:
        """Hold the results cache of ``index`` to the limit (before the analysis reads it); the sets removed."""
        limit = self.settings.cache_limit_mb
        if limit <= 0 or self.window.analysis_ui.analysis.runner.busy:  # a running job writes into the cache
            return []
        removed = prune_cache(dataset_state_dir(index.root) / "cache", limit * MB)
        if removed:
            freed = size_text(sum(item.size for item in removed))
            self.window.status.showMessage(
                f"Results cache over its {limit} MB limit: removed {len(removed)} older result "
                f"set{'s' if len(removed) != 1 else ''} ({freed})",
                15000,
            )
        return removed

    def _choose_method(self) -> None:
        """The default method in the panel once it has the method list, then its parameters once it has the
        method's description (both arrive from the engine; each ``described`` brings this a step further)."""
        if not self._method_pending:
            return
        name, panel = self.settings.default_method, self.panel
        names = [panel.method.itemText(i) for i in range(panel.method.count())]
        if not names:
            return  # the list has not arrived: its description calls again
        if name not in names:
            self._method_pending = False
            self.window.status.showMessage(f"The default method {name!r} of the settings is not installed", 15000)
            return
        if panel.method.currentText() != name:
            panel.method.setCurrentText(name)  # its description follows
            return
        description = panel.description
        if description is None or description.name != name:
            return
        self._method_pending = False
        defaults: dict[str, Any] = {spec.name: spec.default for spec in description.params}
        known = {key: value for key, value in self.settings.default_params.items() if key in defaults}
        panel.form.set_values({**defaults, **known})


# ---------------------------------------------------------------------------------------------------- the dialog
class SettingsDialog(QDialog):
    """See the module docstring; ``window`` is the :class:`MainWindow` (its settings, panels and dataset)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.settings: StudioSettings = window.settings
        self.client = window.analysis_ui.analysis.client
        self.setWindowTitle("Settings")
        self._describing = WorkerPool("settings-describe", Relay(self))
        self._measuring = WorkerPool("cache-usage", Relay(self))
        self.description: MethodDescription | None = None
        self._build()
        self._load()

    # ------------------------------------------------------------------------------------ building
    def _build(self) -> None:
        self.device = QComboBox()
        self.device.setObjectName("settings-device")
        self.device.addItems(list(DEVICES))
        self.device.setToolTip("auto: the first GPU when there is one, else the CPU")
        self.method = QComboBox()
        self.method.setObjectName("settings-method")
        self.method.addItem(PANEL_CHOICE, "")
        self.method_note = QLabel()
        self.method_note.setWordWrap(True)
        self.form = ParamForm()
        params = QScrollArea()
        params.setWidgetResizable(True)
        params.setWidget(self.form)
        params.setMinimumHeight(180)
        engine = QGroupBox("Methods")
        engine_form = QFormLayout(engine)
        engine_form.addRow("Device", self.device)
        engine_form.addRow("Default method", self.method)
        engine_form.addRow(self.method_note)
        engine_form.addRow("Parameters", params)

        self.data_folder = QLineEdit()
        self.data_folder.setObjectName("settings-data-folder")
        self.data_folder.setPlaceholderText(f"default: {xdg_data_dir()}")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_folder, 1)
        folder_row.addWidget(browse)
        self.data_note = QLabel(
            "Models and caches of read-only datasets, recovery journals, crash logs, the demo set. Applies at the "
            "next start; recovery journals already there stay in the old folder."
        )
        self.data_note.setWordWrap(True)
        self.cache_limit = QSpinBox()
        self.cache_limit.setObjectName("settings-cache-limit")
        self.cache_limit.setRange(0, CACHE_LIMIT_MAX_MB)
        self.cache_limit.setSingleStep(256)
        self.cache_limit.setSuffix(" MB")
        self.cache_limit.setSpecialValueText("no limit")
        self.cache_limit.setToolTip(
            "The most a dataset's results cache may hold; over it the least recently written result sets are removed"
        )
        self.usage = QLabel("measuring...")
        self.usage.setObjectName("settings-usage")
        self.usage.setWordWrap(True)
        self.clear = QPushButton("Clear cache")
        self.clear.setToolTip("Remove every cached heatmap and score of this dataset (computed again when asked for)")
        self.clear.clicked.connect(self.clear_cache)
        files = QGroupBox("Files and caches")
        files_form = QFormLayout(files)
        files_form.addRow("Data folder", folder_row)
        files_form.addRow(self.data_note)
        files_form.addRow("Results cache limit", self.cache_limit)
        files_form.addRow("Usage", self.usage)
        files_form.addRow("", self.clear)

        self.executor = QComboBox()
        self.executor.setObjectName("settings-executor")
        self.executor.addItem("this machine", "local")
        self.executor.addItem("a Ray cluster", "ray")
        self.ray_address = QLineEdit()
        self.ray_address.setObjectName("settings-ray-address")
        self.ray_address.setPlaceholderText("none: a one-machine Ray on this computer (e.g. ray://head:10001)")
        self.executor.currentIndexChanged.connect(
            lambda _i: self.ray_address.setEnabled(self.executor.currentData() == "ray")
        )
        jobs = QGroupBox("Jobs")
        jobs_form = QFormLayout(jobs)
        jobs_form.addRow("Run jobs on", self.executor)
        jobs_form.addRow("Ray address", self.ray_address)
        note = QLabel(
            "On Ray, a fit runs as one task per model and a prediction as tasks of a few images each; the cluster's "
            "nodes must see this dataset at the same path (docs/ray.md). Needs pip install 'goodsad-studio[ray]'."
        )
        note.setWordWrap(True)
        jobs_form.addRow(note)

        self.autosave = QDoubleSpinBox()
        self.autosave.setObjectName("settings-autosave")
        self.autosave.setRange(*AUTOSAVE_RANGE_S)
        self.autosave.setDecimals(1)
        self.autosave.setSuffix(" s")
        self.autosave.setToolTip("How often unsaved edits are written to the recovery journal")
        editing = QGroupBox("Editing")
        editing_form = QFormLayout(editing)
        editing_form.addRow("Autosave every", self.autosave)
        editing_form.addRow(QLabel("Applies from the next dataset opened."))
        self.segmenter = SegmenterGroup(self.settings)

        self.problem = QLabel()
        self.problem.setObjectName("settings-problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(engine)
        layout.addWidget(jobs)
        layout.addWidget(files)
        layout.addWidget(editing)
        layout.addWidget(self.segmenter)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(620, 760)

    def _load(self) -> None:
        settings = self.settings
        self.device.setCurrentText(settings.device)
        self.executor.setCurrentIndex(max(0, self.executor.findData(settings.executor)))
        self.ray_address.setText(settings.ray_address)
        self.ray_address.setEnabled(settings.executor == "ray")
        folder = settings.data_folder
        self.data_folder.setText(str(folder) if folder is not None else "")
        if os.environ.get(DATA_ENV) and os.environ.get(DATA_ENV) != (str(folder) if folder else None):
            self.data_note.setText(
                f"{self.data_note.text()} Now {DATA_ENV}={os.environ[DATA_ENV]} is set in the environment: it wins."
            )
        self.cache_limit.setValue(settings.cache_limit_mb)
        self.autosave.setValue(settings.autosave_s)
        self.method.currentIndexChanged.connect(lambda _i: self._describe())
        known = known_methods()
        if known is not None:
            self._listed(known, None)
        else:
            self.method_note.setText("asking the engine for its methods...")
            client = self.client
            self._describing.submit(lambda: methods_cached(client), self._listed)
        self.measure()

    def _listed(self, found: MethodList | None, error) -> None:
        if error is not None or found is None:
            self.method_note.setText(f"cannot list the methods: {error}")
            return
        self.method.blockSignals(True)
        for name in found.names:
            self.method.addItem(name, name)
        at = self.method.findData(self.settings.default_method)
        if self.settings.default_method and at < 0:
            self.method_note.setText(f"the default method {self.settings.default_method!r} is not installed")
        self.method.setCurrentIndex(max(0, at))
        self.method.blockSignals(False)
        self._describe()

    # ------------------------------------------------------------------------------------ the default method
    def chosen_method(self) -> str:
        return self.method.currentData() or ""

    def _describe(self) -> None:
        """The chosen method's ParamSpecs, from the engine (on a pool thread), for the parameter form."""
        name = self.chosen_method()
        self.description = None
        self.form.set_specs([])
        if not name:
            self.method_note.setText("The Methods panel keeps its own method and parameters when a dataset opens.")
            return
        self.method_note.setText(f"describing {name}...")
        client, request = self.client, (name, "auto", "auto", "auto")
        self._describing.submit(
            lambda: describe_cached(client, request), lambda found, error: self._described(name, found, error)
        )

    def _described(self, name: str, found: MethodDescription | None, error) -> None:
        if name != self.chosen_method():
            return  # another method was chosen meanwhile; its description follows
        if error is not None or found is None:
            self.method_note.setText(f"cannot describe {name}: {error}")
            return
        self.description = found
        self.form.set_specs(found.params)
        if name == self.settings.default_method:
            known = {spec.name for spec in found.params}
            self.form.set_values({k: v for k, v in self.settings.default_params.items() if k in known})
        self.method_note.setText(
            f"{found.description}\nThe Methods panel starts with these when a dataset opens; only values that "
            "differ from the method's defaults are kept."
        )

    # ------------------------------------------------------------------------------------ caches
    def cache_dir(self) -> Path | None:
        index = self.window_.index
        return dataset_state_dir(index.root) / "cache" if index is not None else None

    def measure(self) -> None:
        """Usage of the open dataset's results cache and of the data folder, measured on a pool thread."""
        cache_dir, data = self.cache_dir(), user_data_dir()

        def work() -> tuple[list[CacheSet], int]:
            return (cache_sets(cache_dir) if cache_dir is not None else []), folder_size(data)

        self.usage.setText("measuring...")
        self._measuring.submit(work, lambda found, error: self._measured(cache_dir, data, found, error))

    def _measured(self, cache_dir: Path | None, data: Path, found, error) -> None:
        if error is not None or found is None:
            self.usage.setText(f"cannot measure the caches: {error}")
            return
        sets, data_size = found
        if cache_dir is None:
            line = "No dataset is open."
        else:
            used = size_text(sum(item.size for item in sets))
            line = f"This dataset's results cache: {used} in {len(sets)} result set{'s' if len(sets) != 1 else ''}"
            line += f"\n({cache_dir})"
        self.usage.setText(f"{line}\nData folder: {size_text(data_size)} ({data})")
        self.usage.setToolTip(str(cache_dir) if cache_dir is not None else "")
        self.clear.setEnabled(bool(sets))

    def clear_cache(self) -> bool:
        """Remove the open dataset's results cache (asked first; refused while a job runs, as it writes there)."""
        window, cache_dir = self.window_, self.cache_dir()
        if cache_dir is None or window.index is None:
            return False
        if window.analysis_ui.analysis.runner.busy:
            self.problem.setText("A job is running and writes into the results cache: clear it when the job ends.")
            return False
        if not window.prompts.confirm(f"Remove every cached heatmap and score in {cache_dir}?"):
            return False
        try:
            removed = clear_cache(cache_dir)
        except StudioError as exc:
            self.problem.setText(str(exc))
            return False
        window.analysis_ui.dataset_opened(window.index)  # the views forget the removed result sets
        freed = size_text(sum(item.size for item in removed))
        window.status.showMessage(f"Cleared the results cache: {len(removed)} result sets, {freed}", 10000)
        self.problem.setText("")
        self.measure()
        return True

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "The studio's data folder", self.data_folder.text())
        if folder:
            self.data_folder.setText(folder)

    # ------------------------------------------------------------------------------------ saving
    def accept(self) -> None:
        """Validate every field, store them, apply what applies at once; a wrong field keeps the dialog open."""
        try:
            folder = self._checked_folder()
            params = self._checked_params()
            segmenter = self.segmenter.check()
        except StudioError as exc:
            self.problem.setText(str(exc))
            return
        settings, window = self.settings, self.window_
        restart = folder != settings.data_folder
        settings.device = self.device.currentText()
        settings.executor = self.executor.currentData()
        settings.ray_address = self.ray_address.text()
        settings.default_method = self.chosen_method()
        if params is not None:
            settings.default_params = params
        settings.data_folder = folder
        settings.cache_limit_mb = self.cache_limit.value()
        settings.autosave_s = self.autosave.value()
        self.segmenter.store(settings)
        settings.sync()
        window.canvas.segmenter = segmenter
        window.applied.apply_device()
        window.applied.apply_executor()
        if window.index is not None and window.applied.hold_cache_limit(window.index):
            window.analysis_ui.dataset_opened(window.index)
        if restart:
            window.status.showMessage("Settings saved; the data folder is used from the next start", 15000)
        elif not window.status.currentMessage().startswith("Results cache over"):
            window.status.showMessage("Settings saved", 5000)
        self._shutdown()
        super().accept()

    def reject(self) -> None:
        self._shutdown()
        super().reject()

    def _checked_folder(self) -> Path | None:
        text = self.data_folder.text().strip()
        return check_data_folder(Path(text)) if text else None

    def _checked_params(self) -> dict[str, Any] | None:
        """The changed parameters of the chosen method (raises the field's error); None while it is being
        described (the stored ones stay when the method did not change, else none are kept)."""
        if not self.chosen_method():
            return {}
        if self.description is None:
            return None if self.chosen_method() == self.settings.default_method else {}
        try:
            return self.form.changed_values()
        except StudioError as exc:
            raise StudioError(f"Default parameters of {self.description.name}: {exc.problem}") from None

    def _shutdown(self) -> None:
        self._describing.shutdown()
        self._measuring.shutdown()


def open_settings(window: MainWindow) -> Callable[[], int]:
    """The handler of Edit > Settings...: the dialog, modal."""

    def show() -> int:
        dialog = SettingsDialog(window)
        try:
            return dialog.exec()
        finally:
            dialog.deleteLater()

    return show
