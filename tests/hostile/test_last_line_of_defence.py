"""The CLI's last line of defence: an error nobody expected prints one line naming a log file in the studio's state
folder, which holds the traceback; the traceback itself never reaches the terminal."""

from __future__ import annotations

import errno

import pytest

from goodsad_studio.paths import dataset_state_dir, user_data_dir

from .helpers import assert_no_traceback, engine_argv, paths_in, run_cli, write_text

UNEXPECTED = {
    "RuntimeError": lambda: RuntimeError("boom"),
    "RecursionError": lambda: RecursionError("boom"),
    "OSError EIO": lambda: OSError(errno.EIO, "boom"),
    "KeyError": lambda: KeyError("boom"),
}


def _raiser(make):
    def raise_it(*args, **kwargs):
        raise make()

    return raise_it


def _the_logged_line(err: str, state_folder) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    logs = [path for path in paths_in(lines[0]) if path.is_file()]
    assert logs, f"the line names no log file that exists: {lines[0]}"
    assert any(state_folder.resolve() in log.resolve().parents for log in logs), (logs, state_folder)
    text = logs[0].read_text()
    assert "Traceback" in text and "boom" in text, text
    return lines[0]


@pytest.mark.parametrize("make", UNEXPECTED.values(), ids=UNEXPECTED.keys())
def test_an_unexpected_error_in_info_is_one_line_and_a_log_in_the_datasets_state_folder(
    dataset, capsys, monkeypatch, make
):
    monkeypatch.setattr("goodsad_studio.dataset.index.scan_dataset", _raiser(make))
    status, out, err = run_cli(["info", dataset], capsys)
    assert status == 2, out + err
    assert_no_traceback(out, err)
    _the_logged_line(err, dataset_state_dir(dataset))


def test_an_unexpected_error_in_import_coco_is_logged_in_the_datasets_state_folder(
    dataset, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr("goodsad_studio.dataset.import_coco.plan_coco_import", _raiser(UNEXPECTED["RuntimeError"]))
    source = write_text(tmp_path / "coco.json", "{}")
    status, out, err = run_cli(["import-coco", dataset, source], capsys)
    assert status == 2, out + err
    assert_no_traceback(out, err)
    _the_logged_line(err, dataset_state_dir(dataset))


def test_an_unexpected_error_in_predict_is_logged_in_the_datasets_state_folder(dataset, capsys, monkeypatch):
    monkeypatch.setattr("goodsad_studio.engine.client.EngineClient.predict", _raiser(UNEXPECTED["RuntimeError"]))
    status, out, err = run_cli(engine_argv("predict", dataset), capsys)
    assert status == 2, out + err
    assert_no_traceback(out, err)
    _the_logged_line(err, dataset_state_dir(dataset))


def test_an_unexpected_error_without_a_dataset_is_logged_in_the_user_data_folder(capsys, monkeypatch):
    monkeypatch.setattr("goodsad_studio.cli_engine._cards", _raiser(UNEXPECTED["RuntimeError"]))
    status, out, err = run_cli(["methods"], capsys)
    assert status == 2, out + err
    assert_no_traceback(out, err)
    _the_logged_line(err, user_data_dir() / "logs")


def test_an_expected_error_stays_one_line_naming_the_file(dataset, tmp_path, capsys):
    source = write_text(tmp_path / "coco.json", '{"images": 1}')
    status, out, err = run_cli(["import-coco", dataset, source], capsys)
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and str(source) in lines[0]
    assert_no_traceback(out, err)
