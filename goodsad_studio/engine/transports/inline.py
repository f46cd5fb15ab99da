"""Jobs in the caller's own process (the CLI, tests, benchmarks): the dispatch the worker runs, with the same check
of the result's type. Errors are raised as they were raised (with their traceback), not sent through a Failure."""

from __future__ import annotations

from goodsad_studio.engine.contract import Request, Result
from goodsad_studio.engine.transports.base import OnEvent, outcome
from goodsad_studio.engine.worker.dispatch import JobContext, handle
from goodsad_studio.progress import CancelFlag, Monitor


class InlineTransport:
    def run(self, request: Request, on_event: OnEvent | None = None, cancel: CancelFlag | None = None) -> Result:
        return outcome(request, handle(request, JobContext(Monitor(on_event, cancel))))

    def stop(self) -> None:
        """Nothing to stop: jobs run in the caller's thread."""

    def close(self) -> None:
        """Nothing to close."""
