"""PBX call events: what one Yeastar Open API websocket frame says, as plain values.

A frame is an envelope ``{"type": <event id>, "sn": "<PBX serial>", "msg": "<JSON as a string>"}``;
``msg`` is decoded a second time. :func:`parse_event` turns a frame into one :class:`CallEvent`
(``CallStatusChanged`` for 30011, ``NewCdr`` for 30012, ...). It is lenient where the PBX is
sloppy (``" "`` blanks, ``type`` as a string, ``msg`` already an object, unknown fields, numbers
as strings) and strict where a value would be misread: a malformed frame raises a
:class:`~engine.errors.LocatedError` that names the field (``msg.members[1].extension``) and,
for JSON syntax errors, the line and column.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from engine.errors import LocatedError, Location, caret_excerpt

# event ids (Yeastar P-Series Open API)
EXTENSION_STATUS_CHANGED = 30008
CALL_STATUS_CHANGED = 30011
NEW_CDR = 30012
CALL_FORWARDED = 30014
CALL_FAILED = 30015
INBOUND_CALL_INVITATION = 30016
UACSTA_CALL = 30020

MEMBER_KINDS = ("extension", "inbound", "outbound")

# member_status values
ALERT = "ALERT"        # the caller hears ringback
RING = "RING"          # the callee is ringing
ANSWERED = "ANSWERED"  # the caller's call was answered
ANSWER = "ANSWER"      # the callee answered, talking
HOLD = "HOLD"
BYE = "BYE"


class FrameError(LocatedError):
    """A websocket frame or replay line that cannot be read as a PBX event."""


@dataclass(frozen=True, slots=True)
class CallMember:
    """One party of a call as the PBX lists it in ``members[]``.

    ``kind`` is ``extension``, ``inbound`` or ``outbound`` (another key is kept as is).
    An extension member has ``number``; trunk members have ``from_number``/``to_number`` and
    ``trunk``. ``status`` is the upper-cased ``member_status`` (``ALERT``, ``RING``, ``ANSWER``...).
    """

    kind: str
    number: str = ""
    from_number: str = ""
    to_number: str = ""
    trunk: str = ""
    channel_id: str = ""
    status: str = ""
    call_path: str = ""

    @property
    def key(self) -> str:
        """Stable identity of this member within its call (the channel, else kind and numbers)."""
        return self.channel_id or f"{self.kind}:{self.number}:{self.from_number}:{self.to_number}"


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Base of every parsed PBX event: the event id and the PBX serial number."""

    type: int
    sn: str


@dataclass(frozen=True, slots=True)
class CallStatusChanged(CallEvent):
    """30011: a state change of a monitored call; ``members`` lists the parties now."""

    call_id: str
    members: tuple[CallMember, ...] = ()


@dataclass(frozen=True, slots=True)
class CallForwarded(CallEvent):
    """30014: an inbound call was forwarded; same shape as 30011."""

    call_id: str
    members: tuple[CallMember, ...] = ()


@dataclass(frozen=True, slots=True)
class CallFailed(CallEvent):
    """30015: a call could not be set up (``reason`` such as ``User Busy`` or ``DND``)."""

    call_id: str
    reason: str = ""
    members: tuple[CallMember, ...] = ()


@dataclass(frozen=True, slots=True)
class InboundCallInvitation(CallEvent):
    """30016: an inbound call waits for a routing decision (trunk with *Control Inbound Call*)."""

    call_id: str
    members: tuple[CallMember, ...] = ()


@dataclass(frozen=True, slots=True)
class ExtensionStatusChanged(CallEvent):
    """30008: an extension became ``Ringing``, ``Busy`` or ``Idle``."""

    extension: str
    status: str


@dataclass(frozen=True, slots=True)
class UaCstaCall(CallEvent):
    """30020: a uaCSTA phone started, answered or ended a call."""

    operation: str
    extension: str = ""
    call_id: str = ""
    ip_address: str = ""


@dataclass(frozen=True, slots=True)
class NewCdr(CallEvent):
    """30012: the call detail record written when a call ended.

    ``time_start`` is in the PBX's time zone (aware when :func:`parse_event` got ``tz``);
    ``status`` is ``ANSWERED``, ``NO ANSWER``, ``BUSY``, ``VOICEMAIL`` (``ANSWERD`` is read as
    ``ANSWERED``); ``call_type`` is lower case: ``inbound``, ``outbound``, ``internal``.
    Fields the PBX sends that are not listed here are kept in ``extra``.
    """

    call_id: str
    time_start: datetime | None = None
    call_from: str = ""
    call_to: str = ""
    call_duration: int = 0
    talk_duration: int = 0
    src_trunk_name: str = ""
    dst_trunk_name: str = ""
    pin_code: str = ""
    status: str = ""
    call_type: str = ""
    recording: str = ""
    did_number: str = ""
    did_name: str = ""
    agent_ring_time: int = 0
    uid: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def answered(self) -> bool:
        return self.status == "ANSWERED"


@dataclass(frozen=True, slots=True)
class UnknownEvent(CallEvent):
    """An event id deskline does not interpret; ``msg`` is kept as decoded (or raw text)."""

    msg: Any = None


