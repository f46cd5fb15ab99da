"""The job list: one row per background job with its progress bar, ETA and a cancel button.

A finished row says how the job ended on one line: done (and how many images it skipped: its tooltip lists
them), or failed with the error's one-line message. What is too long for a line -- the skipped images, the
traceback of an unexpected error in the worker process -- is behind the row's Details button, never in its text."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QProgressBar, QPushButton, QVBoxLayout, QWidget

from goodsad_studio.engine.progress_meter import format_eta
from goodsad_studio.gui.crash_report import error_details, error_line
from goodsad_studio.gui.jobs import Job, JobRunner, JobState, skipped_list

TOOLTIP_SKIPPED = 40  # skipped images named in a row's tooltip; Details lists them all


class JobRow(QWidget):
    """Title and state, a progress bar, the ETA and Cancel for one :class:`Job`."""

    def __init__(self, job: Job, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.title = QLabel(job.title)
        self.title.setWordWrap(True)
        self.bar = QProgressBar()
        self.eta = QLabel()
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self._cancel)
        self.details = QPushButton("Details")
        self.details.setToolTip("The skipped images, or the traceback of the error, in a window")
        self.details.clicked.connect(self.show_details)
        self.details.hide()
        self.summary, self.details_text = "", ""  # what Details shows, once the job has ended
        line = QHBoxLayout()
        line.addWidget(self.bar, 1)
        line.addWidget(self.eta)
        line.addWidget(self.cancel)
        line.addWidget(self.details)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addLayout(line)
        job.progressed.connect(lambda _p: self.refresh())
        job.finished.connect(lambda _j: self.refresh())
        self.refresh()

    def _cancel(self) -> None:
        self.job.cancel()
        self.cancel.setEnabled(False)
        self.cancel.setText("Cancelling...")

    def refresh(self) -> None:
        job = self.job
        if job.state == JobState.QUEUED:  # waiting for the job before it: one job runs at a time
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.bar.setFormat("queued")
            self.eta.setText("waiting")
            return
        if job.running:
            if not job.stage:
                self.bar.setRange(0, 0)  # busy until the first progress report
                self.bar.setFormat("starting")
            elif job.total is None:  # a stage whose size is not known in advance
                self.bar.setRange(0, 0)
                self.bar.setFormat(f"{job.stage} {job.done}")
            else:
                self.bar.setRange(0, job.total)
                self.bar.setValue(job.done)
                self.bar.setFormat(f"{job.stage} %v/%m")
                training = job.training if job.stage == "train" else None
                if training is not None:  # the title line has the room the bar has not
                    self.title.setText(
                        f"{job.title} — epoch {training.epoch}/{training.epochs}, loss {training.loss:.4g}"
                    )
                elif job.detail:  # "12 from the cache", "3 of 8 Ray predict tasks done"
                    self.title.setText(f"{job.title} — {job.detail}")
            self.eta.setText(format_eta(job.eta()))
            return
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if job.state == JobState.DONE else 0)
        self.bar.setFormat(job.state)
        self.eta.setText(f"{job.seconds:.1f} s")
        self.cancel.hide()
        if job.state in (JobState.FAILED, JobState.CANCELLED):
            reason = error_line(job.error) if job.error is not None else str(job.state)
            self.summary = f"{job.title} — {job.state}: {reason}"
            self.details_text = error_details(job.error) if job.error is not None else ""
            self.title.setText(self.summary)
            self.title.setStyleSheet("color: #c62828;" if job.state == JobState.FAILED else "color: #8d6e63;")
            self.setToolTip(reason)
        elif job.skipped:
            count = len(job.skipped)
            self.summary = f"{job.title} — done, {count} image{'s' if count != 1 else ''} skipped"
            self.details_text = skipped_list(job.skipped)
            self.title.setText(self.summary)
            self.title.setStyleSheet("color: #e65100;")
            self.setToolTip(skipped_list(job.skipped, TOOLTIP_SKIPPED))
        else:
            self.title.setText(f"{job.title} — done")
        self.details.setVisible(bool(self.details_text))

    def show_details(self) -> None:
        """The row's summary, with the skipped images or the traceback behind the box's own "Show Details..."."""
        box = QMessageBox(QMessageBox.Icon.Information, "Job details", self.summary, parent=self)
        box.setDetailedText(self.details_text)
        box.exec()


class JobList(QWidget):
    """Every job of the session, newest on top; the ETA of running jobs ticks once a second."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.rows: list[JobRow] = []
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.addStretch(1)
        runner.job_added.connect(self.add)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._refresh_running)
        self._tick.start()

    def add(self, job: Job) -> None:
        row = JobRow(job, self)
        self.rows.append(row)
        self.layout_.insertWidget(0, row)
        while len(self.rows) > 12:  # the oldest finished rows go
            old = next((r for r in self.rows if not r.job.running), None)
            if old is None:
                break
            self.rows.remove(old)
            old.deleteLater()

    def _refresh_running(self) -> None:
        for row in self.rows:
            if row.job.running:
                row.refresh()
