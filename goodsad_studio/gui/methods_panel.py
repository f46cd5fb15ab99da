"""The methods panel: pick a registered method, edit its parameters (a form generated from its ParamSpec list),
see the backbone, weights source and device it will use, and start fit / predict / evaluate jobs.

The method list and each description come from the engine's worker process (``ListMethods`` and ``Describe``
requests: describing a method imports torch and hashes its weights, which the studio's process never does); they
are kept for the session, so only the first window asks. The form appears when the description arrives.

The panel has two parts: the set-up (method, description, parameters, native resolution, goods-aware) scrolls on
its own above a run section of fixed height holding the scope, the Fit / Predict / Evaluate buttons and the job
list. However long a description or a form is, and whenever it arrives, the buttons and the jobs stay where they
are: a click meant for a button never lands in a parameter field that moved under the pointer.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from goodsad_studio.engine.client import EngineClient
from goodsad_studio.engine.contract import MethodDescription, MethodList, MethodSpec
from goodsad_studio.errors import StudioError
from goodsad_studio.goods.spec import CALIBRATE, GoodsSpec
from goodsad_studio.gui.analysis import Analysis
from goodsad_studio.gui.job_list import JobList
from goodsad_studio.gui.param_form import ParamForm
from goodsad_studio.gui.workers import Relay, WorkerPool
from goodsad_studio.native.spec import ViewRequest

TILINGS = ("auto", "off", "448:112", "896:224", "224:56")
"""The tiling choices offered (the field takes any SIZE[:OVERLAP] too)."""
COMPARE_WITH = ("all", "goods", "goods:3", "5")
"""The goods-aware comparisons offered (the field takes any K or goods:K too)."""

_DESCRIPTIONS: dict[tuple[str, str, str, str], MethodDescription] = {}
_METHODS: list[MethodList] = []
_ASKING = threading.Lock()


def describe_cached(client: EngineClient, request: tuple[str, str, str, str]) -> MethodDescription:
    """The engine's description once per (method, backbone, weights, device) per session: every window (and every
    test window) asks the same question. Called on a pool thread (it waits for the worker, which answers beside a
    running job); the lock only guards the cache, never a wait."""
    with _ASKING:
        found = _DESCRIPTIONS.get(request)
    if found is None:
        name, backbone, weights, device = request
        found = client.describe(MethodSpec(name, {}, backbone, weights, device)).description
        if not found.problem:  # weights installed later, a GPU attached: a problem is asked again next time
            with _ASKING:
                _DESCRIPTIONS[request] = found
    return found


def methods_cached(client: EngineClient) -> MethodList:
    """The engine's method list, asked once per session (on a pool thread)."""
    known = known_methods()
    if known is None:
        known = client.methods()
        with _ASKING:
            _METHODS[:] = [known]
    return known


def known_methods() -> MethodList | None:
    """The method list if some window already asked for it, else None (no waiting)."""
    return _METHODS[0] if _METHODS else None


def remember(methods: MethodList, descriptions: dict[tuple[str, str, str, str], MethodDescription]) -> None:
    """Fill the session's caches (the tests do, from the engine in their own process, before their windows)."""
    with _ASKING:
        _METHODS[:] = [methods]
        _DESCRIPTIONS.update(descriptions)


def forget() -> None:
    with _ASKING:
        _METHODS.clear()
        _DESCRIPTIONS.clear()


GOODS_AWARE = "goods_aware"
"""The capability of methods with a global descriptor per photo (``methods.api.Capability.GOODS_AWARE``, by value:
the studio's process does not import the methods)."""

SCOPES = (("image", "This image"), ("goods", "This goods id (test)"), ("category", "Whole category (test)"))

JOB_ROWS_SHOWN = 2
"""Job rows the run section has room for without scrolling its list (the newest are on top)."""
PROBLEM_LINES = 2
"""Lines the run section keeps for a refused request's message (a longer one takes room from the job list)."""


class RunSection(QWidget):
    """The run section: of fixed height, so it tells the dock's scroll area it has no height-for-width (the word
    wrapped message inside would make the area size the whole panel by its preferred height, pushing the section
    down under a long form; inside, the section's own layout still wraps the message)."""

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return False


