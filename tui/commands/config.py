"""``deskline config locate|show|set KEY VALUE|init``.

* ``locate``: where deskline reads and writes (config, secrets, data, store).
* ``show``: every effective setting with where it came from (default, a
  file and line, an env var); secrets are shown as set or not set, never
  their value.
* ``set KEY VALUE``: one setting into the config file (a secret into
  ``secrets.toml``, mode 0600), comments kept; VALUE is read like an env var
  (numbers, ``true``/``false``, lists comma separated or as a TOML array);
  ``-`` reads it from stdin, which keeps a secret out of the shell history.
* ``init``: a commented default config file; an existing file is never
  overwritten.

Errors are located (file:line, key) and exit with status 2.
"""

from __future__ import annotations

import sys


def load(args):
    """The effective config for *args* (``--config``); raises :class:`engine.config.ConfigError`."""
    from engine.config import load_config

    return load_config(getattr(args, "config", None))


def run(args) -> int:
    from engine.errors import LocatedError
    from tui.commands.problems import report

    action = {"locate": _locate, "show": _show, "set": _set, "init": _init}[args.config_command]
    try:
        return action(args)
    except LocatedError as exc:
        return report(exc)


def _locate(args) -> int:
    from engine.config import SECRETS_FILE, Config, ConfigError, config_dir, config_path, data_dir

    try:
        config = load(args)
    except ConfigError:
        # Say where things are even when the file does not load: that is when one needs to know.
        file, _ = config_path(getattr(args, "config", None))
        config = Config(file=file, secrets_file=file.with_name(SECRETS_FILE), config_dir=config_dir(),
                        data_dir=data_dir())
        for line in config.locate().lines():
            print(line)
        raise
    for line in config.locate().lines():
        print(line)
    return 0


def _show(args) -> int:
    import dataclasses

    from engine.config import SECTIONS

    config = load(args)
    rows: list[tuple[str, str, str]] = []
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            key = f"{section}.{f.name}"
            source = config.source_of(key)
            if args.changed and source == "default":
                continue
            value = config.get(key)
            if f.metadata.get("secret"):
                shown = "(set, hidden)" if value else "(not set)"
            else:
                shown = _toml(value)
            rows.append((key, shown, source))
    for name, keys in sorted(config.keymap.items()):
        key = f"keymap.{name}"
        rows.append((f'keymap."{name}"', _toml(keys), config.source_of(key)))
    width = max((len(k) + len(v) for k, v, _ in rows), default=0) + 3
    for key, shown, source in rows:
        line = f"{key} = {shown}"
        print(f"{line:{width}}  # {source}")
    print(f"config file: {config.locate().config_file}" + ("" if config.locate().config_file.is_file()
                                                             else " (not there: all defaults)"), file=sys.stderr)
    return 0


def _toml(value) -> str:
    import tomlkit

    return tomlkit.item(value).as_string()


def _set(args) -> int:
    import dataclasses

    from engine.config import FREE_SECTIONS, SECTIONS, save_setting

    key, text = args.key, args.value
    if text == "-":
        text = sys.stdin.readline().rstrip("\r\n")
    section, _, name = key.partition(".")
    value: object = text
    if section in SECTIONS and section not in FREE_SECTIONS:
        defaults = {f.name: f for f in dataclasses.fields(SECTIONS[section])}
        if name in defaults:
            value = _from_text(text, type(getattr(SECTIONS[section](), name)))
    written = save_setting(key, value, path=getattr(args, "config", None))
    secret = section in SECTIONS and name in defaults and defaults[name].metadata.get("secret")
    shown = "(hidden)" if secret else _toml(value)
    print(f"{key} = {shown} written to {written}")
    return 0


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _from_text(text: str, kind: type) -> object:
    """*text* as the setting's type, read the way env vars are; left as text when it is not (the error says why)."""
    stripped = text.strip()
    if kind is bool:
        return True if stripped.lower() in _TRUE else False if stripped.lower() in _FALSE else text
    if kind in (int, float):
        try:
            return kind(stripped)
        except ValueError:
            return text
    if kind is list:
        if stripped.startswith("["):
            import tomllib

            try:
                return tomllib.loads(f"v = {stripped}")["v"]
            except tomllib.TOMLDecodeError:
                return text
        return [part.strip() for part in stripped.split(",") if part.strip()]
    return text


def _init(args) -> int:
    from engine.config import ConfigError, config_path, default_config_text
    from engine.errors import Location
    from engine.files import atomic_write

    file, _ = config_path(getattr(args, "config", None))
    if file.exists():
        raise ConfigError("a config file is already there; edit it or use 'deskline config set KEY VALUE'",
                          Location(file=str(file)))
    try:
        atomic_write(file, default_config_text().encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot write the file: {exc.strerror or exc}", Location(file=str(file))) from None
    print(f"wrote {file}")
    return 0
