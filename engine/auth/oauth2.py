"""OAuth2 authorization code flow (RFC 6749 §4.1) with PKCE (RFC 7636), built on authlib.

The operator's browser may be on another machine than deskline (SSH to the
PBX host), so the code arrives either on the loopback
:class:`~engine.auth.callback.CallbackServer` or by pasting the redirect URL
(:func:`parse_redirect`).  Tokens live in a 0600 file, are refreshed shortly
before they expire and once after a 401 or a TokenInvalid answer, and their
health is reported.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from engine.auth.base import AuthError, TokenHealth
from engine.auth.callback import CALLBACK_PATH, DEFAULT_CALLBACK_PORT, CallbackServer
from engine.auth.tokens import TokenSet, TokenStore
from engine.errors import Location
from engine.http import HelpdeskHttp


# After a failed refresh of a still-valid token, wait this long before trying again.
EARLY_REFRESH_PAUSE = 10.0


def default_redirect_uri(port: int = DEFAULT_CALLBACK_PORT) -> str:
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


def split_scopes(scope: str) -> list[str]:
    """The template's scope list: comma-separated (the PBX form), spaces tolerated."""
    return [s for s in re.split(r"[,\s]+", scope or "") if s]


@dataclass(frozen=True, slots=True)
class OAuth2Config:
    """The OAuth2 settings of a template plus the operator's client credentials."""

    authorization_endpoint: str
    token_endpoint: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    scope: str = ""
    additional_query: str = ""
    redirect_uri: str = default_redirect_uri()
    refresh_endpoint: str = ""
    pkce: bool = False
    token_type: str = ""
    client_auth: str = "client_secret_post"  # or "client_secret_basic"
    refresh_tokens: bool = True  # False for the template's NoNeedRefreshAccessToken=1
    refresh_margin: float = 60.0

    @property
    def scopes(self) -> list[str]:
        return split_scopes(self.scope)


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """The URL to open in a browser, and what is needed to check and redeem its answer."""

    url: str
    state: str
    redirect_uri: str
    code_verifier: str = field(default="", repr=False)


def build_authorization_request(config: OAuth2Config, *, state: str | None = None,
                                code_verifier: str | None = None,
                                redirect_uri: str | None = None) -> AuthorizationRequest:
    """The authorization URL: endpoint + standard parameters + PKCE + the template's extra query.

    Parameters the template already wrote into the endpoint URL are kept and
    not repeated (some templates build ``client_id``/``redirect_uri`` themselves).
    """
    state = state or generate_token(32)
    redirect_uri = redirect_uri or config.redirect_uri
    verifier = (code_verifier or generate_token(64)) if config.pkce else ""
    parts = urlsplit(config.authorization_endpoint)
    params = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in params}
    wanted = [("response_type", "code"), ("client_id", config.client_id), ("redirect_uri", redirect_uri)]
    if config.scopes:
        wanted.append(("scope", " ".join(config.scopes)))
    wanted.append(("state", state))
    if verifier:
        wanted += [("code_challenge", create_s256_code_challenge(verifier)), ("code_challenge_method", "S256")]
    for key, value in parse_qsl(config.additional_query.lstrip("?&"), keep_blank_values=True):
        wanted.append((key, value))
    for key, value in wanted:
        if key not in present:
            params.append((key, value))
            present.add(key)
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), parts.fragment))
    return AuthorizationRequest(url=url, state=state, redirect_uri=redirect_uri, code_verifier=verifier)


def parse_redirect(text: str, expected_state: str) -> str:
    """The authorization code from a pasted redirect URL (or its query string); checks ``state``."""
    text = text.strip()
    if not text:
        raise AuthError("paste the whole address the browser was sent to (it contains ?code=...)",
                        Location(field="redirect URL"))
    try:
        query = urlsplit(text).query if "://" in text else text.lstrip("?")
    except ValueError as exc:  # e.g. "Invalid IPv6 URL"
        raise AuthError(f"this is not a web address ({exc}); paste the whole address the browser was sent to",
                        Location(field="redirect URL")) from None
    params = dict(parse_qsl(query, keep_blank_values=True))
    if not {"code", "state", "error"} & params.keys():
        raise AuthError("this is not the redirect address: it has no code= (paste the whole address the browser "
                        "was sent to after you approved)", Location(field="redirect URL"))
    return code_from_params(params, expected_state)


