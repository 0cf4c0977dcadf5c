"""Authentication methods that need no browser: none, Basic and Bearer/API token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import httpx

from engine.errors import LocatedError


class AuthError(LocatedError):
    """Authentication failed or is not configured (says what to do next)."""


@dataclass(slots=True)
class TokenHealth:
    """What the operator needs to know about the credentials of an integration."""

    state: str  # "static", "connected", "expiring", "expired", "missing", "error"
    expires_in: float | None = None
    last_refresh: float | None = None
    error: str = ""

    def describe(self) -> str:
        text = self.state
        if self.expires_in is not None:
            text += f", expires in {int(self.expires_in)} s" if self.expires_in > 0 else ", expired"
        if self.error:
            text += f" ({self.error})"
        return text


@runtime_checkable
class Authenticator(Protocol):
    """What a request runner needs from an authentication method."""

    kind: str

    async def authorize(self, request: httpx.Request) -> None:
        """Add credentials to *request* (refreshing them first if they are about to expire)."""

    async def refresh(self, reason: str, request: httpx.Request | None = None) -> bool:
        """Get new credentials after *request* got a 401/TokenInvalid; True when retrying makes sense."""

    def health(self) -> TokenHealth:
        """Current state of the credentials."""


@dataclass(slots=True)
class NoAuth:
    """No authentication: templates put keys into URLs or headers through custom fields."""

    kind: str = "none"

    async def authorize(self, request: httpx.Request) -> None:
        return None

    async def refresh(self, reason: str, request: httpx.Request | None = None) -> bool:
        return False

    def health(self) -> TokenHealth:
        return TokenHealth("static")


@dataclass(slots=True)
class BasicAuth:
    """``Authorization: Basic <credential>`` on every request.

    *credential* is the Base64 text the template's credential format builds
    (``{{.username:.password}}`` or ``{{.api_key:}}``); see :meth:`from_format`.
    """

    credential: str = field(repr=False)
    kind: str = "basic"

    @classmethod
    def from_format(cls, credential_format: str, values: dict[str, str]) -> BasicAuth:
        """Build the credential with the template's format from the custom field values."""
        from engine.expr.credentials import parse_credential_format

        return cls(parse_credential_format(credential_format).encode(values))

    @property
    def header(self) -> str:
        return f"Basic {self.credential}"

    async def authorize(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = self.header

    async def refresh(self, reason: str, request: httpx.Request | None = None) -> bool:
        return False  # a wrong password does not get better by retrying

    def health(self) -> TokenHealth:
        return TokenHealth("static" if self.credential else "missing")


@dataclass(slots=True)
class BearerAuth:
    """A static token: ``Authorization: <scheme> <token>`` (``Bearer``, RT's ``token``, DRF's ``Token``)."""

    token: str = field(repr=False)
    scheme: str = "Bearer"
    header_name: str = "Authorization"
    kind: str = field(default="bearer")

    async def authorize(self, request: httpx.Request) -> None:
        request.headers[self.header_name] = f"{self.scheme} {self.token}" if self.scheme else self.token

    async def refresh(self, reason: str, request: httpx.Request | None = None) -> bool:
        return False

    def health(self) -> TokenHealth:
        return TokenHealth("static" if self.token else "missing")
