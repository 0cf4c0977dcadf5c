"""OAuth2 tokens and the file that keeps them (owner-only, 0600)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path


@dataclass(slots=True)
class TokenSet:
    """Tokens of one integration, with when they were obtained and when they expire."""

    access_token: str
    token_type: str = "Bearer"
    refresh_token: str = ""
    scope: str = ""
    expires_at: float | None = None
    obtained_at: float = 0.0
    refreshed_at: float | None = None

    @classmethod
    def from_response(cls, data: dict, now: float, previous: TokenSet | None = None) -> TokenSet:
        """Read a token endpoint's JSON answer (RFC 6749 §5.1)."""
        expires_in = data.get("expires_in")
        try:
            expires_at = now + float(expires_in) if expires_in not in (None, "") else None
        except (TypeError, ValueError):
            expires_at = None
        if expires_at is None and data.get("expires_at") not in (None, ""):
            expires_at = float(data["expires_at"])
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
    """A JSON file readable only by its owner; written atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> TokenSet | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None
        known = {f.name for f in fields(TokenSet)}
        try:
            return TokenSet(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            return None

    def save(self, tokens: TokenSet) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)  # created 0600
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(asdict(tokens), out)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        os.chmod(self.path, 0o600)

    def clear(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
