"""The running job in the status bar: its title, a small progress bar and the ETA, wherever the Methods dock (and
its job list) is scrolled to or docked. A click on it shows the job list."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from goodsad_studio.engine.progress_meter import format_eta
from goodsad_studio.gui.jobs import Job, JobRunner, JobState


class JobStatus(QWidget):
    """Follows ``runner``: shows the job that runs now (and how many wait), hidden while nothing runs."""

    def __init__(self, runner: JobRunner, show_jobs: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self._show_jobs = runner, show_jobs
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(120)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Background jobs: click to show the job list")
        runner.job_added.connect(self._follow)
        runner.job_finished.connect(lambda _job: self.refresh())
        self._tick = QTimer(self)
        self._tick.setInterval(500)
        self._tick.timeout.connect(self.refresh)
        self.hide()

    def _follow(self, job: Job) -> None:
        job.progressed.connect(lambda _p: self.refresh())
        self.refresh()

    def current(self) -> Job | None:
        """The job that runs now (else the next queued one)."""
        waiting = [job for job in self.runner.jobs if job.running]
        started = [job for job in waiting if job.state != JobState.QUEUED]
        return next(iter(started or waiting), None)

    def refresh(self) -> None:
        job = self.current()
        if job is None:
            self._tick.stop()
            self.hide()
            return
        if not self._tick.isActive():
            self._tick.start()
        others = sum(job.running for job in self.runner.jobs) - 1
        text = f"{job.title}: {job.stage or 'starting'}"
        if job.total:
            self.bar.setRange(0, job.total)
            self.bar.setValue(job.done)
            text += f" {job.done}/{job.total}, {format_eta(job.eta())}"
        else:
            self.bar.setRange(0, 0)
        self.label.setText(text + (f"  (+{others} queued)" if others > 0 else ""))
        self.show()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._show_jobs()
        event.accept()
