"""One integration: a template, the operator's field values, its HTTP client and credentials.

The facade the console, the PBX event handling and ``deskline try`` use::

    async with Integration(load_template("rt5.xml"), {"base_url": ..., "password": ...}) as hd:
        found = await hd.search_contacts("+15550100")
        call = hd.new_call(CallInfo("+15550100", "1001", extension="1001"))
        call.contact = found.chosen
        await hd.write_journal(call)
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from engine.auth import (
    Authenticator,
    AuthError,
    BasicAuth,
    BearerAuth,
    NoAuth,
    OAuth2Auth,
    OAuth2Config,
    TokenHealth,
    TokenStore,
    default_redirect_uri,
    pbx_authentication_info,
)
from engine.errors import Location
from engine.flows import (
    CallContext,
    CallInfo,
    ContactCache,
    ContactSearchResult,
    CreatedContact,
    HelpdeskUser,
    PickPolicy,
    Runtime,
    ScenarioResult,
    UserList,
    associate_by_email,
    create_contact,
    extension_may_use_features,
    fetch_users,
    search_contacts,
    search_manually,
    ticket_after_call,
    ticket_at_ring,
    write_journal,
)
from engine.http import HelpdeskHttp, HttpSettings, SecretRegistry, Trace
from engine.numbers import NumberPlan
from engine.template import Template
from engine.template.model import AUTH

DEFAULT_CREDENTIAL_FORMATS = {"username_password": "{{.username:.password}}", "api_key": "{{.api_key:}}"}
_TOKEN_FIELDS = ("token", "apitoken", "accesstoken", "bearertoken", "bearer", "apikey", "key")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def field_value(values: Mapping[str, str], *candidates: str) -> str:
    """The value of the first custom field whose name matches a candidate (case, ``_`` and ``-`` ignored)."""
    by_norm = {_norm(k): v for k, v in values.items()}
    for c in candidates:
        if by_norm.get(_norm(c)):
            return by_norm[_norm(c)]
    return ""


def secret_values(template: Template, values: Mapping[str, str]) -> list[str]:
    """Values of password-type custom fields and of fields whose name says secret/token/password."""
    from engine.http import sensitive_name

    secret_names = {f.name for f in template.custom_fields if f.secret}
    return [v for k, v in values.items() if v and (k in secret_names or sensitive_name(k))]


def _render_setting(text: str, values: Mapping[str, str], name: str) -> str:
    if "{{" not in text:
        return text.strip()
    from engine.expr import render

    return render(text, values, name=name).strip()


def make_authenticator(template: Template, values: Mapping[str, str], http: HelpdeskHttp, *,
                       store: TokenStore | None = None, redirect_uri: str = default_redirect_uri(),
                       clock: Callable[[], float] = time.time) -> Authenticator:
    """The authentication method the template declares, fed with the operator's values."""
    auth = template.auth
    kind = (auth.auth_type or auth.method or "none").lower()
    sc = template.scenario(AUTH)
    where = sc.location if sc is not None else template.general.location
    if kind == "none":
        return NoAuth()
    if kind == "basic":
        fmt = auth.base64_credential.strip() or DEFAULT_CREDENTIAL_FORMATS.get(auth.credential_type, "")
        if not fmt:
            raise AuthError("Basic authentication needs Base64EncodedCredential (e.g. {{.username:.password}}) "
                            "or a CredentialType", replace(where, field="Parameter[Base64EncodedCredential]"))
        basic = BasicAuth.from_format(fmt, values)
        http.secrets.add(basic.credential)
        return basic
    if kind in ("oauth2", "bearer") and (kind == "oauth2" or (auth.auth_endpoint and auth.token_endpoint)):
        name = f"{template.file}:{where.line} AuthMethod"
        config = OAuth2Config(
            authorization_endpoint=_render_setting(auth.auth_endpoint, values, f"{name}/AuthEndPoint"),
            token_endpoint=_render_setting(auth.token_endpoint, values, f"{name}/TokenEndPoint"),
            refresh_endpoint=_render_setting(auth.refresh_token_endpoint, values, f"{name}/RefreshTokenEndPoint"),
            client_id=field_value(values, "client_id", "clientid", "app_id", "application_id"),
            client_secret=field_value(values, "client_secret", "clientsecret", "app_secret"),
            scope=auth.scope,
            additional_query=_render_setting(auth.additional_query_string, values, f"{name}/AdditionalQueryString"),
            redirect_uri=redirect_uri,
            pkce=auth.pkce,
            token_type=auth.token_type if auth.token_type.lower() != "bearer" else "Bearer",
            refresh_tokens=not auth.no_need_refresh,
        )
        missing = [n for n, v in (("AuthEndPoint", config.authorization_endpoint),
                                  ("TokenEndPoint", config.token_endpoint), ("client id", config.client_id)) if not v]
        if missing:
            raise AuthError(f"OAuth2 needs {', '.join(missing)}", replace(where, field="AuthMethod"))
        return OAuth2Auth(config, http, store, clock=clock)
    if kind == "bearer":
        token = field_value(values, *_TOKEN_FIELDS)
        if not token:
            secrets = [f for f in template.custom_fields if f.secret and values.get(f.name)]
            token = values[secrets[0].name] if len(secrets) == 1 else ""
        if not token:
            raise AuthError("Bearer authentication needs a token: fill the template's token field",
                            replace(where, field="CustomFieldList"))
        http.secrets.add(token)
        return BearerAuth(token, scheme=auth.token_type or "Bearer")
    raise AuthError(f"unknown authentication type {kind!r} (none, basic, oauth2, bearer)",
                    Location(template.file, template.general.location.line, 0, "Information@AuthType"))


