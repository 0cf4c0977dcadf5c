"""deskline's configuration: layered, typed, documented and round-trippable.

Layers, each overriding the one before (``Config.source_of(key)`` tells
which one a value came from)::

    defaults  <  config file  <  secrets file  <  DESKLINE_SECTION__KEY env vars  <  command-line flags

* The config file is ``--config FILE``, else ``$DESKLINE_CONFIG``, else
  ``config.toml`` in the config dir (``$DESKLINE_CONFIG_DIR``, else the
  platform's user config dir, e.g. ``~/.config/deskline``).  A file named
  explicitly must exist; the default one may be missing.
* Secrets (``pbx.client_secret``) belong in the environment
  (``DESKLINE_PBX__CLIENT_SECRET``) or in ``secrets.toml`` next to the
  config file, which must be readable by its owner only (``chmod 600``):
  a secret in a file others can read is refused with the command that fixes
  it.  :func:`save_setting` writes secrets to that file with mode 0600.
  Secrets never appear in ``repr(config)``; :meth:`Config.secrets` lists
  them for redaction.
* Env vars: ``DESKLINE_<SECTION>__<KEY>`` (``DESKLINE_HTTP__READ_TIMEOUT=8``);
  lists are comma separated, booleans ``true/false/1/0/yes/no/on/off``.
  A ``DESKLINE_X__Y`` that names no setting is an error (typos do not pass
  silently).
* The data dir (``$DESKLINE_DATA_DIR``, else the platform's user data dir)
  holds the store (``deskline.sqlite3``) unless ``[store] path`` says
  otherwise.

Files are read with :mod:`tomllib`; :func:`save_setting` edits them with
:mod:`tomlkit`, so comments and layout survive.  Unknown keys, wrong types
and bad values are :class:`ConfigError` naming the file, line and key.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import tomllib
import typing
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from engine.errors import LocatedError, Location, caret_excerpt
from engine.files import atomic_write
from engine.numbers import NumberVariant

if typing.TYPE_CHECKING:  # pragma: no cover
    from engine.http import HttpSettings
    from engine.integration import IntegrationSettings
    from engine.numbers import NumberPlan
    from engine.outbox import BackoffPolicy
    from engine.pbx.source import OpenApiSource
    from engine.template import Template

APP_NAME = "deskline"
CONFIG_FILE = "config.toml"
SECRETS_FILE = "secrets.toml"
STORE_FILE = "deskline.sqlite3"
ENV_PREFIX = "DESKLINE_"


class ConfigError(LocatedError):
    """A setting that cannot be used: where (file:line, key or env var) and why."""

    def __init__(self, message: str, location: Location | None = None, excerpt: str = "",
                 more: list[LocatedError] | None = None) -> None:
        self.more = list(more or [])
        super().__init__(message, location or Location(), excerpt)

    def __str__(self) -> str:
        text = LocatedError.__str__(self)
        for other in getattr(self, "more", []):
            text += "\n" + str(other)
        return text


def _setting(default: Any, doc: str, *, choices: tuple[str, ...] = (), minimum: float | None = None,
             secret: bool = False, factory: Any = None) -> Any:
    meta = {"doc": doc, "choices": choices, "min": minimum, "secret": secret}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta, repr=not secret)


@dataclass(frozen=True, slots=True)
class PbxSection:
    """The Yeastar P-Series PBX."""

    mode: str = _setting("openapi", "where call events come from", choices=("openapi", "simulator", "replay"))
    url: str = _setting("", "PBX address, e.g. https://pbx.example.com:8088")
    client_id: str = _setting("", "Open API client id (PBX: Integrations > API)")
    client_secret: str = _setting("", "Open API client secret: put it in secrets.toml or DESKLINE_PBX__CLIENT_SECRET",
                                  secret=True)
    timezone: str = _setting("", "the PBX time zone for call times, e.g. Europe/Berlin (empty: this host's)")
    replay_file: str = _setting("", "events file played in replay mode")
    verify_tls: bool = _setting(True, "check the PBX's TLS certificate")


@dataclass(frozen=True, slots=True)
class HelpdeskSection:
    """The helpdesk and its integration template."""

    template: str = _setting("", "stored template name or path to a template XML file")
    fields_file: str = _setting("", "TOML file with the template's field values (URL, user, password...); "
                                    "chmod 600 when it holds a password")


@dataclass(frozen=True, slots=True)
class HttpSection:
    """Requests to the helpdesk."""

    connect_timeout: float = _setting(2.0, "seconds to connect", minimum=0.01)
    read_timeout: float = _setting(5.0, "seconds to wait for an answer", minimum=0.01)
    retries: int = _setting(3, "attempts per request while a call rings (1 = no retry)", minimum=1)
    max_concurrent: int = _setting(0, "requests in flight at once (0: the template's MaxConcurrentRequest, else 10)",
                                   minimum=0)
    verify_tls: bool = _setting(True, "check the helpdesk's TLS certificate")


@dataclass(frozen=True, slots=True)
class NumbersSection:
    """How a caller's number is tried against the helpdesk."""

    country_code: str = _setting("", "your country code, e.g. 49 (enables E.164 and national variants)")
    national_prefix: str = _setting("0", "trunk prefix of national numbers")
    international_prefix: str = _setting("00", "exit code for international numbers")
    order: list[str] = _setting(None, "variants tried in order: as_received, e164, national, digits, last_n, regex",
                                factory=lambda: ["as_received", "e164", "national", "digits"])
    last_n: int = _setting(0, "also try the last N digits (0: off)", minimum=0)
    regex: str = _setting("", "your own rewrite: a regular expression on the number as received")
    replacement: str = _setting("", "replacement for regex (empty: the first group, or the whole match)")


