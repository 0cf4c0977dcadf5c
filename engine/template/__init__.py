"""Yeastar integration templates: model, hardened XML I/O, linter and store.

Entry points:

* :func:`load_template` / :func:`parse_template` -> :class:`Template` (typed view over the exact source;
  ``to_bytes()`` gives the original bytes back, ``with_*`` edits return a new Template changing only
  what they touch);
* :func:`engine.template.lint.lint_file` / :func:`~engine.template.lint.lint_template` -> ``list[Finding]``;
* :class:`engine.template.store.TemplateStore` (import/export/duplicate/delete/list, at most 10);
* :func:`engine.template.summary.summarize` (the text of ``deskline template show``).
"""

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