class MethodsPanel(QWidget):
    """See the module docstring. ``run_requested(kind, spec, scope)``: kind is fit / predict / evaluate."""

    run_requested = Signal(str, object, str)
    described = Signal(object)  # MethodDescription

    def __init__(self, analysis: Analysis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis = analysis
        self.description: MethodDescription | None = None
        self._pool = WorkerPool("describe", Relay(self))
        self._pending: tuple | None = None
        self.method = QComboBox()
        self.method.setObjectName("method-choice")
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.backbone = QComboBox()
        self.backbone.addItem("auto")
        self.weights = QLineEdit("auto")
        self.weights.setToolTip("auto, a .pth/.safetensors file, or random (untrained: results mean nothing)")
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        self.info = QLabel("describing...")
        self.info.setWordWrap(True)
        self.info.setObjectName("method-info")
        self.form = ParamForm()
        self.tiling = QComboBox()
        self.tiling.setObjectName("tiling")
        self.tiling.setEditable(True)
        self.tiling.addItems(TILINGS)
        self.tiling.setToolTip(
            "auto: tiles of twice the method's input for photos of 1024 px and more, else the whole photo; off: the "
            "whole photo (the papers' squash); SIZE[:OVERLAP]: tiles of SIZE photo pixels sharing OVERLAP"
        )
        self.crop = QComboBox()
        self.crop.setObjectName("crop")
        self.crop.addItems(["auto", "on", "off"])
        self.crop.setToolTip("Crop each photo to the goods first; auto: for photos of 1024 px and more")
        self.multiscale = QCheckBox("Multi-scale (fuse the whole view with the tiles)")
        self.compare_with = QComboBox()
        self.compare_with.setObjectName("compare-with")
        self.compare_with.setEditable(True)
        self.compare_with.addItems(COMPARE_WITH)
        self.compare_with.setToolTip(
            "Which training photos each photo is scored against (patchcore, spade): all; those of its own goods id; "
            "its K nearest by global descriptor; or goods:K, its K nearest of its own goods"
        )
        self.calibrate = QComboBox()
        self.calibrate.setObjectName("calibrate")
        self.calibrate.addItems(list(CALIBRATE))
        self.calibrate.setToolTip(
            "Turn scores and maps into z-scores of each goods' normal scores, so one threshold and one colour scale "
            "mean the same for every goods; auto: for patchcore and spade scoring whole photos; on: through tiles "
            "and crops too (a longer fit)"
        )
        self.scope = QComboBox()
        for value, text in SCOPES:
            self.scope.addItem(text, value)
        self.scope.setCurrentIndex(2)
        self.buttons = {
            kind: QPushButton(text)
            for kind, text in (("fit", "Fit on category"), ("predict", "Predict"), ("evaluate", "Evaluate category"))
        }
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828;")
        self.jobs = JobList(analysis.runner)
        self._layout()
        self.method.currentTextChanged.connect(self._method_chosen)
        for widget in (self.backbone, self.device):
            widget.currentTextChanged.connect(lambda _t: self.describe())
        self.weights.editingFinished.connect(self.describe)
        for kind, button in self.buttons.items():
            button.clicked.connect(lambda _c=False, k=kind: self.request(k))
        self.info.setText("asking the engine for its methods...")
        known = known_methods()
        if known is not None:
            self._listed(known, None)
        else:
            client = analysis.client
            self._pool.submit(lambda: methods_cached(client), self._listed)

    def _listed(self, found: MethodList | None, error) -> None:
        if error is not None or found is None:
            self.info.setText(f"cannot list the methods: {error}")
            return
        self.method.blockSignals(True)
        self.method.addItems(found.names)
        if "patchcore" in found.names:
            self.method.setCurrentText("patchcore")
        self.method.blockSignals(False)
        self.analysis.set_method(self.method.currentText())
        self.describe()

    def _layout(self) -> None:
        self.settings_area = self._settings_area()
        self.run_section = self._run_section()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.settings_area, 1)
        layout.addWidget(self.run_section)

    def _settings_area(self) -> QScrollArea:
        """The set-up, scrolling on its own (a long description or form only makes it scroll further)."""
        setup = QFormLayout()
        setup.addRow("Method", self.method)
        setup.addRow("Backbone", self.backbone)
        setup.addRow("Weights", self.weights)
        setup.addRow("Device", self.device)
        native = QGroupBox("Native resolution")
        views = QFormLayout(native)
        views.addRow("Tiling", self.tiling)
        views.addRow("Object crop", self.crop)
        views.addRow(self.multiscale)
        goods = QGroupBox("Goods-aware")
        compared = QFormLayout(goods)
        compared.addRow("Compare with", self.compare_with)
        compared.addRow("Calibrate per goods", self.calibrate)
        params = QGroupBox("Parameters")  # at full height inside the area (the area resizes the content to at
        QVBoxLayout(params).addWidget(self.form)  # least its minimum, so the form's rows never squash)
        content = QWidget()
        column = QVBoxLayout(content)
        column.addLayout(setup)
        column.addWidget(self.about)
        column.addWidget(self.info)
        column.addWidget(params)
        column.addWidget(native)
        column.addWidget(goods)
        column.addStretch(1)
        area = QScrollArea()
        area.setObjectName("method-settings")
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(content)
        return area

    def _run_section(self) -> QWidget:
        """Scope, buttons, a refused request's message and the job list, in a section of fixed height: nothing
        above it (the description, the form) can move them, and a message takes its room from the job list."""
        section = RunSection()
        section.setObjectName("run-section")
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Sunken)
        predict = QFormLayout()
        predict.addRow("Predict on", self.scope)
        run = QHBoxLayout()
        for button in self.buttons.values():
            run.addWidget(button)
        self.jobs_area = jobs_area = QScrollArea()  # the list scrolls within the section's room
        jobs_area.setObjectName("job-area")
        jobs_area.setWidgetResizable(True)
        jobs_area.setFrameShape(QFrame.Shape.NoFrame)
        jobs_area.setWidget(self.jobs)
        jobs = QGroupBox("Jobs")
        box = QVBoxLayout(jobs)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(jobs_area)
        layout = QVBoxLayout(section)
        layout.setContentsMargins(9, 0, 9, 4)
        layout.setSpacing(4)
        layout.addWidget(rule)
        layout.addLayout(predict)
        layout.addLayout(run)
        layout.addWidget(self.problem)
        layout.addWidget(jobs, 1)
        lines = self.fontMetrics().lineSpacing()
        row = 2 * lines + self.buttons["fit"].sizeHint().height() + 8  # a job row: a title of two lines, its bar
        jobs_area.setMinimumHeight(JOB_ROWS_SHOWN * row)  # the section's height is taken with room for these
        section.setFixedHeight(section.sizeHint().height() + PROBLEM_LINES * lines)
        jobs_area.setMinimumHeight(row // 2)
        return section

    # ------------------------------------------------------------------------------------ description
    def _method_chosen(self, name: str) -> None:
        self.analysis.set_method(name)
        self.describe()

    def describe(self) -> None:
        """Describe the chosen method in a worker (one at a time; the latest request wins)."""
        request = (
            self.method.currentText(),
            self.backbone.currentText() or "auto",
            self.weights.text().strip() or "auto",
            self.device.currentText() or "auto",
        )
        if not request[0]:
            return  # the method list has not arrived yet
        if self._pool.busy:
            self._pending = request
            return
        self.info.setText("describing...")
        client = self.analysis.client
        self._pool.submit(
            lambda: describe_cached(client, request), lambda found, error: self._described(request, found, error)
        )

    def _described(self, request: tuple, found: MethodDescription | None, error) -> None:
        if self._pending is not None:
            self._pending = None
            self.describe()
            return
        if error is not None:
            self.info.setText(f"cannot describe {request[0]}: {error}")
            return
        assert found is not None  # no error: describe_cached returned a description
        keep = self.form.raw_values() if self.description is not None and self.description.name == found.name else None
        self.description = found
        if self.backbone.count() <= 1:
            self.backbone.blockSignals(True)
            self.backbone.addItems(found.backbones)
            self.backbone.blockSignals(False)
        self.about.setText(found.description)
        if found.problem:
            self.info.setText(f"cannot be set up: {found.problem}")
        else:
            self.info.setText(f"backbone: {found.backbone}\nweights: {found.weights_source}\ndevice: {found.device}")
        if self.form.specs != found.params:
            self.form.set_specs(found.params)
        if keep:
            self.form.set_values(keep)
        self.described.emit(found)

    # ------------------------------------------------------------------------------------ running
    def spec(self) -> MethodSpec:
        """The method as set in the panel (raises the parameter's error naming the field)."""
        if self.description is None or self.description.name != self.method.currentText():
            raise StudioError(f"the method {self.method.currentText()} is still being described; try again")
        try:
            view = ViewRequest.parse(self.tiling.currentText(), self.crop.currentText(), self.multiscale.isChecked())
        except StudioError as exc:
            raise StudioError(f"Native resolution: {exc.problem}") from None
        try:
            goods = GoodsSpec.parse(self.compare_with.currentText(), self.calibrate.currentText())
        except StudioError as exc:
            raise StudioError(f"Goods-aware: {exc.problem}") from None
        return MethodSpec(
            self.method.currentText(),
            self.form.changed_values(),
            backbone=self.backbone.currentText() or "auto",
            weights=self.weights.text().strip() or "auto",
            device=self.device.currentText() or "auto",
            view=view,
            goods=goods,
        )

    def identify_spec(self) -> MethodSpec:
        """The method that looks up a photo's goods: the panel's own when it is goods-aware (PatchCore, SPADE) and
        its settings are valid, else PatchCore's defaults with the panel's backbone, weights and device."""
        description = self.description
        if description is not None and GOODS_AWARE in description.capabilities:
            try:
                return self.spec()
            except StudioError:
                pass
        return MethodSpec(
            "patchcore",
            backbone=self.backbone.currentText() or "auto",
            weights=self.weights.text().strip() or "auto",
            device=self.device.currentText() or "auto",
        )

    def request(self, kind: str) -> None:
        try:
            spec = self.spec()
        except StudioError as exc:
            self.problem.setText(str(exc))
            return
        self.problem.setText("")
        self.run_requested.emit(kind, spec, self.scope.currentData())

    def shutdown(self) -> None:
        self._pool.shutdown()
