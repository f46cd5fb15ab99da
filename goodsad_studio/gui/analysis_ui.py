"""Puts the analysis parts into the main window: the Methods, Heatmap, Image metrics and Triage docks, the windows
behind the Analysis menu (compare view, dataset metrics, export; the menu itself comes from the command table in
``commands.py``), and routes the panel's requests to engine jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QVBoxLayout, QWidget

from goodsad_studio.errors import StudioError
from goodsad_studio.gui.analysis import Analysis
from goodsad_studio.gui.colour_bar import HeatmapScaleLegend
from goodsad_studio.gui.compare_view import CompareView
from goodsad_studio.gui.crash_report import error_line, log_unexpected, unexpected_line
from goodsad_studio.gui.export_dialog import ExportDialog
from goodsad_studio.gui.heatmap_controls import HeatmapControls
from goodsad_studio.gui.inspector import ImageMetricsPanel
from goodsad_studio.gui.job_status import JobStatus
from goodsad_studio.gui.jobs import Job, skipped_line
from goodsad_studio.gui.methods_panel import MethodsPanel
from goodsad_studio.gui.metrics_view import MetricsView
from goodsad_studio.gui.overlay import Overlay
from goodsad_studio.gui.rename_dialog import GoodsLookup
from goodsad_studio.gui.triage_panel import TriagePanel

if TYPE_CHECKING:
    from goodsad_studio.gui.main_window import MainWindow


def _dock(window: QMainWindow, title: str, name: str, widget: QWidget) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    scroll = QScrollArea()  # the panels scroll rather than force a large minimum window size
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(widget)
    dock.setWidget(scroll)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    return dock


class AnalysisUI:
    """See the module docstring; ``window`` is the :class:`MainWindow`."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.analysis = Analysis(window)
        self.methods = MethodsPanel(self.analysis)
        self.controls = HeatmapControls()
        self.metrics = ImageMetricsPanel()
        inspect = QWidget()
        column = QVBoxLayout(inspect)
        column.addWidget(self.controls)
        column.addWidget(self.metrics)
        column.addStretch(1)
        self.overlay = Overlay(window, self.analysis, self.controls, self.metrics)
        self.scale_legend = HeatmapScaleLegend(window, self.analysis, self.controls, self.overlay)
        column.insertWidget(1, self.scale_legend)  # under the heatmap controls; follows the overlay (made first)
        self.triage = TriagePanel(window, self.analysis)
        methods_dock = _dock(window, "Methods", "methods-dock", self.methods)
        inspect_dock = _dock(window, "Heatmap and image metrics", "inspect-dock", inspect)
        triage_dock = _dock(window, "Triage", "triage-dock", self.triage)
        window.splitDockWidget(methods_dock, inspect_dock, Qt.Orientation.Vertical)
        self.methods_dock = methods_dock
        self.job_status = JobStatus(self.analysis.runner, self.show_jobs)
        window.status.insertPermanentWidget(0, self.job_status)
        window.tabifyDockWidget(inspect_dock, triage_dock)
        inspect_dock.raise_()
        self.compare = CompareView(window, self.analysis, self.controls, window)
        self.metrics_view = MetricsView(window, self.analysis, window)
        self.methods.run_requested.connect(self.run)
        self.analysis.job_failed.connect(self._job_failed)
        self.analysis.images_skipped.connect(self._images_skipped)
        for view in (self.metrics_view, self.triage, self.compare):
            view.open_image.connect(window.select_image)

    def dataset_opened(self, index) -> None:
        self.analysis.set_index(index)
        self.overlay.refresh()

    # ------------------------------------------------------------------------------------ jobs
    def run(self, kind: str, spec, scope: str):
        """Start ``kind`` (fit / predict / evaluate) of ``spec`` for the current image's category."""
        record = self.window.current
        if record is None or self.analysis.workspace is None:
            self.window.status.showMessage("Open a dataset and choose an image first", 8000)
            return None
        category = record.category
        if kind == "fit":
            return self.analysis.fit(spec, category)
        if kind == "evaluate":
            return self.analysis.evaluate(spec, category)
        test = self.analysis.workspace.test_records(category)
        if scope == "image":
            records, what = [record], record.key
        elif scope == "goods":
            records, what = [r for r in test if r.group == record.group], f"{category} goods {record.group}"
        else:
            records, what = test, f"{category} (test)"
        if record not in records and scope != "image":
            records = records + [record]
        return self.analysis.predict(spec, category, records, what)

    def _job_failed(self, job: Job) -> None:
        """One line in the status bar: the error's message (a worker's traceback stays behind the job list's
        Details button); an unexpected error of the studio's own process also gets a crash log, named here."""
        error = job.error
        if error is None:
            return
        line = error_line(error)
        if not isinstance(error, StudioError):
            index = self.window.index
            line = unexpected_line(error, log_unexpected(error, index.root if index is not None else None))
        self.window.status.showMessage(f"{job.title} {job.state}: {line}", 15000)

    def _images_skipped(self, job: Job) -> None:
        """The first image the job left out and why, in the status bar (the job list's row names them all)."""
        index = self.window.index
        self.window.status.showMessage(skipped_line(job.skipped, index.root if index is not None else None), 30000)

    def look_up_goods(self, record) -> GoodsLookup:
        """Start the engine's look-up of the goods of ``record``'s photo (a job, with the methods panel's
        goods-aware method or PatchCore); the lookup it returns fills in when the job ends."""
        job = self.analysis.identify(self.methods.identify_spec(), record.category, [record.image_path])
        lookup = GoodsLookup(job)  # lives as long as the job (the job list keeps it)
        lookup.follow(job)
        return lookup

    # ------------------------------------------------------------------------------------ windows
    def show_jobs(self) -> None:
        """Bring the Methods dock forward, scrolled to its job list."""
        self.methods_dock.show()
        self.methods_dock.raise_()
        scroll = cast(QScrollArea, self.methods_dock.widget())  # _dock wraps every panel in a QScrollArea
        scroll.ensureWidgetVisible(self.methods.jobs)

    def show_compare(self) -> None:
        self.compare.show()
        self.compare.raise_()

    def show_metrics(self) -> None:
        self.metrics_view.refresh()
        self.metrics_view.show()
        self.metrics_view.raise_()

    def export(self) -> None:
        if self.analysis.workspace is None:
            return
        dialog = ExportDialog(self.analysis, self.window.current.category if self.window.current else None, self.window)
        if dialog.exec():
            try:
                dialog.start()
            except StudioError as exc:
                self.window.report(exc)

    @property
    def busy(self) -> bool:
        return self.analysis.busy or self.overlay.busy

    def shutdown(self) -> None:
        self.analysis.shutdown()
        self.overlay.shutdown()
        self.methods.shutdown()
        self.compare.close()
        self.metrics_view.close()
