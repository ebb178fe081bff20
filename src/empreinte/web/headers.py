"""Headers every answer carries, whatever route or error produced it."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Browsers must not guess a type other than the one declared: an SVG chart or a JSON answer
#: holding a customer's comment must never be run as HTML or script.
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"),)


class SecurityHeaders:
    """A pure ASGI middleware (no buffering of bodies) adding `SECURITY_HEADERS`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