NUMBER_VARIANTS = tuple(v.value for v in NumberVariant)


@dataclass(frozen=True, slots=True)
class ContactsSection:
    """Contact search results."""

    pick: str = _setting("first", "which of several matching contacts a call uses", choices=("first", "unique", "last"))
    cache_ttl: float = _setting(30.0, "seconds a search result is reused (0: no cache)", minimum=0)


@dataclass(frozen=True, slots=True)
class UiSection:
    """The console."""

    theme: str = _setting("deskline-dark", "colour theme")
    popup_extensions: list[str] = _setting(None, "extensions whose calls open a contact card (empty: all)",
                                           factory=list)


@dataclass(frozen=True, slots=True)
class StoreSection:
    """Call history and the journal/ticket outbox."""

    path: str = _setting("", f"database file (empty: {STORE_FILE} in the data dir)")
    keep_days: int = _setting(365, "days of call history kept (0: forever)", minimum=0)


@dataclass(frozen=True, slots=True)
class OutboxSection:
    """Retries of call journals and tickets after a call."""

    max_attempts: int = _setting(8, "attempts before an entry is given up (dead)", minimum=1)
    base_delay: float = _setting(10.0, "seconds before the first retry; doubles each time", minimum=0)
    max_delay: float = _setting(900.0, "longest wait between retries, in seconds", minimum=0)


SECTIONS: dict[str, type] = {
    "pbx": PbxSection,
    "helpdesk": HelpdeskSection,
    "http": HttpSection,
    "numbers": NumbersSection,
    "contacts": ContactsSection,
    "ui": UiSection,
    "store": StoreSection,
    "outbox": OutboxSection,
}
# [keymap] maps binding ids ("app.quit") to keys ("ctrl+q"); any id is allowed.
FREE_SECTIONS = ("keymap",)


