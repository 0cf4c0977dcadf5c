"""When to retry a helpdesk request, and how long to wait first.

Retries cover what is usually transient: 429 (honouring ``Retry-After``),
502/503/504 and connection errors.  A request whose method is not idempotent
(POST, PATCH) is retried only when the helpdesk cannot have acted on it (the
connection was never made, or a 429 refused it) unless the caller says the
request is safe to repeat (``retry_safe``, e.g. the durable outbox with an
idempotency key).
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})

# Transport errors raised before any byte of the request left this host: the
# helpdesk cannot have acted on the request, so even a POST may be repeated.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def idempotent(method: str) -> bool:
    """True when repeating *method* cannot change the outcome (RFC 9110 §9.2.2)."""
    return method.upper() in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Whether to try again, after how many seconds, and why (shown in traces)."""

    retry: bool
    delay: float = 0.0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded so a popup still arrives while it rings."""

    max_attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 2.0
    jitter: float = 0.5
    max_retry_after: float = 5.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        spread = delay * self.jitter
        return delay - spread * (rng or random).random()

    def decide(
        self,
        *,
        method: str,
        attempt: int,
        status: int | None = None,
        error: BaseException | None = None,
        retry_after: str | None = None,
        retry_safe: bool = False,
        rng: random.Random | None = None,
    ) -> RetryDecision:
        """Decide about the next attempt after ``attempt`` attempts ended with *status* or *error*."""
        if attempt >= self.max_attempts:
            return RetryDecision(False, reason=f"gave up after {attempt} attempts")
        repeatable = retry_safe or idempotent(method)
        if error is not None:
            if isinstance(error, _NOT_SENT_ERRORS):
                return RetryDecision(True, self.backoff(attempt, rng), f"{type(error).__name__}: request not sent")
            if not isinstance(error, httpx.TransportError):
                return RetryDecision(False, reason=f"{type(error).__name__} is not transient")
            if repeatable:
                return RetryDecision(True, self.backoff(attempt, rng), type(error).__name__)
            return RetryDecision(False, reason=f"{method} outcome unknown after {type(error).__name__}; not repeated")
        if status is None or status not in RETRY_STATUSES:
            return RetryDecision(False)
        if status == 429:
            # A 429 refuses the request, so repeating it is safe for any method.
            waited = parse_retry_after(retry_after)
            if waited is None:
                return RetryDecision(True, self.backoff(attempt, rng), "429 Too Many Requests")
            if waited > self.max_retry_after:
                return RetryDecision(False, reason=f"429 with Retry-After {waited:g}s > {self.max_retry_after:g}s")
            return RetryDecision(True, waited, f"429 Retry-After {waited:g}s")
        if not repeatable:
            return RetryDecision(False, reason=f"{method} got {status}; outcome unknown, not repeated")
        waited = parse_retry_after(retry_after) if status == 503 else None
        if waited is not None and waited <= self.max_retry_after:
            return RetryDecision(True, waited, f"{status} Retry-After {waited:g}s")
        return RetryDecision(True, self.backoff(attempt, rng), f"{status}")
