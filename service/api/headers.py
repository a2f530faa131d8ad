"""Headers every response carries, the API's, the web app's and the docs' alike."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Browsers must not guess a content type: a JSON body or an upload must never be run as HTML or script.
ALWAYS = ((b"x-content-type-options", b"nosniff"),)


class SecurityHeaders:
    """Add the headers in ``ALWAYS`` to every HTTP response that does not set them itself (errors included)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in ALWAYS if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