# -- places ------------------------------------------------------------------------------------------
def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("DESKLINE_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("DESKLINE_DATA_DIR") or platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_path(path: str | Path | None = None, env: Mapping[str, str] = os.environ) -> tuple[Path, bool]:
    """The config file to use and whether it was named explicitly (then it must exist)."""
    if path:
        return Path(path).expanduser(), True
    if env.get("DESKLINE_CONFIG"):
        return Path(env["DESKLINE_CONFIG"]).expanduser(), True
    return config_dir(env) / CONFIG_FILE, False


@dataclass(frozen=True, slots=True)
class Locations:
    """Where deskline reads and writes (``deskline locate``)."""

    config_file: Path
    secrets_file: Path
    config_dir: Path
    data_dir: Path
    store: Path

    def lines(self) -> list[str]:
        return [f"{name.replace('_', ' ')}: {getattr(self, name)}" for name in
                ("config_file", "secrets_file", "config_dir", "data_dir", "store")]


# -- the config --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """The effective settings; ``sources`` says where each came from."""

    pbx: PbxSection = field(default_factory=PbxSection)
    helpdesk: HelpdeskSection = field(default_factory=HelpdeskSection)
    http: HttpSection = field(default_factory=HttpSection)
    numbers: NumbersSection = field(default_factory=NumbersSection)
    contacts: ContactsSection = field(default_factory=ContactsSection)
    ui: UiSection = field(default_factory=UiSection)
    store: StoreSection = field(default_factory=StoreSection)
    outbox: OutboxSection = field(default_factory=OutboxSection)
    keymap: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    secrets_file: Path | None = None
    config_dir: Path = field(default_factory=lambda: config_dir())
    data_dir: Path = field(default_factory=lambda: data_dir())
    sources: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def get(self, key: str) -> Any:
        """A setting by its dotted key (``"http.read_timeout"``)."""
        section, name = _split_key(key)
        if section in FREE_SECTIONS:
            return self.keymap.get(name)
        return getattr(getattr(self, section), name)

    def source_of(self, key: str) -> str:
        """``default``, ``<file>:<line>``, ``env DESKLINE_...`` or ``command line``."""
        return self.sources.get(key, "default")

    @property
    def store_path(self) -> Path:
        return Path(self.store.path).expanduser() if self.store.path else self.data_dir / STORE_FILE

    def locate(self) -> Locations:
        file = self.file or self.config_dir / CONFIG_FILE
        return Locations(config_file=file, secrets_file=self.secrets_file or file.with_name(SECRETS_FILE),
                         config_dir=self.config_dir, data_dir=self.data_dir, store=self.store_path)

    def secrets(self) -> list[str]:
        """Every non-empty secret value (for redaction of traces, logs and exports)."""
        out = []
        for section, cls in SECTIONS.items():
            for f in dataclasses.fields(cls):
                if f.metadata.get("secret") and getattr(getattr(self, section), f.name):
                    out.append(getattr(getattr(self, section), f.name))
        return out

    def timezone(self) -> zoneinfo.ZoneInfo | None:
        """The PBX time zone (``None``: this host's)."""
        return zoneinfo.ZoneInfo(self.pbx.timezone) if self.pbx.timezone else None

    def field_values(self) -> dict[str, str]:
        """The template's field values from ``[helpdesk] fields_file`` (empty without one)."""
        if not self.helpdesk.fields_file:
            return {}
        path = Path(self.helpdesk.fields_file).expanduser()
        if not path.is_absolute() and self.file is not None:
            path = self.file.parent / path  # relative to the config file, like every path in it
        try:
            return load_field_values(path)
        except ConfigError as exc:
            if exc.location.field:
                raise
            raise ConfigError(exc.message, dataclasses.replace(exc.location, field="helpdesk.fields_file"),
                              exc.excerpt, more=exc.more) from None

    # -- the engine's settings objects, built from this config -------------------------------------
    def http_settings(self, template_max_concurrent: int | None = None) -> HttpSettings:
        """HTTP behaviour of an integration (``max_concurrent`` 0 defers to the template's value)."""
        from engine.http import HttpSettings, RetryPolicy

        defaults = HttpSettings()
        return HttpSettings(
            max_concurrent=self.http.max_concurrent or template_max_concurrent or defaults.max_concurrent,
            connect_timeout=self.http.connect_timeout, read_timeout=self.http.read_timeout,
            write_timeout=self.http.read_timeout, verify=self.http.verify_tls,
            retry=RetryPolicy(max_attempts=self.http.retries))

    def number_plan(self) -> NumberPlan:
        from engine.numbers import NumberPlan

        n = self.numbers
        return NumberPlan(order=tuple(n.order), country_code=n.country_code, national_prefix=n.national_prefix,
                          international_prefix=n.international_prefix, last_n=n.last_n, regex=n.regex,
                          replacement=n.replacement or None)

    def integration_settings(self, template: Template | None = None) -> IntegrationSettings:
        """Settings for :class:`engine.integration.Integration` of *template*."""
        from engine.flows import PickPolicy
        from engine.integration import IntegrationSettings

        limit = template.general.max_concurrent if template is not None else None
        return IntegrationSettings(http=self.http_settings(limit or None), numbers=self.number_plan(),
                                   pick=PickPolicy(self.contacts.pick), contact_cache_ttl=self.contacts.cache_ttl,
                                   tz=self.timezone())

    def backoff_policy(self) -> BackoffPolicy:
        """Retry timing of the durable outbox."""
        from engine.outbox import BackoffPolicy

        o = self.outbox
        return BackoffPolicy(max_attempts=o.max_attempts, base_delay=o.base_delay,
                             max_delay=max(o.max_delay, o.base_delay))

    def open_api_source(self) -> OpenApiSource:
        """The PBX event source of ``[pbx] mode = "openapi"``; says which setting is missing."""
        from engine.pbx.source import OpenApiSource

        missing = [name for name in ("url", "client_id", "client_secret") if not getattr(self.pbx, name)]
        if missing:
            name = missing[0]
            how = (f"DESKLINE_PBX__CLIENT_SECRET or {SECRETS_FILE} (chmod 600)" if name == "client_secret"
                   else f"[pbx] {name} in {self.locate().config_file} or DESKLINE_PBX__{name.upper()}")
            raise ConfigError(f"the PBX connection needs {', '.join('pbx.' + m for m in missing)}: set {how}",
                              Location(file=str(self.locate().config_file), field=f"pbx.{name}"))
        try:
            return OpenApiSource(self.pbx.url, self.pbx.client_id, self.pbx.client_secret,
                                 verify_tls=self.pbx.verify_tls, tz=self.timezone())
        except ValueError as exc:
            raise ConfigError(str(exc), Location(file=self.source_of("pbx.url"), field="pbx.url")) from None

    def save(self, key: str, value: Any) -> Path:
        """:func:`save_setting` into this config's own file."""
        return save_setting(key, value, path=self.locate().config_file)


# -- reading -----------------------------------------------------------------------------------------
def _split_key(key: str) -> tuple[str, str]:
    section, dot, name = key.partition(".")
    if not dot or not name:
        raise ConfigError(f"a setting is named section.key, not {key!r}", Location(field=key))
    if section not in SECTIONS and section not in FREE_SECTIONS:
        raise ConfigError(f"unknown section [{section}] (known: {', '.join([*SECTIONS, *FREE_SECTIONS])})",
                          Location(field=key))
    if section in SECTIONS and name not in _field_map(SECTIONS[section]):
        known = ", ".join(_field_map(SECTIONS[section]))
        raise ConfigError(f"unknown setting {name!r} in [{section}] (known: {known})", Location(field=key))
    return section, name


def _field_map(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


_HINTS: dict[type, dict[str, Any]] = {}


def _hint(cls: type, name: str) -> Any:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls][name]


def _type_name(hint: Any) -> str:
    return {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}.get(
        hint, "a list of strings" if typing.get_origin(hint) is list else "a table of strings")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(value: Any, hint: Any, *, from_text: bool, secret: bool = False) -> Any:
    """*value* as *hint*, or ``ValueError`` with the reason (text comes from env vars and flags)."""
    if from_text and isinstance(value, str):
        text = value.strip()
        if hint is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(f"expected true or false, got {value!r}")
        if hint is int:
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"expected a whole number, got {value!r}") from None
        if hint is float:
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"expected a number, got {value!r}") from None
        if typing.get_origin(hint) is list:
            return [part.strip() for part in text.split(",") if part.strip()]
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif typing.get_origin(hint) is list:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    raise ValueError(f"expected {_type_name(hint)}, got {_describe(value, secret=secret)}")