@dataclass(frozen=True, slots=True)
class IntegrationSettings:
    """Operator settings of one integration (the template's MaxConcurrentRequest applies unless set)."""

    http: HttpSettings | None = None
    numbers: NumberPlan = field(default_factory=NumberPlan)
    pick: PickPolicy = PickPolicy.FIRST
    contact_cache_ttl: float = 30.0
    search_deadline: float = 10.0  # no new number variant is tried after this many seconds
    redirect_uri: str = default_redirect_uri()
    tz: dt.tzinfo | None = None
    trace_history: int = 500


def default_token_store(template: Template) -> TokenStore:
    """``<data dir>/tokens/<template key>.json`` (``DESKLINE_DATA_DIR`` or the user data dir)."""
    base = os.environ.get("DESKLINE_DATA_DIR")
    if not base:
        import platformdirs

        base = platformdirs.user_data_dir("deskline")
    key = re.sub(r"[^A-Za-z0-9_.-]", "_", template.general.key or template.general.name or "template")
    return TokenStore(Path(base) / "tokens" / f"{key}.json")


class Integration:
    """A template connected to its helpdesk."""

    def __init__(self, template: Template, values: Mapping[str, str] | None = None,
                 settings: IntegrationSettings | None = None, *, token_store: TokenStore | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, dry_run: bool = False,
                 on_trace: Callable[[Trace], None] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.template = template
        self.values = dict(values or {})
        self.settings = settings or IntegrationSettings()
        self.traces: deque[Trace] = deque(maxlen=self.settings.trace_history)
        self._on_trace = on_trace
        http_settings = self.settings.http or HttpSettings()
        if self.settings.http is None and template.general.max_concurrent:
            http_settings = replace(http_settings, max_concurrent=template.general.max_concurrent)
        self.http = HelpdeskHttp(http_settings, secrets=SecretRegistry(secret_values(template, self.values)),
                                 transport=transport, on_trace=self._trace)
        self.auth = make_authenticator(template, self.values, self.http, redirect_uri=self.settings.redirect_uri,
                                       store=token_store, clock=clock)
        self.runtime = Runtime(template, self.http, self.auth,
                               variables={**self.values, "redirect_uri": self.settings.redirect_uri},
                               dry_run=dry_run, tz=self.settings.tz)
        self.cache = ContactCache(self.settings.contact_cache_ttl)
        self.associations: dict[str, HelpdeskUser] = {}  # extension -> helpdesk user

    async def __aenter__(self) -> Integration:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    def _trace(self, trace: Trace) -> None:
        self.traces.append(trace)
        if self._on_trace is not None:
            self._on_trace(trace)

    # -- authentication -----------------------------------------------------------------------------
    def health(self) -> TokenHealth:
        return self.auth.health()

    def authentication_info(self) -> list[tuple[str, str]]:
        """What to register in the helpdesk (redirect URI, scopes, PKCE, ...); empty without OAuth2."""
        if isinstance(self.auth, OAuth2Auth):
            return pbx_authentication_info(self.auth.config)
        return []

    # -- scenarios ------------------------------------------------------------------------------------
    def new_call(self, call: CallInfo) -> CallContext:
        """The scope of one call; ``Owner`` is the helpdesk user associated with its extension."""
        context = CallContext(call)
        user = self.associations.get(call.extension)
        if user is not None:
            context.owner = user.id
        return context

    async def associate_users(self, extensions: Mapping[str, str],
                              manual: Mapping[str, str] | None = None) -> tuple[UserList, list[str]]:
        """Fetch the helpdesk users and associate extensions (manual first, then by e-mail).

        *extensions* maps extension -> e-mail, *manual* extension -> helpdesk user id.
        The associations are kept only when every page was fetched.
        """
        users = await self.fetch_users()
        if not users.ok:
            return users, [str(users.error)]
        self.associations, notes = associate_by_email(users.users, extensions, manual)
        return users, notes

    def may_use_features(self, extension: str) -> bool:
        """With User Association on, only associated extensions use the features (spec A.2.6)."""
        return extension_may_use_features(self.template.feature_enabled("UserAssociation"), self.associations,
                                          extension)

    async def search_contacts(self, number: str, *, caller_display_name: str = "",
                              use_cache: bool = True) -> ContactSearchResult:
        return await search_contacts(self.runtime, number, plan=self.settings.numbers, policy=self.settings.pick,
                                     cache=self.cache if use_cache else None,
                                     caller_display_name=caller_display_name,
                                     deadline=self.settings.search_deadline)

    async def identify(self, context: CallContext) -> ContactSearchResult:
        """Search the call's other party and put the chosen contact in the call's scope."""
        found = await self.search_contacts(context.call.external_number,
                                           caller_display_name=context.call.caller_display_name)
        if found.chosen is not None:
            context.contact = found.chosen
        return found

    async def search(self, value: str) -> ContactSearchResult:
        return await search_manually(self.runtime, value, policy=self.settings.pick)

    async def fetch_users(self) -> UserList:
        return await fetch_users(self.runtime)

    async def create_contact(self, number: str, *, contact_type: str = "", first_name: str = "",
                             last_name: str = "", display_name: str = "", context: CallContext | None = None,
                             retry_safe: bool = False) -> CreatedContact:
        created = await create_contact(self.runtime, number, contact_type=contact_type, first_name=first_name,
                                       last_name=last_name, display_name=display_name, context=context,
                                       retry_safe=retry_safe)
        if created.ok:
            self.cache.clear()  # the number now has a contact
        return created

    async def write_journal(self, context: CallContext, *, subject: str | None = None,
                            description: str | None = None, retry_safe: bool = False) -> ScenarioResult:
        return await write_journal(self.runtime, context, subject=subject, description=description,
                                   tz=self.settings.tz, retry_safe=retry_safe)

    async def ticket_at_ring(self, context: CallContext, **kw) -> ScenarioResult | None:
        return await ticket_at_ring(self.runtime, context, tz=self.settings.tz, **kw)

    async def ticket_after_call(self, context: CallContext, **kw) -> ScenarioResult:
        return await ticket_after_call(self.runtime, context, tz=self.settings.tz, **kw)
