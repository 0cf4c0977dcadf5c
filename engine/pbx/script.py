"""Call scripts: write calls as short lines, get the frames a Yeastar PBX would send.

The script language (one command per line, ``#`` starts a comment, ``->`` or ``→`` as the arrow)::

    ring +4930123456 -> 2002                 inbound call from +4930123456 ringing extension 2002
    ring +4930123456 -> 2001,2002            ... ringing two extensions at once (ring group)
    ring 0049301234 -> 6400 (queue 2001 2002 2003)
                                             ... through queue 6400, its members ring in parallel
    ring +4930123456 -> 6400 (queue)         ... a queue whose members are not listed
    ring +4930123456 -> 2002 trunk sip-1     ... on trunk sip-1 (default: the model's trunk)
    call 2005 -> 2002                        internal call from extension 2005 to 2002
    dial 2002 -> +4989123456 [trunk NAME]    outbound call from extension 2002
    answer [EXT]                             EXT answers (default: the one ringing longest; for an
                                             outbound call, the far end); other ringing members stop
    transfer [EXT ->] EXT                    the answered call is transferred (blind) to EXT, which rings
    hold [EXT] / unhold [EXT]                the answering extension puts the call on hold / takes it back
    hangup [EXT|NUMBER]                      the call (default: the latest) ends, its CDR follows
    missed FROM -> TARGET [after 8s]         shorthand: ring, nobody answers, caller gives up (default 10s)
    busy FROM -> EXT [reason TEXT]           the call fails at once (30015, default reason "User Busy")
    wait 2s | wait 500ms | wait 1m           time passes

A command acts on the call it names (by a ringing or talking extension or number) or on the
latest call. Scripts are expanded with :func:`expand_script` into :class:`ScriptedFrame` values
(``at`` seconds since the start and the raw envelope); the simulator uses :class:`PbxModel` directly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.errors import Location, caret_excerpt
from engine.pbx.events import (
    ALERT, ANSWER, ANSWERED, BYE, CALL_FAILED, CALL_STATUS_CHANGED, EXTENSION_STATUS_CHANGED,
    HOLD, NEW_CDR, RING, FrameError,
)

DEFAULT_SN = "3631A2124XXX"
DEFAULT_START = datetime(2026, 11, 25, 9, 0, 0)


class ScriptError(FrameError):
    """A line of a call script that cannot be understood."""


@dataclass(frozen=True, slots=True)
class ScriptedFrame:
    """One websocket frame at ``at`` seconds after the script started."""

    at: float
    frame: dict[str, Any]
    line: int = 0          # the script line that produced it

    def text(self) -> str:
        return json.dumps(self.frame, ensure_ascii=False)


@dataclass
class _Member:
    kind: str
    number: str = ""
    from_number: str = ""
    to_number: str = ""
    trunk: str = ""
    channel_id: str = ""
    status: str = ALERT
    call_path: str = ""

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any]
        if self.kind == "extension":
            body = {"number": self.number}
        else:
            body = {"from": self.from_number, "to": self.to_number, "trunk_name": self.trunk}
        body.update(channel_id=self.channel_id, member_status=self.status, call_path=self.call_path or " ")
        return {self.kind: body}


@dataclass
class _Call:
    call_id: str
    direction: str
    caller: str
    callee: str
    trunk: str
    via: str
    started: float
    members: list[_Member] = field(default_factory=list)
    answered: float | None = None
    answered_by: str = ""

    def extension(self, number: str) -> _Member | None:
        return next((m for m in self.members if m.kind == "extension" and m.number == number
                     and m.status != BYE), None)

    def involves(self, who: str) -> bool:
        return any(who in (m.number, m.from_number, m.to_number) for m in self.members if m.status != BYE)


class PbxModel:
    """The calls of a pretend PBX. Each action takes the time ``at`` (seconds since ``start``)
    and returns the envelopes (30011, 30008, 30015, 30012) the real PBX would push."""

    def __init__(self, *, sn: str = DEFAULT_SN, start: datetime = DEFAULT_START, trunk: str = "demo-trunk",
                 first_call_id: int = 1764061200) -> None:
        self.sn = sn
        self.start = start
        self.trunk = trunk
        self.calls: list[_Call] = []
        self._next_id = first_call_id
        self._channel = 0xB0

    # -- call set-up ---------------------------------------------------------------------
    def ring(self, caller: str, extensions: list[str], *, at: float, via: str = "", callee: str = "",
             trunk: str = "") -> tuple[str, list[dict]]:
        """Inbound call from ``caller`` ringing ``extensions`` (through ``via``, e.g. a queue number)."""
        trunk = trunk or self.trunk
        callee = callee or via or (extensions[0] if extensions else "")
        call = self._new(at, "inbound", caller, callee, trunk, via)
        call.members.append(_Member("inbound", from_number=caller, to_number=callee, trunk=trunk,
                                    channel_id=self._trunk_channel(trunk), status=ALERT, call_path=via))
        for ext in extensions:
            call.members.append(_Member("extension", ext, channel_id=self._ext_channel(ext), status=RING,
                                        call_path=via))
        return call.call_id, [self._status(call), *(self._ext_status(e, "Ringing") for e in extensions)]

    def call(self, caller: str, callee: str, *, at: float) -> tuple[str, list[dict]]:
        """Internal call between two extensions."""
        call = self._new(at, "internal", caller, callee, "", "")
        call.members += [_Member("extension", caller, channel_id=self._ext_channel(caller), status=ALERT),
                         _Member("extension", callee, channel_id=self._ext_channel(callee), status=RING)]
        return call.call_id, [self._status(call), self._ext_status(caller, "Busy"),
                              self._ext_status(callee, "Ringing")]

    def dial(self, extension: str, number: str, *, at: float, trunk: str = "") -> tuple[str, list[dict]]:
        """Outbound call from ``extension`` to an external ``number``."""
        trunk = trunk or self.trunk
        call = self._new(at, "outbound", extension, number, trunk, "")
        call.members += [_Member("extension", extension, channel_id=self._ext_channel(extension), status=ALERT),
                         _Member("outbound", from_number=extension, to_number=number, trunk=trunk,
                                 channel_id=self._trunk_channel(trunk), status=RING)]
        return call.call_id, [self._status(call), self._ext_status(extension, "Busy")]

    def busy(self, caller: str, extension: str, *, at: float, reason: str = "User Busy") -> tuple[str, list[dict]]:
        """A call that fails at once (30015) and leaves a CDR with status BUSY."""
        inbound = not _looks_like_extension(caller)
        call = self._new(at, "inbound" if inbound else "internal", caller, extension,
                         self.trunk if inbound else "", "")
        if inbound:
            call.members.append(_Member("inbound", from_number=caller, to_number=extension, trunk=self.trunk,
                                        channel_id=self._trunk_channel(self.trunk), status=BYE))
        else:
            call.members.append(_Member("extension", caller, channel_id=self._ext_channel(caller), status=BYE))
        call.members.append(_Member("extension", extension, channel_id=self._ext_channel(extension), status=BYE))
        failed = self._envelope(CALL_FAILED, {"call_id": call.call_id, "reason": reason,
                                              "members": [m.as_json() for m in call.members]})
        self.calls.remove(call)
        return call.call_id, [failed, self._cdr(call, at, status="BUSY")]

    # -- during the call -----------------------------------------------------------------
    def answer(self, who: str = "", *, at: float) -> list[dict]:
        call = self._find(who, ringing=True)
        if call.direction == "outbound" and (not who or call.callee == who):
            far = next(m for m in call.members if m.kind == "outbound")
            far.status = ANSWER
            for m in call.members:
                if m.kind == "extension" and m.status == ALERT:
                    m.status = ANSWERED
            call.answered = at if call.answered is None else call.answered
            call.answered_by = call.caller
            return [self._status(call)]
        ringing = [m for m in call.members if m.kind == "extension" and m.status == RING]
        if who:
            member = next((m for m in ringing if m.number == who), None)
            if member is None:
                raise ValueError(f"extension {who} is not ringing")
        elif ringing:
            member = ringing[0]
        else:
            raise ValueError("no extension is ringing")
        frames = []
        for m in call.members:
            if m is member:
                m.status = ANSWER
            elif m.kind == "extension" and m.status in (RING, ANSWER, HOLD) and m.number != call.caller:
                m.status = BYE          # other queue members stop ringing; a transferring party leaves
                frames.append(self._ext_status(m.number, "Idle"))
            elif m.status == ALERT:
                m.status = ANSWERED
        call.answered = at if call.answered is None else call.answered
        call.answered_by = member.number
        return [self._status(call), self._ext_status(member.number, "Busy"), *frames]

    def transfer(self, target: str, who: str = "", *, at: float) -> list[dict]:
        call = self._find(who, ringing=False)
        leaving = next((m for m in call.members if m.kind == "extension" and m.status in (ANSWER, HOLD)
                        and (not who or m.number == who)), None)
        frames = []
        if leaving is not None:
            leaving.status = BYE
            frames.append(self._ext_status(leaving.number, "Idle"))
        call.members.append(_Member("extension", target, channel_id=self._ext_channel(target), status=RING,
                                    call_path=call.via))
        return [self._status(call), self._ext_status(target, "Ringing"), *frames]

    def hold(self, who: str = "", *, at: float, on: bool = True) -> list[dict]:
        call = self._find(who, ringing=False)
        member = next((m for m in call.members if m.kind == "extension" and m.status in (ANSWER, HOLD)
                       and (not who or m.number == who)), None)
        if member is None:
            raise ValueError("nobody is talking on this call")
        member.status = HOLD if on else ANSWER
        return [self._status(call)]

    def hangup(self, who: str = "", *, at: float) -> list[dict]:
        call = self._find(who, ringing=False)
        self.calls.remove(call)
        live_extensions = [m.number for m in call.members if m.kind == "extension" and m.status != BYE]
        for m in call.members:
            m.status = BYE
        frames = [self._status(call), *(self._ext_status(e, "Idle") for e in live_extensions)]
        status = "ANSWERED" if call.answered is not None else "NO ANSWER"
        frames.append(self._cdr(call, at, status=status))
        return frames

    # -- frames --------------------------------------------------------------------------
    def _envelope(self, event: int, msg: dict[str, Any]) -> dict[str, Any]:
        return {"type": event, "sn": self.sn, "msg": json.dumps(msg, ensure_ascii=False)}

    def _status(self, call: _Call) -> dict[str, Any]:
        return self._envelope(CALL_STATUS_CHANGED, {"call_id": call.call_id,
                                                    "members": [m.as_json() for m in call.members]})

    def _ext_status(self, extension: str, status: str) -> dict[str, Any]:
        return self._envelope(EXTENSION_STATUS_CHANGED, {"extension": extension, "status": status})

    def _cdr(self, call: _Call, at: float, *, status: str) -> dict[str, Any]:
        start = self.start + timedelta(seconds=call.started)
        duration = int(round(at - call.started))
        talk = int(round(at - call.answered)) if call.answered is not None else 0
        call_to = call.answered_by if call.direction == "inbound" and call.answered_by else call.callee
        kind = call.direction.capitalize()
        recording = " "
        if call.answered is not None:
            recording = f"{start:%Y%m%d%H%M%S}-{call.call_id}-{call.caller}-{call_to}-{kind}.wav"
        ring_time = int(round((call.answered if call.answered is not None else at) - call.started))
        return self._envelope(NEW_CDR, {
            "call_id": call.call_id, "time_start": f"{start:%Y-%m-%d %H:%M:%S}",
            "call_from": call.caller, "call_to": call_to, "call_duration": duration, "talk_duration": talk,
            "src_trunk_name": call.trunk if call.direction == "inbound" else " ",
            "dst_trunk_name": call.trunk if call.direction == "outbound" else " ",
            "pin_code": " ", "status": status, "type": kind, "recording": recording,
            "did_number": call.callee if call.direction == "inbound" else " ",
            "agent_ring_time": ring_time,
        })

    # -- internals -----------------------------------------------------------------------
    def _new(self, at: float, direction: str, caller: str, callee: str, trunk: str, via: str) -> _Call:
        call_id = f"{self._next_id + int(at)}.{len(self.calls) + self._channel}"
        self._channel += 1
        call = _Call(call_id, direction, caller, callee, trunk, via, at)
        self.calls.append(call)
        return call

    def _find(self, who: str, *, ringing: bool) -> _Call:
        if not self.calls:
            raise ValueError("there is no call in progress")
        if not who:
            if ringing:
                for call in reversed(self.calls):
                    if call.answered is None:
                        return call
            return self.calls[-1]
        for call in reversed(self.calls):
            if call.involves(who) or call.call_id == who:
                return call
        if ringing:
            raise ValueError(f"extension {who} is not ringing")
        raise ValueError(f"no call in progress involves {who}")

    def _ext_channel(self, ext: str) -> str:
        self._channel += 1
        return f"PJSIP/{ext}-{self._channel:08x}"

    def _trunk_channel(self, trunk: str) -> str:
        self._channel += 1
        return f"PJSIP/trunk-{trunk}-endpoint-{self._channel:08x}"


def _looks_like_extension(number: str) -> bool:
    return number.isdigit() and len(number) <= 6


# -- the script language -------------------------------------------------------------------

_ARROW = re.compile(r"\s*(?:->|→)\s*")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")
_TARGET = re.compile(
    r"^(?P<target>[^\s(]+)\s*(?:\((?P<kind>queue|group|ivr)(?:\s*:?\s*(?P<members>[^)]*))?\))?"
    r"(?:\s+trunk\s+(?P<trunk>\S+))?(?:\s+after\s+(?P<after>\S+))?(?:\s+reason\s+(?P<reason>.+))?\s*$")
_NUMBER = re.compile(r"^[+*#\w.-]+$")


def parse_duration(text: str) -> float:
    """``2s``, ``500ms``, ``1.5s``, ``1m`` or a bare number of seconds."""
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"expected a duration such as 2s or 500ms, got {text!r}")
    value = float(m.group(1))
    return value / 1000 if m.group(2) == "ms" else value * 60 if m.group(2) == "m" else value


def expand_script(text: str, *, source: str = "<script>", model: PbxModel | None = None,
                  start_at: float = 0.0) -> list[ScriptedFrame]:
    """Expand a call script into timed frames; raises :class:`ScriptError` naming the line.

    Times start at ``start_at`` seconds (of ``model``'s clock, whose zero is ``model.start``).
    """
    model = model or PbxModel()
    now = start_at
    out: list[ScriptedFrame] = []
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        col = len(raw) - len(raw.lstrip()) + 1
        verb, _, rest = line.partition(" ")
        rest = rest.strip()
        verb = verb.lower()

        def fail(message: str, at_col: int = col) -> ScriptError:
            return ScriptError(message, Location(source, lineno, at_col, verb),
                               caret_excerpt(text, lineno, at_col))

        try:
            frames, now = _run(model, verb, rest, now, fail)
        except ValueError as exc:
            raise fail(str(exc)) from None
        out += [ScriptedFrame(at, frame, lineno) for at, frame in frames]
    return out


def _run(model: PbxModel, verb: str, rest: str, now: float, fail) -> tuple[list[tuple[float, dict]], float]:
    if verb == "wait":
        if not rest:
            raise fail("wait needs a duration, e.g. wait 2s")
        return [], now + parse_duration(rest)
    if verb in ("ring", "missed", "call", "dial", "busy"):
        left, arrow, right = _split_arrow(rest)
        if not arrow or not left or not right:
            raise fail(f"expected '{verb} FROM -> TO'")
        if not _NUMBER.match(left):
            raise fail(f"not a phone number: {left!r}")
        m = _TARGET.match(right)
        if not m:
            raise fail(f"cannot read the target {right!r}")
        target, kind, members = m.group("target"), m.group("kind"), m.group("members")
        trunk = m.group("trunk") or ""
        if verb == "call":
            return [(now, f) for f in model.call(left, target, at=now)[1]], now
        if verb == "dial":
            return [(now, f) for f in model.dial(left, target, at=now, trunk=trunk)[1]], now
        if verb == "busy":
            reason = (m.group("reason") or "User Busy").strip()
            return [(now, f) for f in model.busy(left, target, at=now, reason=reason)[1]], now
        if kind:
            via = target
            extensions = [e for e in re.split(r"[\s,]+", members or "") if e]
        else:
            via = ""
            extensions = [e for e in target.split(",") if e]
        for ext in extensions:
            if not _NUMBER.match(ext):
                raise fail(f"not an extension: {ext!r}")
        _, frames = model.ring(left, extensions, at=now, via=via, callee=target if kind else "", trunk=trunk)
        timed = [(now, f) for f in frames]
        if verb == "missed":
            end = now + parse_duration(m.group("after") or "10s")
            timed += [(end, f) for f in model.hangup(left, at=end)]
            now = end
        return timed, now
    who = rest
    if verb == "answer":
        return [(now, f) for f in model.answer(who, at=now)], now
    if verb == "hangup":
        return [(now, f) for f in model.hangup(who, at=now)], now
    if verb in ("hold", "unhold"):
        return [(now, f) for f in model.hold(who, at=now, on=verb == "hold")], now
    if verb == "transfer":
        left, arrow, right = _split_arrow(rest)
        target = right if arrow else left
        if not target:
            raise fail("transfer needs the extension to transfer to")
        return [(now, f) for f in model.transfer(target, left if arrow else "", at=now)], now
    raise fail(f"unknown command {verb!r} (ring, missed, call, dial, busy, answer, transfer, hold, "
               f"unhold, hangup, wait)")


def _split_arrow(text: str) -> tuple[str, str, str]:
    parts = _ARROW.split(text, maxsplit=1)
    if len(parts) == 1:
        return text.strip(), "", ""
    return parts[0].strip(), "->", parts[1].strip()
