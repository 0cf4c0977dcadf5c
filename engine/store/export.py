"""History export (CSV or JSON) that never contains a secret.

Three layers keep secrets out: values of keys that name a secret
(``password``, ``token``, ``client_secret``, ``Authorization`` ...) are
masked wherever they appear in a payload; query parameters with such names
are masked in URLs; and every value the caller lists as a secret (the
helpdesk password, the client secret, the current tokens) is masked wherever
it occurs in any text, error messages included.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "••••"
SECRET_KEY = re.compile(
    r"pass(word|wd)?|secret|token|authori[sz]ation|api[-_]?key|apikey|cookie|credential|private[-_]?key|signature",
    re.IGNORECASE,
)
# Secrets shorter than this are not searched for in free text: masking every
# "1" or "ab" would destroy the export without protecting anything.
MIN_SECRET_LENGTH = 4


class Redactor:
    """Masks secret values in text, URLs and nested payloads."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        found = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret containing another one is masked whole.
        self._secrets = sorted(found, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in self._secrets)) if self._secrets else None

    def text(self, value: str) -> str:
        if not value:
            return value
        if self._pattern is not None:
            value = self._pattern.sub(MASK, value)
        if "://" in value and "?" in value:
            value = self.url(value)
        return value

    def url(self, value: str) -> str:
        """Mask the values of secret-named query parameters (``?api_key=...``)."""
        try:
            parts = urlsplit(value)
        except ValueError:
            return value
        if not parts.query:
            return value
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if not any(SECRET_KEY.search(k) for k, _ in pairs):
            return value
        query = urlencode([(k, MASK if SECRET_KEY.search(k) else v) for k, v in pairs], safe=MASK)
        netloc = parts.netloc
        if "@" in netloc:  # user:password@host
            netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

    def value(self, value: object) -> object:
        """Mask a JSON-like value recursively (keys naming a secret lose their value)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: (MASK if isinstance(k, str) and SECRET_KEY.search(k) and v not in ("", None) else self.value(v))
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value


CSV_COLUMNS = (
    "call_id", "started_at", "direction", "caller_number", "callee_number", "caller_name", "extension",
    "status", "ring_seconds", "talk_seconds", "answered_at", "ended_at",
    "contact_id", "contact_name", "contact_type", "popup_url", "work",
)


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    # A cell starting with = + - @ is a formula in spreadsheets: keep it text.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        text = "'" + text
    return text


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+(\.\d+)?", text))


def calls_csv(rows: Iterable[Mapping[str, object]], redactor: Redactor) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(redactor.value(row.get(col))) for col in CSV_COLUMNS])
    return out.getvalue()


def history_json(calls: list[dict[str, object]], redactor: Redactor) -> str:
    return json.dumps({"format": "deskline-history", "version": 1, "calls": redactor.value(calls)},
                      ensure_ascii=False, indent=2) + "\n"