def _describe(value: Any, *, secret: bool = False) -> str:
    """What *value* is, for an error; a secret's value is never shown."""
    kind = {bool: "a boolean", int: "a whole number", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)
    if isinstance(value, dict) or hasattr(value, "items"):
        kind = "a table"
    if secret:
        return kind
    shown = repr(value)
    return f"{kind} ({shown if len(shown) <= 40 else shown[:37] + '...'})"


def _check(section: str, name: str, value: Any) -> None:
    """Value rules beyond the type (choices, minimums, zones, regexes)."""
    f = _field_map(SECTIONS[section])[name]
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
    minimum = f.metadata.get("min")
    if minimum is not None and value < minimum:
        raise ValueError(f"must be at least {minimum:g}, got {value!r}")
    key = f"{section}.{name}"
    if key == "pbx.timezone" and value:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
    elif key == "numbers.order":
        if not value:
            raise ValueError(f"name at least one number variant ({', '.join(NUMBER_VARIANTS)})")
        bad = [v for v in value if v not in NUMBER_VARIANTS]
        if bad:
            raise ValueError(f"unknown number variant {bad[0]!r} (known: {', '.join(NUMBER_VARIANTS)})")
    elif key == "numbers.regex" and value:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    elif key == "numbers.country_code" and value and not value.lstrip("+").isdigit():
        raise ValueError(f"a country code is digits, got {value!r}")
    elif key == "pbx.url" and value:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an http:// or https:// address, got {value!r}")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises for a port that is not a number 0-65535
        except ValueError as exc:
            raise ValueError(f"not a usable address ({exc}), got {value!r}") from None
        if not parts.hostname:
            raise ValueError(f"the address names no host, got {value!r}")


