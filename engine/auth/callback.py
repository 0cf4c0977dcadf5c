"""The loopback server that receives the OAuth2 redirect on ``http://127.0.0.1:PORT/callback``."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qsl, urlsplit

from engine.auth.base import AuthError
from engine.errors import Location

DEFAULT_CALLBACK_PORT = 8765
CALLBACK_PATH = "/callback"

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>deskline</title></head>"
    "<body style='font-family:sans-serif'><h1>{title}</h1><p>{text}</p></body></html>"
)


class CallbackServer:
    """Listens on 127.0.0.1 only and hands over the query of the first redirect to *path*."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_CALLBACK_PORT, path: str = CALLBACK_PATH) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise AuthError("the OAuth2 callback server listens on loopback only", Location(field="callback host"))
        self.host = host
        self.port = port
        self.path = path
        self._server: asyncio.base_events.Server | None = None
        self._result: asyncio.Future[dict[str, str]] | None = None

    @property
    def redirect_uri(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    async def __aenter__(self) -> CallbackServer:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def start(self) -> None:
        self._result = asyncio.get_running_loop().create_future()
        try:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)
        except OSError as exc:
            raise AuthError(f"cannot listen on {self.host}:{self.port} for the OAuth2 callback: {exc.strerror}; "
                            "choose another port or paste the redirect URL instead",
                            Location(field="callback port")) from exc
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def wait(self, timeout: float | None = None) -> dict[str, str]:
        """The redirect's query parameters (``code``/``state`` or ``error``)."""
        assert self._result is not None, "start() first"
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except TimeoutError:
            raise AuthError(f"no redirect arrived on {self.redirect_uri} within {timeout:g} s; "
                            "paste the redirect URL instead", Location(field="OAuth2 callback")) from None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = line.partition(" ")
        target = rest.rpartition(" ")[0] or rest
        try:
            parts = urlsplit(target)
        except ValueError:  # e.g. "Invalid IPv6 URL": not a request for us
            self._reply(writer, 400, "Bad request", "This is deskline's OAuth2 callback.")
            with contextlib.suppress(Exception):
                await writer.drain()
            writer.close()
            return
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if method != "GET" or parts.path != self.path:
            self._reply(writer, 404, "Not found", "This is deskline's OAuth2 callback.")
        elif "code" not in params and "error" not in params:
            self._reply(writer, 400, "No authorization code", "The address has neither code nor error.")
        else:
            if "error" in params:
                self._reply(writer, 200, "Authorization refused", "Return to deskline for details.")
            else:
                self._reply(writer, 200, "deskline is connected", "You can close this window.")
            if self._result is not None and not self._result.done():
                self._result.set_result(params)
        with contextlib.suppress(Exception):
            await writer.drain()
        writer.close()

    @staticmethod
    def _reply(writer: asyncio.StreamWriter, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=title, text=text).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
        # the page's address holds the authorization code: no caching, no Referer to anywhere
        writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
                     "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
