"""Yeastar integration templates: model, hardened XML I/O, linter and store."""

from engine.template.findings import Finding, Severity
from engine.template.model import (
    Authentication,
    CustomField,
    General,
    Output,
    Pagination,
    Parameter,
    PopupUrl,
    Request,
    Scenario,
    Template,
    load_template,
    parse_template,
)

__all__ = [
    "Authentication", "CustomField", "Finding", "General", "Output", "Pagination", "Parameter", "PopupUrl",
    "Request", "Scenario", "Severity", "Template", "load_template", "parse_template",
]
