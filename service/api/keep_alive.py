"""Answer an unhandled error inside the app, so the server keeps the connection open.

Starlette hands an unhandled exception to its outermost ``ServerErrorMiddleware``, which sends
the 500 and then raises the exception again for the server to log; uvicorn then closes the
keep-alive connection, and a client that pipelines requests loses the ones in flight. This
middleware sits inside it: it sends the same 500 problem (:func:`unexpected_error`) and
returns normally, so the connection stays usable. An error after the response has started
cannot be answered any more and is re-raised as before.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from service.api.problems import Message, Receive, Scope, Send, unexpected_error

__all__ = ["AnswerUnhandledErrors"]


class AnswerUnhandledErrors:
    """ASGI middleware turning an exception before the response into a 500 problem."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as error:
            if started:
                raise
            response = await unexpected_error(Request(scope, receive), error)
            await response(scope, receive, send)
