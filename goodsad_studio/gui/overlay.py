"""Keeps the canvas heatmap and the per-image metrics in step with the image, the displayed method's results, the
display settings and the mask being edited. Numbers come from ``engine.inspect``; this module only routes them.

What is displayed is the heatmap dock's Showing choice (``Analysis.shown``, per category), never the method set up
in the Methods panel: setting up another method leaves the heatmap and its threshold as they are. The threshold is
kept per (category, displayed method) for the session; a method starts at its evaluation's F1-max threshold.

The per-image metrics run in a worker (a 3000 px image takes a few hundred ms); while the user edits, requests are
coalesced so the newest mask is always the next one measured, and the TP/FP/FN overlay follows the edits.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from goodsad_studio.engine.cache import CachedResult
from goodsad_studio.engine.inspect import (
    CALIBRATED_THRESHOLD,
    colour_range,
    inspect_image,
    propose_mask,
    threshold_contours,
)
from goodsad_studio.errors import StudioError
from goodsad_studio.gui.canvas.heatmap_layer import HeatmapLayer
from goodsad_studio.gui.canvas.view_layer import ViewLayer
from goodsad_studio.gui.workers import Relay, WorkerPool

EXACT_CONTOUR_PIXELS = 1_000_000  # below this the contour is traced on the native-size map


class Overlay(QObject):
    """See the module docstring. ``inspected`` fires with each new :class:`ImageInspection` (or None)."""

    inspected = Signal(object)

    def __init__(self, window, analysis, controls, panel) -> None:
        super().__init__(window)
        self.window, self.analysis, self.controls, self.panel = window, analysis, controls, panel
        self.layer = HeatmapLayer()
        window.canvas.scene().addItem(self.layer)
        self.view_layer = ViewLayer()
        window.canvas.scene().addItem(self.view_layer)
        self._pool = WorkerPool("inspect", Relay(self))
        self._wanted = 0
        self._pending = False
        self._closed = False  # after shutdown(): a late measurement result starts no new one
        self._threshold_for: tuple[str, str] | None = None  # the (category, method) the threshold is of
        self._thresholds: dict[tuple[str, str], float] = {}  # the others', as the user left them
        self.result = None
        self._edits = QTimer(self)
        self._edits.setSingleShot(True)
        self._edits.setInterval(40)
        self._edits.timeout.connect(self.measure)
        window.canvas.content_changed.connect(self.refresh)
        window.canvas.document_changed.connect(self._edits.start)
        controls.changed.connect(self.refresh)
        controls.propose.connect(self.propose)
        controls.show_chosen.connect(self._show_chosen)
        analysis.results_changed.connect(lambda _c: self.refresh())
        analysis.shown_changed.connect(lambda _c: self.refresh())
        analysis.result_arrived.connect(self._arrived)
        analysis.outcome_ready.connect(self._evaluated)

    def _show_chosen(self, method: str) -> None:
        record = self.window.current
        if record is not None and method:
            self.analysis.show(record.category, method)

    def _arrived(self, category: str, method: str) -> None:
        """A job's results that are not displayed (the user looks at another method's): say where they are."""
        record = self.window.current
        if record is not None and record.category == category:
            shown = self.analysis.shown_method(category)
            self.window.status.showMessage(
                f"{method} results for {category} are ready; the heatmap still shows {shown}: "
                f"choose {method} under Showing (Heatmap dock) to see them",
                15000,
            )

    def _evaluated(self, outcome) -> None:
        """A new evaluation: its method starts again at the evaluation's F1-max threshold (other methods keep
        theirs)."""
        key = (outcome.category, outcome.method)
        self._thresholds.pop(key, None)
        if self._threshold_for == key:
            self._threshold_for = None
        self.refresh()

    @property
    def busy(self) -> bool:
        return self._pool.busy or self._pending or self._edits.isActive()

    def refresh(self) -> None:
        """Redraw the heatmap of the current image and measure it again."""
        record, canvas = self.window.current, self.window.canvas
        method = self.analysis.shown_method(record.category) if record is not None else ""
        offered = self.analysis.methods_with_results(record.category) if record is not None else []
        self.controls.set_showing(offered, method)
        found = record is not None and canvas.display is not None and method
        self.result = result = self.analysis.result(record, method) if found else None
        if result is None:
            self.layer.set_heatmap(None, self.layer.native_size, 0.0, 1.0, self.controls.lut(), 0.0)
            self.view_layer.set_view(self.layer.native_size, None, ())
            if record is None:
                self.panel.show_none("")
            elif method:
                self.panel.show_none(f"No {method} result for this image yet: predict it (Methods panel).")
            else:
                self.panel.show_none(f"No results for {record.category} yet: predict it (Methods panel).")
            self.inspected.emit(None)
            return
        summary = self.analysis.summary(record.category, method)
        ranges = [(s.low, s.high) for s in summary.values()]
        span = colour_range("category", result, ranges)
        self._threshold_of((record.category, method), span, result)
        self.controls.set_span(*span)
        low, high = colour_range(self.controls.normalisation(), result, ranges, self.controls.fixed_range())
        height, width = result.native_shape
        shown = self.controls.show_view.isChecked()
        self.view_layer.set_view((width, height), result.crop if shown else None, result.tiles if shown else ())
        self.panel.show_compared(result.neighbours, result.calibrated)
        self.layer.show_heat = self.controls.show_heat.isChecked()
        self.layer.show_labels = self.controls.show_labels.isChecked()
        self.layer.set_heatmap(
            result.anomaly_map, (width, height), low, high, self.controls.lut(), self.controls.opacity_value()
        )
        source = result.native_map() if height * width <= EXACT_CONTOUR_PIXELS else result.anomaly_map
        self.layer.set_contours(threshold_contours(source, self.controls.threshold()), source.shape)
        self.measure()

    def _threshold_of(self, key: tuple[str, str], span: tuple[float, float], result: CachedResult) -> None:
        """Show the threshold of ``key`` (category, displayed method), keeping the one being left for when it is
        displayed again. A key seen for the first time starts at its evaluation's pixel F1-max threshold, else for
        calibrated maps at :data:`CALIBRATED_THRESHOLD` (the same for every goods), else mid-range."""
        if self._threshold_for == key:
            return
        if self._threshold_for is not None:
            self._thresholds[self._threshold_for] = self.controls.threshold()
        self._threshold_for = key
        value = self._thresholds.get(key)
        if value is None:
            outcome = self.analysis.outcomes.get(key)
            value = outcome.rows[0].result.pixel_f1_threshold if outcome is not None else float("nan")
            if value != value:
                value = CALIBRATED_THRESHOLD if result.calibrated is not None else (span[0] + span[1]) / 2
        self.controls.set_span(*span)
        self.controls.blockSignals(True)
        self.controls.set_threshold(value)
        self.controls.blockSignals(False)

    def measure(self) -> None:
        """Per-image metrics of the current image against the mask as it is now (in a worker, newest wins)."""
        record, result, document = self.window.current, self.result, self.window.canvas.document
        if record is None or result is None or self._closed:
            return
        if self._pool.busy:
            self._pending = True
            return
        self._pending = False
        mask = document.mask.copy() if document is not None and document.shape == result.native_shape else None
        threshold, method = self.controls.threshold(), self.analysis.shown_method(record.category)
        scores = [s.score for s in self.analysis.summary(record.category, method).values()] or [result.score]
        self._wanted += 1
        ticket = self._wanted
        self._pool.submit(
            lambda: inspect_image(result, mask, threshold, scores, name=record.image_path),
            lambda found, error: self._measured(ticket, record.key, method, found, error),
        )

    def _measured(self, ticket: int, key: str, method: str, inspection, error) -> None:
        if self._pending:
            self.measure()
            return
        current = self.window.current
        if ticket != self._wanted or current is None or current.key != key:
            return
        if error is not None:
            self.panel.show_none(f"Cannot measure this image: {error}")
            return
        self.layer.set_labels(inspection.metrics.label_map)
        self.panel.display(inspection, method)
        self.inspected.emit(inspection)

    def propose(self) -> None:
        """Replace the current mask by the heatmap's pixels at or above the threshold (one undo step)."""
        canvas = self.window.canvas
        if self.result is None or canvas.document is None:
            self.window.status.showMessage("No heatmap to propose a mask from: predict this image first", 8000)
            return
        if not canvas.editable:  # a good image: no mask may be made there (its banner says what to do)
            self.window.status.showMessage(canvas.locked or "The mask of this image cannot be edited", 8000)
            return
        mask = propose_mask(self.result, self.controls.threshold())
        if not mask.any():  # replacing the mask by nothing would erase it without a word
            self.window.report(
                StudioError(
                    f"no pixel of the heatmap reaches the threshold {self.controls.threshold():.4g} (its highest "
                    f"value is {float(self.result.anomaly_map.max()):.4g}): lower the threshold to propose a mask; "
                    "the mask was left as it was"
                )
            )
            return
        report = canvas.document.replace_mask(mask, "Propose mask from heatmap")
        canvas.edit_done(report)
        self.window.status.showMessage(
            f"Proposed mask: {int(mask.sum())} pixels at or above "
            f"{self.controls.threshold():.4g}; refine it with the tools (Ctrl+Z undoes)",
            10000,
        )

    def shutdown(self) -> None:
        self._closed, self._pending = True, False
        self._pool.shutdown()