def code_from_params(params: dict[str, str], expected_state: str) -> str:
    where = Location(field="redirect URL")
    if "error" in params:
        detail = params.get("error_description", "")
        raise AuthError(f"the helpdesk refused the authorization: {params['error']}"
                        + (f" ({detail})" if detail else ""), where)
    if params.get("state", "") != expected_state:
        raise AuthError("the state in the redirect does not match this authorization request "
                        "(an old or foreign link); start the authorization again", where)
    code = params.get("code", "")
    if not code:
        raise AuthError("the redirect URL has no code parameter", where)
    return code


def pbx_authentication_info(config: OAuth2Config) -> list[tuple[str, str]]:
    """What to enter when registering deskline as an OAuth2 application in the helpdesk."""
    return [
        ("Redirect URI (callback URL)", config.redirect_uri),
        ("Grant type", "authorization code" + (" + refresh token" if config.refresh_tokens else "")),
        ("Client type", "confidential" if config.client_secret else "public"),
        ("Scopes", " ".join(config.scopes) or "(none requested)"),
        ("PKCE", "S256" if config.pkce else "not sent"),
        ("Client authentication at the token endpoint", config.client_auth),
        ("Authorization endpoint", config.authorization_endpoint),
        ("Token endpoint", config.token_endpoint),
    ]


