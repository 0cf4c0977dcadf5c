"""PBX events: the Yeastar Open API websocket, a loopback simulator, replay files, and the
per-call state machine that turns events into call facts.

websocket frame -> :func:`parse_event` -> ``CallEvent`` -> :class:`CallTracker` -> ``CallRinging``,
``CallAnswered``, ``CallMissed``, ``CallEnded``, ``CallCompleted`` (with the CDR).
"""

from engine.pbx.calls import (
    Call, CallAnswered, CallCompleted, CallEnded, CallFact, CallMissed, CallRinging, CallTracker, LateCdr,
)
from engine.pbx.events import (
    CallEvent, CallFailed, CallForwarded, CallMember, CallStatusChanged, ExtensionStatusChanged, FrameError,
    InboundCallInvitation, NewCdr, UaCstaCall, UnknownEvent, parse_event,
)
from engine.pbx.script import PbxModel, ScriptError, expand_script
from engine.pbx.source import (
    DEFAULT_TOPICS, OpenApiSource, PbxEventSource, RecordingSource, ReplaySource, SourceStatus, load_replay,
)

__all__ = [
    "Call", "CallAnswered", "CallCompleted", "CallEnded", "CallEvent", "CallFact", "CallFailed",
    "CallForwarded", "CallMember", "CallMissed", "CallRinging", "CallStatusChanged", "CallTracker",
    "DEFAULT_TOPICS", "ExtensionStatusChanged", "FrameError", "InboundCallInvitation", "LateCdr", "NewCdr",
    "OpenApiSource", "PbxEventSource", "PbxModel", "RecordingSource", "ReplaySource", "ScriptError",
    "SourceStatus", "UaCstaCall", "UnknownEvent", "expand_script", "load_replay", "parse_event",
]
