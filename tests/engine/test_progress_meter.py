"""The engine's progress meter (tqdm): plain lines in a log, a live bar on a terminal, and the time left."""

from __future__ import annotations

import io

import pytest

from goodsad_studio.engine.progress_meter import StageMeter, format_eta
from goodsad_studio.progress import Progress, Stage, TrainingStatus


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def report(meter: StageMeter, stage: Stage, total: int, detail: str) -> None:
    for done in range(total + 1):
        meter(Progress(stage, done, total, detail))


def test_a_log_gets_one_plain_line_per_finished_stage():
    log = io.StringIO()
    meter = StageMeter(log)
    report(meter, Stage.FEATURES, 40, "patchcore on drink_can")
    report(meter, Stage.PREDICT, 20, "drink_can/test/scratch/001003")
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()
    assert len(lines) == 2, lines
    assert lines[0].startswith("features: 100%|") and "| 40/40 [" in lines[0] and "patchcore on drink_can]" in lines[0]
    assert lines[1].startswith("predict: 100%|") and "20/20" in lines[1]
    assert all(len(line) <= 100 and line.isascii() for line in lines)


def test_a_long_stage_in_a_log_says_where_it_is_now_and_then():
    log = io.StringIO()
    meter = StageMeter(log, log_every_s=0.0)
    for done in range(3):
        meter(Progress(Stage.FEATURES, done, 10, "padim on food_box"))
    lines = log.getvalue().splitlines()
    assert [line.split("|")[2].split()[0] for line in lines] == ["0/10", "1/10", "2/10"]
    meter.close()  # a stage that stops early (cancelled) still ends with its last line
    assert log.getvalue().splitlines()[-1].split("|")[2].split()[0] == "2/10"


def test_a_new_stage_starts_when_the_count_goes_back_or_the_stage_changes():
    log = io.StringIO()
    meter = StageMeter(log, log_every_s=3600)
    meter(Progress(Stage.EVALUATE, 3, 10, "padim on food_box"))
    meter(Progress(Stage.EVALUATE, 4, 10, "drink_can/test/scratch/001003"))  # another detail: the same stage
    assert log.getvalue() == ""
    meter(Progress(Stage.EVALUATE, 1, 10, "spade on food_box"))  # the next method: the previous stage ends
    meter(Progress(Stage.FEATURES, 1, 40, "spade on food_box"))
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "4/10" in lines[0] and lines[1].startswith("evaluate:") and "1/10" in lines[1]


def test_a_terminal_gets_tqdms_live_bar():
    screen = Terminal()
    meter = StageMeter(screen)
    report(meter, Stage.PREDICT, 5, "drink_can/test/scratch/001003")
    text = screen.getvalue()
    assert "\r" in text and "predict: 100%" in text and "5/5" in text
    assert text.endswith("\n")  # the finished stage stays as a line


def test_time_left_follows_the_pace_and_is_unknown_before_it():
    meter = StageMeter()
    assert meter.remaining() is None
    meter(Progress(Stage.PREDICT, 0, 10))
    assert meter.remaining() is None  # nothing done yet: no pace
    meter(Progress(Stage.PREDICT, 5, 10))
    left = meter.remaining()
    assert left is not None and 0 <= left < 60
    meter(Progress(Stage.PREDICT, 10, 10))
    assert meter.remaining() is None  # the stage ended


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "ETA —"), (0.0, "ETA 00:00"), (0.4, "ETA 00:01"), (83.4, "ETA 01:24"), (3725, "ETA 1:02:05")],
)
def test_eta_text(seconds, text):
    assert format_eta(seconds) == text


def test_a_training_stage_shows_its_epoch_and_loss_and_a_stage_may_have_no_total():
    log = io.StringIO()
    meter = StageMeter(log)
    meter(Progress(Stage.LOAD, 3, None, "rd4ad on drink_can"))  # a reader that cannot say how many images
    assert meter.remaining() is None
    for done in range(5):
        meter(Progress(Stage.TRAIN, done, 4, "rd4ad on drink_can"))
        meter(TrainingStatus(1 + done // 2, 2, done, 4, 0.25))
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("load: 3it")
    assert lines[1].startswith("train: 100%") and "epoch 2/2 loss 0.25" in lines[1]