# ---------------------------------------------------------------------------------------------

class _Reader:
    """Reads fields of one decoded frame, raising located errors that name the field."""

    __slots__ = ("where",)

    def __init__(self, where: Location) -> None:
        self.where = where

    def fail(self, path: str, message: str) -> FrameError:
        loc = Location(self.where.file, self.where.line, self.where.col, path)
        return FrameError(message, loc)

    def text(self, obj: Mapping[str, Any], key: str, path: str) -> str:
        value = obj.get(key)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, str):
            return value.strip()
        raise self.fail(f"{path}.{key}", f"expected a string, got {_kind(value)}")

    def integer(self, obj: Mapping[str, Any], key: str, path: str) -> int:
        """Whole seconds from an int, a float (rounded) or a numeric string; blank or missing is 0."""
        value = obj.get(key)
        if value is None:
            return 0
        number: float | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            return value
        elif isinstance(value, float):
            number = value
        elif isinstance(value, str):
            text = value.strip()
            if not text:
                return 0
            try:
                return int(text)
            except ValueError:
                try:
                    number = float(text)
                except ValueError:
                    number = None
        if number is None or number != number or number in (float("inf"), float("-inf")):
            shown = repr(value) if isinstance(value, (str, float)) else _kind(value)
            raise self.fail(f"{path}.{key}", f"expected a whole number of seconds, got {shown}"[:200])
        return int(round(number))

    def timestamp(self, obj: Mapping[str, Any], key: str, path: str, tz: tzinfo | None) -> datetime | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            try:
                stamp = datetime.fromisoformat(text)
            except ValueError:
                raise self.fail(f"{path}.{key}",
                                f"expected a time like 2022-04-27 19:04:36, got {value!r}") from None
            if stamp.tzinfo is None and tz is not None:
                stamp = stamp.replace(tzinfo=tz)
            return stamp
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return datetime.fromtimestamp(value, tz)
            except (OverflowError, OSError, ValueError):
                raise self.fail(f"{path}.{key}", f"timestamp {value} is out of range") from None
        raise self.fail(f"{path}.{key}", f"expected a time, got {_kind(value)}")

    def members(self, msg: Mapping[str, Any]) -> tuple[CallMember, ...]:
        raw = msg.get("members")
        if raw is None:
            return ()
        if isinstance(raw, Mapping):  # a single member sent without the list
            raw = [raw]
        if not isinstance(raw, list):
            raise self.fail("msg.members", f"expected a list of members, got {_kind(raw)}")
        out = []
        for i, item in enumerate(raw):
            path = f"msg.members[{i}]"
            if not isinstance(item, Mapping):
                raise self.fail(path, f"expected an object, got {_kind(item)}")
            kind = next((k for k in MEMBER_KINDS if k in item), None)
            if kind is None:
                kind = next((k for k, v in item.items() if isinstance(v, Mapping)), None)
            if kind is None:
                raise self.fail(path, "member has none of extension, inbound, outbound")
            body = item[kind]
            path = f"{path}.{kind}"
            if not isinstance(body, Mapping):
                raise self.fail(path, f"expected an object, got {_kind(body)}")
            out.append(CallMember(
                kind=kind,
                number=self.text(body, "number", path),
                from_number=self.text(body, "from", path),
                to_number=self.text(body, "to", path),
                trunk=self.text(body, "trunk_name", path),
                channel_id=self.text(body, "channel_id", path),
                status=self.text(body, "member_status", path).upper(),
                call_path=self.text(body, "call_path", path),
            ))
        return tuple(out)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _loads(text: str, where: Location, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if path == "msg":
            loc = Location(where.file, where.line, where.col, f"msg (line {exc.lineno}, col {exc.colno})")
        else:
            line = where.line + exc.lineno - 1 if where.line else exc.lineno
            col = exc.colno + (where.col - 1 if where.col and exc.lineno == 1 else 0)
            loc = Location(where.file, line, col, path)
        raise FrameError(f"invalid JSON: {exc.msg}", loc, _excerpt(text, exc.lineno, exc.colno)) from None
    except RecursionError:
        raise FrameError("JSON nested too deeply", Location(where.file, where.line, where.col, path)) from None


def _excerpt(text: str, line: int, col: int) -> str:
    return caret_excerpt(text[:4000], line, col) if line <= 200 else ""


CDR_FIELDS = frozenset({
    "call_id", "time_start", "call_from", "call_to", "call_duration", "talk_duration",
    "src_trunk_name", "dst_trunk_name", "pin_code", "status", "type", "recording",
    "did_number", "did_name", "agent_ring_time", "uid",
})


def parse_event(frame: str | bytes | Mapping[str, Any], *, tz: tzinfo | None = None,
                source: str = "", line: int = 0) -> CallEvent:
    """Parse one websocket frame (text, bytes or an already decoded object) into a :class:`CallEvent`.

    ``tz`` is the PBX's time zone for CDR times; ``source``/``line`` say where the frame came
    from (a replay file and its line) for error locations. Raises :class:`FrameError`.
    """
    where = Location(source or "<frame>", line, 0, "")
    r = _Reader(where)
    if isinstance(frame, (bytes, bytearray, memoryview)):
        try:
            frame = bytes(frame).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrameError(f"frame is not UTF-8 (byte {exc.start})", where) from None
    if isinstance(frame, str):
        envelope = _loads(frame, where, "frame")
    else:
        envelope = frame
    if not isinstance(envelope, Mapping):
        raise r.fail("frame", f"expected a JSON object, got {_kind(envelope)}")

    raw_type = envelope.get("type")
    if isinstance(raw_type, str) and raw_type.strip().isdigit():
        event_type = int(raw_type.strip())
    elif isinstance(raw_type, int) and not isinstance(raw_type, bool):
        event_type = raw_type
    elif raw_type is None:
        raise r.fail("type", "frame has no event type")
    else:
        raise r.fail("type", f"expected an event id such as 30011, got {raw_type!r}"[:200])
    raw_sn = envelope.get("sn")
    sn = raw_sn.strip() if isinstance(raw_sn, str) else ("" if raw_sn is None or isinstance(raw_sn, (bool, list, Mapping)) else str(raw_sn))

    msg = envelope.get("msg")
    if isinstance(msg, str):
        text = msg.strip()
        msg = _loads(text, where, "msg") if text else {}
    elif msg is None:
        msg = {}
    if event_type not in _PARSERS:
        return UnknownEvent(event_type, sn, msg)
    if not isinstance(msg, Mapping):
        raise r.fail("msg", f"expected an object, got {_kind(msg)}")
    return _PARSERS[event_type](r, event_type, sn, msg, tz)


def _call_id(r: _Reader, msg: Mapping[str, Any], required: bool = True) -> str:
    call_id = r.text(msg, "call_id", "msg")
    if required and not call_id:
        raise r.fail("msg.call_id", "event has no call_id")
    return call_id


def _status_changed(r, t, sn, msg, tz):
    return CallStatusChanged(t, sn, _call_id(r, msg), r.members(msg))


def _forwarded(r, t, sn, msg, tz):
    return CallForwarded(t, sn, _call_id(r, msg), r.members(msg))


def _failed(r, t, sn, msg, tz):
    return CallFailed(t, sn, _call_id(r, msg), r.text(msg, "reason", "msg"), r.members(msg))


def _invitation(r, t, sn, msg, tz):
    return InboundCallInvitation(t, sn, _call_id(r, msg), r.members(msg))


def _extension_status(r, t, sn, msg, tz):
    extension = r.text(msg, "extension", "msg")
    if not extension:
        raise r.fail("msg.extension", "event has no extension")
    return ExtensionStatusChanged(t, sn, extension, r.text(msg, "status", "msg"))


def _uacsta(r, t, sn, msg, tz):
    return UaCstaCall(t, sn, r.text(msg, "operation", "msg"), r.text(msg, "extension", "msg"),
                      _call_id(r, msg, required=False), r.text(msg, "ip_address", "msg"))


def _cdr(r, t, sn, msg, tz):
    status = r.text(msg, "status", "msg").upper()
    if status == "ANSWERD":  # typo in the PBX documentation's table
        status = "ANSWERED"
    extra = {k: v for k, v in msg.items() if k not in CDR_FIELDS}
    return NewCdr(
        t, sn, _call_id(r, msg),
        time_start=r.timestamp(msg, "time_start", "msg", tz),
        call_from=r.text(msg, "call_from", "msg"),
        call_to=r.text(msg, "call_to", "msg"),
        call_duration=r.integer(msg, "call_duration", "msg"),
        talk_duration=r.integer(msg, "talk_duration", "msg"),
        src_trunk_name=r.text(msg, "src_trunk_name", "msg"),
        dst_trunk_name=r.text(msg, "dst_trunk_name", "msg"),
        pin_code=r.text(msg, "pin_code", "msg"),
        status=status,
        call_type=r.text(msg, "type", "msg").lower(),
        recording=r.text(msg, "recording", "msg"),
        did_number=r.text(msg, "did_number", "msg"),
        did_name=r.text(msg, "did_name", "msg"),
        agent_ring_time=r.integer(msg, "agent_ring_time", "msg"),
        uid=r.text(msg, "uid", "msg"),
        extra=extra,
    )


_PARSERS = {
    CALL_STATUS_CHANGED: _status_changed,
    CALL_FORWARDED: _forwarded,
    CALL_FAILED: _failed,
    INBOUND_CALL_INVITATION: _invitation,
    EXTENSION_STATUS_CHANGED: _extension_status,
    UACSTA_CALL: _uacsta,
    NEW_CDR: _cdr,
}


def is_subscription_ack(obj: Any) -> bool:
    """True for the reply to ``topic_list``: ``{"errcode": 0, ...}`` or a ``"type": 10000`` message."""
    if not isinstance(obj, Mapping):
        return False
    if "type" in obj and str(obj.get("type")).strip() == "10000":
        return True
    return "errcode" in obj and "type" not in obj
