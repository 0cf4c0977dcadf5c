"""Phone number variants to try, in order, when searching a contact.

Helpdesks store numbers the way people typed them: ``+4930123456``,
``030 123456``, ``4930123456``.  A lookup that only tries the number as the
trunk delivered it misses most of them, so contact search tries a configured
list of variants until one matches and reports which one did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from engine.errors import LocatedError, Location


class NumberVariant(StrEnum):
    AS_RECEIVED = "as_received"
    E164 = "e164"
    NATIONAL = "national"
    DIGITS = "digits"
    LAST_N = "last_n"
    REGEX = "regex"


DEFAULT_ORDER = (NumberVariant.AS_RECEIVED, NumberVariant.E164, NumberVariant.NATIONAL, NumberVariant.DIGITS)
# Shorter numbers are internal extensions or service codes: never re-formatted.
MIN_EXTERNAL_DIGITS = 6
_SEPARATORS = re.compile(r"[\s\-().\/]")


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """How to turn a received number into the variants a helpdesk may hold.

    ``country_code`` is the PBX's own country (``49``), ``national_prefix``
    the trunk prefix (``0``), ``international_prefix`` the exit code
    (``00``); ``last_n`` > 0 enables the "last N digits" variant; ``regex``
    with ``replacement`` is the user's own rewrite (``re.sub`` on the number
    as received; without a replacement the first group, or the whole match).
    """

    order: tuple[str, ...] = tuple(DEFAULT_ORDER)
    country_code: str = ""
    national_prefix: str = "0"
    international_prefix: str = "00"
    last_n: int = 0
    regex: str = ""
    replacement: str | None = None
    _compiled: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in self.order:
            if name not in NumberVariant.__members__.values():
                known = ", ".join(v.value for v in NumberVariant)
                raise LocatedError(f"unknown number variant {name!r} (known: {known})",
                                   Location(field="numbers.order"))
        if self.country_code and not self.country_code.lstrip("+").isdigit():
            raise LocatedError(f"country code must be digits, got {self.country_code!r}",
                               Location(field="numbers.country_code"))
        object.__setattr__(self, "country_code", self.country_code.lstrip("+"))
        if self.regex:
            try:
                object.__setattr__(self, "_compiled", re.compile(self.regex))
            except re.error as exc:
                raise LocatedError(f"invalid regular expression: {exc}", Location(field="numbers.regex")) from exc


@dataclass(frozen=True, slots=True)
class NumberCandidate:
    """One form of the number to search for, and the variant that produced it."""

    variant: str
    value: str


def digits_only(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def to_e164(number: str, plan: NumberPlan) -> str | None:
    """``+<country><subscriber>`` or None when the number can't be placed (extension, no country)."""
    cleaned = _SEPARATORS.sub("", number.strip())
    digits = digits_only(cleaned)
    if len(digits) < MIN_EXTERNAL_DIGITS:
        return None
    if cleaned.startswith("+"):
        return "+" + digits
    if plan.international_prefix and digits.startswith(plan.international_prefix):
        return "+" + digits[len(plan.international_prefix):]
    if not plan.country_code:
        return None
    if plan.national_prefix and digits.startswith(plan.national_prefix):
        return "+" + plan.country_code + digits[len(plan.national_prefix):]
    if digits.startswith(plan.country_code) and len(digits) - len(plan.country_code) >= MIN_EXTERNAL_DIGITS:
        return "+" + digits  # international number delivered without "+"
    return "+" + plan.country_code + digits


def to_national(number: str, plan: NumberPlan) -> str | None:
    """The number as dialled inside the PBX's country (``030123456``); None for foreign numbers."""
    e164 = to_e164(number, plan)
    if e164 is None or not plan.country_code or not e164.startswith("+" + plan.country_code):
        return None
    return plan.national_prefix + e164[1 + len(plan.country_code):]


def _by_regex(number: str, plan: NumberPlan) -> str | None:
    pattern = plan._compiled
    if pattern is None:
        return None
    if plan.replacement is not None:
        result, count = pattern.subn(plan.replacement, number)
        return result if count else None
    match = pattern.search(number)
    if match is None:
        return None
    return match.group(1) if match.groups() else match.group(0)


def number_variants(number: str, plan: NumberPlan | None = None) -> list[NumberCandidate]:
    """The distinct forms of *number* to try, in the plan's order (duplicates dropped)."""
    plan = plan or NumberPlan()
    received = number.strip()
    out: list[NumberCandidate] = []
    seen: set[str] = set()
    for name in plan.order:
        variant = NumberVariant(name)
        if variant is NumberVariant.AS_RECEIVED:
            value = received
        elif variant is NumberVariant.E164:
            value = to_e164(received, plan)
        elif variant is NumberVariant.NATIONAL:
            value = to_national(received, plan)
        elif variant is NumberVariant.DIGITS:
            value = digits_only(received)
        elif variant is NumberVariant.LAST_N:
            digits = digits_only(received)
            value = digits[-plan.last_n:] if plan.last_n > 0 and len(digits) > plan.last_n else None
        else:
            value = _by_regex(received, plan)
        if value and value not in seen:
            seen.add(value)
            out.append(NumberCandidate(variant.value, value))
    return out
