"""The contact popup URL: rendered from the URL format, or taken from a contact field."""

from __future__ import annotations

from collections.abc import Mapping

from engine.template import Scenario

# The output name under which the contact search maps ContactFieldForUri.
POPUP_FIELD = "PopupUrl"


def popup_field_path(scenario: Scenario) -> str:
    """The GJSON path of the popup URL when it comes from a contact field, else ""."""
    popup = scenario.popup
    return popup.field_path.strip() if popup.kind == "contact_field" else ""


def popup_url(scenario: Scenario, fields: Mapping[str, str], scope: Mapping[str, object], render) -> str:
    """The popup URL of one matched contact.

    ``contact_field``: the value mapped from ``ContactFieldForUri``;
    ``specify_url_format`` (or a URL format without a type): the format
    rendered with the contact's fields, ``ContactSyncType``, ``CallerNumber``,
    ``CallerDisplayName`` and the custom fields in scope.
    """
    popup = scenario.popup
    if popup.kind == "contact_field":
        return fields.get(POPUP_FIELD, "")
    if popup.url_format and popup.kind in ("specify_url_format", ""):
        loc = scenario.location
        return render(popup.url_format, {**scope, **fields}, context="url",
                      name=f"{loc.file}:{loc.line} {scenario.id}/URLFormat").strip()
    return ""
