"""The engine contract is plain data that crosses the worker pipe: every error class arrives as itself, every
request and result pickles, results are checked against the request's type, the export table is complete, and
the state layout parses what it writes."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from goodsad_studio import errors
from goodsad_studio.engine.contract import (
    EXPORT_KINDS,
    RESULT_OF,
    About,
    Batch,
    BatchDone,
    CategoryOutcome,
    DatasetRef,
    Describe,
    Described,
    Envelope,
    Evaluate,
    Evaluated,
    Executor,
    ExecutorKind,
    Export,
    Exported,
    ExportKind,
    ExportOptions,
    Failure,
    Fit,
    Fitted,
    GoodsMatch,
    Identified,
    Identify,
    ListMethods,
    MethodCard,
    MethodDescription,
    MethodList,
    MethodSpec,
    ModelSummary,
    Predict,
    Predicted,
    Request,
    Result,
    SelectionSpec,
    WorkerInfo,
)
from goodsad_studio.engine.layout import ModelFolder, StateLayout
from goodsad_studio.engine.transports.base import outcome
from goodsad_studio.errors import ProtocolError, StudioError, WorkerError
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import Progress, Stage, TrainingStatus

ERROR_CLASSES = [cls for cls in errors.error_classes() if cls is not WorkerError]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.code)
def test_every_error_class_comes_back_from_a_failure_as_itself(cls):
    original = cls("something is wrong", Path("/data/x.png"))
    back = Failure.of(original).rebuild()
    assert type(back) is cls
    assert (back.problem, back.path, str(back)) == ("something is wrong", Path("/data/x.png"), str(original))
    again = pickle.loads(pickle.dumps(original))  # multiprocessing and Ray pickle errors too
    assert type(again) is cls and again.problem == original.problem and again.path == original.path


def test_error_codes_are_unique_and_a_duplicate_fails_at_definition():
    codes = [cls.code for cls in errors.error_classes()]
    assert len(codes) == len(set(codes))
    with pytest.raises(TypeError, match="already used"):
        type("Again", (StudioError,), {"code": "param"})


def test_an_unexpected_error_arrives_as_a_worker_error_naming_its_class_with_the_traceback():
    try:
        raise MemoryError("CUDA out of memory")
    except MemoryError as exc:
        failure = Failure.of(exc)
    back = failure.rebuild()
    assert type(back) is WorkerError
    assert back.origin == "MemoryError" and "CUDA out of memory" in back.problem
    assert "raise MemoryError" in back.details
    assert type(Failure.of(back).rebuild()) is WorkerError  # and stays one when it crosses again


def test_a_plug_ins_own_error_class_arrives_as_a_studio_error_with_its_message_and_file():
    class PluginProblem(StudioError):  # no code: not registered, the studio cannot import it
        pass

    back = Failure.of(PluginProblem("the plug-in is unhappy", "/data/x.png")).rebuild()
    assert type(back) is StudioError and (back.problem, back.path) == ("the plug-in is unhappy", Path("/data/x.png"))
    assert PluginProblem.code.endswith("PluginProblem")


def test_requests_events_and_results_pickle_inside_envelopes(tmp_path):
    dataset = DatasetRef.of(tmp_path, tmp_path / ".state")
    spec = MethodSpec("patchcore", {"coreset_ratio": 0.1})
    model = ModelSummary("k", tmp_path, "patchcore", "drink_can", None, "label", 8, 1.5, False)
    bodies = [
        Fit(dataset, spec, "drink_can", goods_id="042"),
        Predict(dataset, spec, "drink_can", ("drink_can/test/good/042001",)),
        Evaluate(dataset, spec, "drink_can"),
        Batch((Fit(dataset, spec, "drink_can"), Evaluate(dataset, spec, "bag")), Executor(ExecutorKind.RAY, "auto", 4)),
        Export(dataset, ExportKind.COCO, str(tmp_path / "out.json"), SelectionSpec(("drink_can",)), ExportOptions()),
        Identify(dataset, spec, "drink_can", (str(tmp_path / "shelf.jpg"),), top=3),
        Describe(spec),
        ListMethods(),
        About(),
        Progress(Stage.TRAIN, 3, None, "x"),
        TrainingStatus(1, 2, 3, 4, 0.5),
        Fitted(model),
        Predicted(model, ("drink_can/test/good/042001",)),
        Evaluated(_outcome(), model),
        BatchDone((Fitted(model), Predicted(model, ()))),
        Exported(tmp_path, 3, "3 files"),
        Identified((str(tmp_path / "shelf.jpg"),), ((GoodsMatch("042", 0.93), GoodsMatch("007", 0.81)),), 12),
        Described(MethodDescription("patchcore", "about", [ParamSpec("k", "int", 1)], ["mobilenet_v2"])),
        MethodList((MethodCard("patchcore", "about", (ParamSpec("k", "int", 1),), frozenset({"tiling"})),)),
        WorkerInfo(1, 2, False),
        Failure.of(errors.ParamError("bad")),
    ]
    for body in bodies:
        again = pickle.loads(pickle.dumps(Envelope(7, body)))
        if isinstance(body, Evaluated):  # its curves are arrays: compared by value
            assert again.body.outcome.rows[0].result.to_dict(curves=True) == body.outcome.rows[0].result.to_dict(
                curves=True
            )
        else:
            assert again == Envelope(7, body)
    assert set(RESULT_OF) == {type(b) for b in bodies if isinstance(b, Request)}
    assert set(RESULT_OF.values()) == {type(b) for b in bodies if isinstance(b, Result)}


def _outcome() -> CategoryOutcome:
    """A real evaluation outcome (metrics with their curves) of two tiny images."""
    from goodsad_studio.metrics.evaluate import CategoryEvaluator
    from goodsad_studio.metrics.report import ReportRow

    evaluator = CategoryEvaluator()
    mask = np.zeros((8, 8), bool)
    mask[2:5, 2:5] = True
    evaluator.add(0.9, True, mask.astype(np.float32), mask, image_shape=(8, 8), name="a.png")
    evaluator.add(0.1, False, np.zeros((8, 8), np.float32), None, image_shape=(8, 8), name="b.png")
    row = ReportRow("drink_can", "patchcore", evaluator.result(), "label")
    return CategoryOutcome("drink_can", "patchcore", [row], 1.0, 2.0, 8, 2, "label")


def test_a_result_of_the_wrong_type_is_a_protocol_error_and_a_failure_is_raised_as_itself():
    info = WorkerInfo(1, 1, False)
    assert outcome(About(), info) is info
    with pytest.raises(ProtocolError, match="Fit came back with WorkerInfo, not Fitted"):
        outcome(Fit(DatasetRef("r", "s"), MethodSpec("x"), "c"), info)
    with pytest.raises(errors.ModelFileError, match="broken"):
        outcome(About(), Failure.of(errors.ModelFileError("broken")))


def test_every_export_kind_has_a_handler():
    from goodsad_studio.engine.worker.exports import EXPORTERS

    assert EXPORTERS.keys() == EXPORT_KINDS.keys() == set(ExportKind)


def test_the_layout_parses_the_model_folders_it_names(tmp_path):
    layout = StateLayout(tmp_path)
    for category, goods, method in (("drink_can", None, "patchcore"), ("food_box", "042", "my.pkg:Method")):
        folder = layout.model_dir(category, goods, method, "0123456789abcdef")
        assert folder.is_relative_to(layout.models_dir)
        parsed = StateLayout.parse_model_dir(folder)
        assert parsed == ModelFolder(category, goods, method.replace(":", "+"), "0123456789abcdef")
        assert StateLayout.checkpoints_of(folder).name == folder.name + ".checkpoints"
    assert layout.evaluation_file("cat", "padim/goods").name == "cat__padim+goods.json"
    with pytest.raises(ValueError, match="not a model folder"):
        StateLayout.parse_model_dir(tmp_path / "models" / "c" / "all" / "nodash")
