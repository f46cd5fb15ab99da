"""What the studio and the CLI hold: an :class:`EngineClient` over a transport (the worker process for the studio,
the caller's own process for the CLI). One call per job: :meth:`EngineClient.run` takes a request of the contract
and returns its result (or raises its error as itself), passing events on as they come."""

from __future__ import annotations

from typing import TypeVar

from goodsad_studio.engine.contract import (
    Batch,
    BatchDone,
    Describe,
    Described,
    Evaluate,
    Evaluated,
    Export,
    Exported,
    Fit,
    Fitted,
    Identified,
    Identify,
    ListMethods,
    MethodList,
    MethodSpec,
    Predict,
    Predicted,
    Request,
    Result,
)
from goodsad_studio.engine.transports.base import OnEvent, Transport
from goodsad_studio.progress import CancelFlag

R = TypeVar("R", bound=Result)


class EngineClient:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def run(self, request: Request, on_event: OnEvent | None = None, cancel: CancelFlag | None = None) -> Result:
        return self.transport.run(request, on_event, cancel)

    # typed shorthands: the result type each request has by the contract
    def fit(self, request: Fit, on_event: OnEvent | None = None, cancel: CancelFlag | None = None) -> Fitted:
        return _typed(self.run(request, on_event, cancel), Fitted)

    def predict(self, request: Predict, on_event: OnEvent | None = None, cancel: CancelFlag | None = None) -> Predicted:
        return _typed(self.run(request, on_event, cancel), Predicted)

    def evaluate(
        self, request: Evaluate, on_event: OnEvent | None = None, cancel: CancelFlag | None = None
    ) -> Evaluated:
        return _typed(self.run(request, on_event, cancel), Evaluated)

    def batch(self, request: Batch, on_event: OnEvent | None = None, cancel: CancelFlag | None = None) -> BatchDone:
        return _typed(self.run(request, on_event, cancel), BatchDone)

    def export(self, request: Export, on_event: OnEvent | None = None, cancel: CancelFlag | None = None) -> Exported:
        return _typed(self.run(request, on_event, cancel), Exported)

    def identify(
        self, request: Identify, on_event: OnEvent | None = None, cancel: CancelFlag | None = None
    ) -> Identified:
        return _typed(self.run(request, on_event, cancel), Identified)

    def describe(self, spec: MethodSpec) -> Described:
        return _typed(self.run(Describe(spec)), Described)

    def methods(self) -> MethodList:
        return _typed(self.run(ListMethods()), MethodList)

    def stop(self) -> None:
        self.transport.stop()

    def close(self) -> None:
        self.transport.close()


def _typed(result: Result, kind: type[R]) -> R:
    assert isinstance(result, kind)  # the transports check results against the contract's RESULT_OF
    return result
