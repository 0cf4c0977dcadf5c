"""HTTP runtime: one bounded, traced, retrying client per integration."""

from engine.http.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_DEADLINE,
    DEFAULT_READ_TIMEOUT,
    USER_AGENT,
    Exchange,
    HelpdeskHttp,
    HttpSettings,
)
from engine.http.redaction import MASK, Redactor, SecretRegistry, sensitive_name
from engine.http.retry import RetryDecision, RetryPolicy, idempotent, parse_retry_after
from engine.http.trace import Attempt, MappingNote, Trace

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT", "DEFAULT_DEADLINE", "DEFAULT_READ_TIMEOUT", "MASK", "USER_AGENT",
    "Attempt", "Exchange", "HelpdeskHttp", "HttpSettings", "MappingNote", "Redactor", "RetryDecision",
    "RetryPolicy", "SecretRegistry", "Trace", "idempotent", "parse_retry_after", "sensitive_name",
]