class _KeyLines:
    """Line numbers of ``[table]`` headers and ``key =`` lines of a TOML text (for located errors)."""

    _HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\s*(#.*)?$")
    _PART = r"""(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')"""  # bare or quoted key
    _KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        in_multiline = False
        for number, line in enumerate(text.splitlines(), start=1):
            quotes = line.count('"""') + line.count("'''")
            if in_multiline:
                in_multiline = quotes % 2 == 0
                continue
            header = self._HEADER.match(line)
            if header:
                table = self._parts(header.group(1))
                self.lines.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                self.lines.setdefault(table + self._parts(key.group(1)), number)
            if quotes % 2 == 1:
                in_multiline = True

    @staticmethod
    def _parts(dotted: str) -> tuple[str, ...]:
        return tuple(p.strip().strip("\"'") for p in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", dotted))

    def line(self, *path: str) -> int:
        """The line of *path*, of the first key under it (``a.b = 1`` for ``a``), or of its table."""
        while path:
            if path in self.lines:
                return self.lines[path]
            below = [n for key, n in self.lines.items() if key[:len(path)] == path]
            if below:
                return min(below)
            path = path[:-1]
        return 0


def _read_toml(path: Path, what: str = "the config file") -> tuple[dict[str, Any], _KeyLines, str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what} does not exist", Location(file=str(path))) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", Location(file=str(path))) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError("the file is not UTF-8 text", Location(file=str(path), line=line)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line, col = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
        if found:
            message = message[:found.start()].strip()
        raise ConfigError(f"not valid TOML: {message}", Location(file=str(path), line=line, col=col),
                          caret_excerpt(_mask_secret_line(text, line), line, col) if line else "") from None
    except RecursionError:  # tomllib recurses per nested array or inline table
        raise ConfigError("not valid TOML: arrays or tables nest too deeply", Location(file=str(path))) from None
    return data, _KeyLines(text), text


_SECRET_ASSIGNMENT = re.compile(r"""^(\s*["']?([A-Za-z0-9_.\-]+)["']?\s*=\s*)(.*)$""")


def _mask_secret_line(text: str, line: int) -> str:
    """*text* with the value on *line* masked when its key names a secret (for error excerpts)."""
    lines = text.split("\n")
    if 0 < line <= len(lines):
        found = _SECRET_ASSIGNMENT.match(lines[line - 1])
        if found and found.group(3) and SECRET_FIELD.search(found.group(2).rpartition(".")[2]):
            lines[line - 1] = found.group(1) + "***"
    return "\n".join(lines)


def _others_can_read(path: Path) -> bool:
    if os.name == "nt":  # ACLs, not mode bits
        return False
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except OSError:
        return False


class _Layers:
    """Collects values and their sources layer by layer, and every error on the way."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
        self.keymap: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.errors: list[ConfigError] = []

    def apply_file(self, path: Path, *, secrets_file: bool = False) -> None:
        try:
            data, lines, _ = _read_toml(path)
        except ConfigError as exc:
            self.errors.append(exc)
            return
        shared = _others_can_read(path)
        for section, table in data.items():
            where = Location(file=str(path), line=lines.line(section))
            if section in FREE_SECTIONS:
                if secrets_file:
                    self.errors.append(ConfigError(f"[{section}] holds no secret; put it in the config file",
                                                   _with_field(where, section)))
                    continue
                if not isinstance(table, dict):
                    self.errors.append(ConfigError(f"[{section}] must be a table", _with_field(where, section)))
                    continue
                for name, value in table.items():
                    loc = Location(file=str(path), line=lines.line(section, name), field=f"{section}.{name}")
                    if not isinstance(value, str):
                        self.errors.append(ConfigError(f"a key binding is a string such as \"ctrl+q\", "
                                                       f"got {_describe(value)}", loc))
                        continue
                    self.keymap[name] = value
                    self.sources[f"{section}.{name}"] = f"{path}:{loc.line}"
                continue
            if section not in SECTIONS:
                known = ", ".join([*SECTIONS, *FREE_SECTIONS])
                self.errors.append(ConfigError(f"unknown section [{section}] (known: {known})",
                                               _with_field(where, section)))
                continue
            if not isinstance(table, dict):
                self.errors.append(ConfigError(f"{section} must be a table [{section}], got {_describe(table)}",
                                               _with_field(where, section)))
                continue
            fields = _field_map(SECTIONS[section])
            for name, value in table.items():
                key = f"{section}.{name}"
                loc = Location(file=str(path), line=lines.line(section, name), field=key)
                if name not in fields:
                    self.errors.append(ConfigError(f"unknown setting {name!r} in [{section}] "
                                                   f"(known: {', '.join(fields)})", loc))
                    continue
                is_secret = bool(fields[name].metadata.get("secret"))
                if secrets_file and not is_secret:
                    self.errors.append(ConfigError(f"{key} is not a secret; put it in the config file", loc))
                    continue
                if is_secret and value and shared:
                    self.errors.append(ConfigError(
                        f"a secret in a file others can read; run 'chmod 600 {path}' "
                        f"or move it to {SECRETS_FILE} (chmod 600) or DESKLINE_{section.upper()}__{name.upper()}",
                        loc))
                    continue
                self._set(section, name, value, loc, f"{path}:{loc.line}", from_text=False)

    def apply_env(self, env: Mapping[str, str]) -> None:
        for var, value in sorted(env.items()):
            if not var.startswith(ENV_PREFIX) or "__" not in var[len(ENV_PREFIX):]:
                continue
            section, _, name = var[len(ENV_PREFIX):].partition("__")
            section, name = section.lower(), name.lower()
            loc = Location(file=f"env {var}", field=f"{section}.{name}")
            if section in FREE_SECTIONS:
                # binding ids use dots ("app.quit"): DESKLINE_KEYMAP__APP__QUIT
                binding = name.replace("__", ".")
                self.keymap[binding] = value
                self.sources[f"{section}.{binding}"] = f"env {var}"
                continue
            if section not in SECTIONS or name not in _field_map(SECTIONS[section]):
                self.errors.append(ConfigError(f"{var} names no setting ({section}.{name} is unknown)", loc))
                continue
            self._set(section, name, value, loc, f"env {var}", from_text=True)

    def apply_overrides(self, overrides: Mapping[str, Any]) -> None:
        for key, value in _flatten(overrides).items():
            if value is None:  # a flag that was not given
                continue
            loc = Location(file="command line", field=key)
            try:
                section, name = _split_key(key)
            except ConfigError as exc:
                self.errors.append(ConfigError(exc.message, loc))
                continue
            if section in FREE_SECTIONS:
                self.keymap[name] = str(value)
                self.sources[key] = "command line"
                continue
            self._set(section, name, value, loc, "command line", from_text=True)

    def _set(self, section: str, name: str, value: Any, loc: Location, source: str, *, from_text: bool) -> None:
        hint = _hint(SECTIONS[section], name)
        try:
            value = _coerce(value, hint, from_text=from_text,
                            secret=bool(_field_map(SECTIONS[section])[name].metadata.get("secret")))
            _check(section, name, value)
        except ValueError as exc:
            self.errors.append(ConfigError(str(exc), loc))
            return
        self.values[section][name] = value
        self.sources[f"{section}.{name}"] = source


def _with_field(location: Location, name: str) -> Location:
    return dataclasses.replace(location, field=name)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping) and "." not in key and not prefix:
            out.update(_flatten(value, f"{full}."))
        else:
            out[full] = value
    return out


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None,
                overrides: Mapping[str, Any] | None = None) -> Config:
    """Read the layered config (see the module docstring); raises :class:`ConfigError` listing every problem."""
    env = os.environ if env is None else env
    file, explicit = config_path(path, env)
    layers = _Layers()
    used_file: Path | None = None
    if file.is_file() or explicit:
        layers.apply_file(file)
        used_file = file
    secrets = file.with_name(SECRETS_FILE)
    if secrets.is_file():
        layers.apply_file(secrets, secrets_file=True)
    layers.apply_env(env)
    layers.apply_overrides(overrides or {})
    if layers.errors:
        first, *more = layers.errors
        raise ConfigError(first.message, first.location, first.excerpt, more=more)
    sections = {name: cls(**layers.values[name]) for name, cls in SECTIONS.items()}
    return Config(**sections, keymap=layers.keymap, file=used_file or file, secrets_file=secrets,
                  config_dir=config_dir(env), data_dir=data_dir(env), sources=layers.sources)


# Field names that hold a credential (the template's password-type fields usually match).
SECRET_FIELD = re.compile(r"pass(word|wd)?|secret|token|api[-_]?key|apikey|credential|private", re.IGNORECASE)


def load_field_values(path: Path) -> dict[str, str]:
    """Read a template field values file: a TOML table of ``name = value`` (numbers and booleans as text).

    A file that holds a credential (a field named like a password, token or
    key) must be readable by its owner only.
    """
    data, lines, _ = _read_toml(path, "the field values file")
    values: dict[str, str] = {}
    errors: list[ConfigError] = []
    for name, value in data.items():
        loc = Location(file=str(path), line=lines.line(name), field=name)
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            errors.append(ConfigError(f"a field value is text, got {_describe(value, secret=bool(SECRET_FIELD.search(name)))}",
                                      loc))
            continue
        if value and SECRET_FIELD.search(name) and _others_can_read(path):
            errors.append(ConfigError(f"a credential in a file others can read; run 'chmod 600 {path}'", loc))
            continue
        values[name] = value
    if errors:
        first, *more = errors
        raise ConfigError(first.message, first.location, first.excerpt, more=more)
    return values


# -- writing -----------------------------------------------------------------------------------------
def save_setting(key: str, value: Any, *, path: str | Path | None = None,
                 env: Mapping[str, str] | None = None) -> Path:
    """Set one setting in the config file (secrets: in ``secrets.toml``, mode 0600), keeping comments.

    The value is checked like a loaded one; the file is replaced atomically.
    Returns the file written.
    """
    import tomlkit

    env = os.environ if env is None else env
    section, name = _split_key(key)
    if section in FREE_SECTIONS:
        if not isinstance(value, str):
            raise ConfigError(f"a key binding is a string such as \"ctrl+q\", got {_describe(value)}",
                              Location(field=key))
    secret = section in SECTIONS and bool(_field_map(SECTIONS[section])[name].metadata.get("secret"))
    if section not in FREE_SECTIONS:
        try:
            value = _coerce(value, _hint(SECTIONS[section], name), from_text=False, secret=secret)
            _check(section, name, value)
        except ValueError as exc:
            raise ConfigError(str(exc), Location(field=key)) from None
    file, _ = config_path(path, env)
    target = file.with_name(SECRETS_FILE) if secret else file
    if target.exists():
        _read_toml(target)  # refuse to edit a file that does not parse (it would lose text)
        doc = tomlkit.parse(target.read_text(encoding="utf-8"))
    else:
        doc = tomlkit.document()
        doc.add(tomlkit.comment("deskline secrets: keep this file private (chmod 600)" if secret else
                                "deskline configuration (see the README for every setting)"))
    table = doc.get(section)
    if table is None:
        table = tomlkit.table()
        doc.add(section, table)
    elif not isinstance(table, dict):
        raise ConfigError(f"{section} is not a table", Location(file=str(target), field=section))
    table[name] = value
    _write_atomically(target, tomlkit.dumps(doc), private=secret or _private(target))
    return target


def _private(path: Path) -> bool:
    return path.exists() and not _others_can_read(path) and os.name != "nt"


def _write_atomically(path: Path, text: str, *, private: bool) -> None:
    try:
        atomic_write(path, text.encode("utf-8"), private=private)
    except OSError as exc:
        raise ConfigError(f"cannot write the file: {exc.strerror or exc}", Location(file=str(path))) from None


def default_config_text() -> str:
    """A config file with every setting at its default, commented out, each with its documentation."""
    import tomlkit

    lines = ["# deskline configuration. Uncomment what you change.",
             "# Secrets go to secrets.toml (chmod 600) or DESKLINE_SECTION__KEY env vars.", ""]
    for section, cls in SECTIONS.items():
        lines.append(f"[{section}]  # {(cls.__doc__ or '').strip()}")
        defaults = cls()
        for f in dataclasses.fields(cls):
            lines.append(f"# {f.metadata['doc']}")
            if f.metadata.get("choices"):
                lines.append(f"# one of: {', '.join(f.metadata['choices'])}")
            value = tomlkit.item(getattr(defaults, f.name)).as_string()
            lines.append(f"# {f.name} = {value}")
        lines.append("")
    lines += ["[keymap]  # binding id = keys, e.g.", '# "app.quit" = "ctrl+q"', ""]
    return "\n".join(lines)