class OAuth2Auth:
    """Bearer tokens from an OAuth2 authorization-code grant, kept fresh."""

    kind = "oauth2"

    def __init__(self, config: OAuth2Config, http: HelpdeskHttp, store: TokenStore | None = None,
                 *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.http = http
        self.store = store
        self.clock = clock
        self._lock = asyncio.Lock()
        self.last_error = ""
        self._early_refresh_failed_at = float("-inf")
        self.tokens: TokenSet | None = store.load() if store is not None else None
        if store is not None and store.problem:
            self.last_error = store.problem
        http.secrets.add(config.client_secret)
        self._register(self.tokens)

    # -- connecting ---------------------------------------------------------

    def authorization_request(self) -> AuthorizationRequest:
        return build_authorization_request(self.config)

    async def complete(self, pasted_redirect: str, request: AuthorizationRequest) -> TokenSet:
        """Finish with a redirect URL pasted by the operator."""
        return await self.exchange_code(parse_redirect(pasted_redirect, request.state), request)

    async def connect_via_loopback(self, open_browser: Callable[[str], Awaitable[None] | None],
                                   *, timeout: float = 300.0, port: int | None = None) -> TokenSet:
        """Open the authorization page and wait for the redirect on ``127.0.0.1:PORT/callback``."""
        redirect = urlsplit(self.config.redirect_uri)
        listen = port if port is not None else (redirect.port if redirect.port is not None else DEFAULT_CALLBACK_PORT)
        async with CallbackServer(port=listen, path=redirect.path or CALLBACK_PATH) as server:
            # port 0 picks a free port: the redirect URI must name the real one
            uri = self.config.redirect_uri if listen else server.redirect_uri
            request = build_authorization_request(self.config, redirect_uri=uri)
            opened = open_browser(request.url)
            if asyncio.iscoroutine(opened):
                await opened
            params = await server.wait(timeout)
        return await self.exchange_code(code_from_params(params, request.state), request)

    async def exchange_code(self, code: str, request: AuthorizationRequest) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": request.redirect_uri}
        if request.code_verifier:
            form["code_verifier"] = request.code_verifier
        tokens = await self._token_request(self.config.token_endpoint, form, "exchange the authorization code")
        self._keep(tokens)
        return tokens

    # -- using --------------------------------------------------------------

    async def authorize(self, request: httpx.Request) -> None:
        tokens = self.tokens
        if tokens is None:
            raise AuthError("not connected: authorize deskline in the helpdesk first",
                            Location(field="OAuth2"))
        left = tokens.expires_in(self.clock())
        now = self.clock()
        if (left is not None and left <= self.config.refresh_margin and tokens.refresh_token
                and self.config.refresh_tokens
                and (left <= 0 or now - self._early_refresh_failed_at >= EARLY_REFRESH_PAUSE)):
            try:
                await self._refresh_once(tokens, "token expires soon")
            except AuthError:
                if left <= 0:
                    raise
                self._early_refresh_failed_at = now
                # still valid for a while: use it; health() reports the failed refresh
            tokens = self.tokens or tokens
        scheme = self.config.token_type or tokens.token_type or "Bearer"
        if scheme.lower() == "bearer":
            scheme = "Bearer"
        request.headers["Authorization"] = f"{scheme} {tokens.access_token}"

    async def refresh(self, reason: str, request: httpx.Request | None = None) -> bool:
        """Refresh after *request* was refused; True when a retry makes sense.

        When another task refreshed since *request* was authorized, the
        retry uses the new token without refreshing again.
        """
        tokens = self.tokens
        if tokens is None:
            return False
        if request is not None and request.headers.get("Authorization", "").split(" ")[-1] != tokens.access_token:
            return True
        if not tokens.refresh_token or not self.config.refresh_tokens:
            return False
        try:
            await self._refresh_once(tokens, reason)
        except AuthError:
            return False
        return True

    def health(self) -> TokenHealth:
        tokens = self.tokens
        if tokens is None:
            return TokenHealth("missing", error=self.last_error)
        left = tokens.expires_in(self.clock())
        if self.last_error:
            state = "error"
        elif left is None:
            state = "connected"
        elif left <= 0:
            state = "expired"
        elif left <= self.config.refresh_margin:
            state = "expiring"
        else:
            state = "connected"
        return TokenHealth(state, expires_in=left, last_refresh=tokens.refreshed_at, error=self.last_error)

    # -- internals ----------------------------------------------------------

    async def _refresh_once(self, seen: TokenSet, reason: str) -> None:
        """Refresh unless another task already did since *seen* was read (single flight)."""
        async with self._lock:
            if self.tokens is not seen:
                return
            form = {"grant_type": "refresh_token", "refresh_token": seen.refresh_token}
            if seen.scope:
                form["scope"] = seen.scope
            endpoint = self.config.refresh_endpoint or self.config.token_endpoint
            tokens = await self._token_request(endpoint, form, f"refresh the token ({reason})", previous=seen)
            self._keep(tokens)

    async def _token_request(self, endpoint: str, form: dict[str, str], purpose: str,
                             previous: TokenSet | None = None) -> TokenSet:
        headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
        form = dict(form)
        if self.config.client_auth == "client_secret_basic" and self.config.client_secret:
            pair = f"{_form_quote(self.config.client_id)}:{_form_quote(self.config.client_secret)}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = self.config.client_id
            if self.config.client_secret:
                form["client_secret"] = self.config.client_secret
        for key in ("code", "refresh_token", "code_verifier"):
            self.http.secrets.add(form.get(key))
        request = self.http.build_request("POST", endpoint, headers=headers, content=urlencode(form))
        exchange = await self.http.send(request, scenario="AuthMethod", name="token")
        where = Location(file=endpoint, field="TokenEndPoint")
        if exchange.response is None:
            self.last_error = f"cannot {purpose}: {exchange.error}"
            raise AuthError(self.last_error, where)
        not_json = False
        try:
            data = json.loads(exchange.text or "{}")
        except (ValueError, RecursionError):
            data, not_json = {}, True
        if (not exchange.ok or not isinstance(data, dict) or not isinstance(data.get("access_token"), str)
                or not data["access_token"]):
            detail = ""
            if isinstance(data, dict) and data.get("error"):
                detail = str(data["error"])
                if data.get("error_description"):
                    detail += f": {data['error_description']}"
            elif not_json:
                kind = (exchange.response.headers.get("content-type") or "").split(";")[0].strip()
                detail = "the answer is not JSON" + (f" ({kind})" if kind else "")
            elif exchange.ok and isinstance(data, dict) and data.get("access_token"):
                detail = "the access_token in the answer is not text"
            elif exchange.ok:
                detail = "the answer has no access_token"
            self.last_error = self.http.redactor.message(
                f"cannot {purpose}: HTTP {exchange.status}" + (f" {detail}" if detail else ""))
            if detail.startswith("invalid_grant"):
                self.last_error += "; authorize deskline again"
            raise AuthError(self.last_error, where)
        tokens = TokenSet.from_response(data, self.clock(), previous)
        self.last_error = ""
        return tokens

    def _keep(self, tokens: TokenSet) -> None:
        self._register(tokens)
        self.tokens = tokens
        if self.store is not None:
            self.store.save(tokens)

    def _register(self, tokens: TokenSet | None) -> None:
        if tokens is not None:
            self.http.secrets.add(tokens.access_token)
            self.http.secrets.add(tokens.refresh_token)


def _form_quote(value: str) -> str:
    """RFC 6749 §2.3.1: client id and secret are form-encoded before Basic encoding."""
    from urllib.parse import quote_plus

    return quote_plus(value)
