"""What every transport does: run one request, hand its events to a callback, return its one result or raise
its error as itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from goodsad_studio.engine.contract import RESULT_OF, Failure, Request, Result
from goodsad_studio.errors import ProtocolError
from goodsad_studio.progress import CancelFlag, Event

OnEvent = Callable[[Event], None]


class Transport(Protocol):
    def run(self, request: Request, on_event: OnEvent | None = None, cancel: CancelFlag | None = None) -> Result:
        """Run ``request``; its events go to ``on_event``; returns its result or raises its error."""
        ...

    def stop(self) -> None:
        """End whatever runs jobs (a worker process); a later job starts it again."""
        ...

    def close(self) -> None:
        """Stop for good: later requests fail instead of starting anything."""
        ...


def outcome(request: Request, body: object) -> Result:
    """The result of ``request`` from what came back: the result of the type the contract names, or the
    failure's error raised as itself; anything else is a :class:`ProtocolError`."""
    if isinstance(body, Failure):
        raise body.rebuild()
    expected = RESULT_OF.get(type(request))
    if expected is None or not isinstance(body, expected):
        raise ProtocolError(
            f"{type(request).__name__} came back with {type(body).__name__}, "
            f"not {expected.__name__ if expected else 'a known result'}"
        )
    return body
