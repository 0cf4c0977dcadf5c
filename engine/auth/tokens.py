"""OAuth2 tokens and the file that keeps them (owner-only, 0600)."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from engine.auth.base import AuthError
from engine.errors import Location
from engine.files import atomic_write


@dataclass(slots=True)
class TokenSet:
    """Tokens of one integration, with when they were obtained and when they expire."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    refresh_token: str = field(default="", repr=False)
    scope: str = ""
    expires_at: float | None = None
    obtained_at: float = 0.0
    refreshed_at: float | None = None

    @classmethod
    def from_response(cls, data: dict, now: float, previous: TokenSet | None = None) -> TokenSet:
        """Read a token endpoint's JSON answer (RFC 6749 §5.1)."""
        expires_in = _seconds(data.get("expires_in"))
        if expires_in is not None and expires_in <= 0:
            expires_in = None  # RFC 6749 wants a positive lifetime; 0 would refresh before every request
        expires_at = now + expires_in if expires_in is not None else _seconds(data.get("expires_at"))
        refresh = data.get("refresh_token") or (previous.refresh_token if previous else "")
        return cls(
            access_token=str(data["access_token"]),
            token_type=str(data.get("token_type") or "Bearer"),
            refresh_token=str(refresh or ""),
            scope=str(data.get("scope") or (previous.scope if previous else "")),
            expires_at=expires_at,
            obtained_at=previous.obtained_at if previous else now,
            refreshed_at=now if previous else None,
        )

    def expires_in(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)


class TokenStore:
    """A JSON file readable only by its owner; written atomically.

    A file that cannot be read back (damaged, edited by hand) is never a crash:
    :meth:`load` answers None and :attr:`problem` says what is wrong and where;
    the next :meth:`save` keeps the damaged file beside the new one
    (``<name>.unreadable``) instead of overwriting it.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.problem = ""

    def load(self) -> TokenSet | None:
        self.problem = ""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            return self._unreadable(getattr(exc, "strerror", None) or str(exc))
        try:
            data = json.loads(text)
        except ValueError as exc:
            return self._unreadable(f"not JSON ({exc})")
        if not isinstance(data, dict):
            return self._unreadable(f"expected a JSON object, found {type(data).__name__}")
        problem = _invalid_field(data)
        if problem:
            return self._unreadable(problem)
        known = {f.name for f in fields(TokenSet)}
        return TokenSet(**{k: v for k, v in data.items() if k in known})

    def _unreadable(self, why: str) -> None:
        self.problem = (f"token file {self.path}: {why}; authorize deskline again "
                        f"(the file is then kept as {self.path.name}.unreadable)")

    def save(self, tokens: TokenSet) -> None:
        """Write the tokens; a disk that refuses is an AuthError naming the file (the tokens stay in memory)."""
        try:
            if self.problem and self.path.exists():
                kept = self.path.with_name(self.path.name + ".unreadable")
                os.replace(self.path, kept)  # lose no data
                os.chmod(kept, 0o600)        # it may hold tokens, whatever mode the damaged file had
                self.problem = ""
            atomic_write(self.path, json.dumps(asdict(tokens)).encode("utf-8"), private=True)
        except OSError as exc:
            raise AuthError(f"cannot save the tokens: {exc.strerror or exc}; they last until deskline stops",
                            Location(file=str(self.path))) from None

    def clear(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def _seconds(value: object) -> float | None:
    """A finite number of seconds from a token answer (a number or numeric text, e.g. "3600"); else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _invalid_field(data: dict) -> str:
    """Why a stored token object cannot be used ("" when it can)."""
    if not isinstance(data.get("access_token"), str) or not data["access_token"]:
        return "no access_token string"
    for name in ("token_type", "refresh_token", "scope"):
        if name in data and not isinstance(data[name], str):
            return f"{name} is not a string"
    for name in ("expires_at", "obtained_at", "refreshed_at"):
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"{name} is not a number"
    return ""
