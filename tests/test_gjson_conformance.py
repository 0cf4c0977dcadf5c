"""GJSON conformance: the 363 reference cases checked against the Go library.

tests/data/gjson/cases.json comes from tidwall/gjson's test-suite and docs
(MIT License, Copyright (c) 2016 Josh Baker; see tests/data/gjson/LICENSE).
Every case must give Go's String(), Raw, Exists() and Type, both through the
raw-text scanner (``get``) and through a parsed ``Document`` (the tree fast
path with its scanner fallback).
"""

from __future__ import annotations

import json

import pytest

from engine.paths import _scan, gjson
from tests.conftest import DATA
from tests.gjson_modifiers import CUSTOM

CASES = json.loads((DATA / "gjson" / "cases.json").read_text(encoding="utf-8"))


@pytest.fixture
def modifiers():
    """Register the cases' custom modifiers for one test, then restore the table."""
    saved = dict(_scan.MODIFIERS)
    for name, fn in CUSTOM.items():
        gjson.add_modifier(name, fn)
    yield
    _scan.MODIFIERS.clear()
    _scan.MODIFIERS.update(saved)
    gjson.add_modifier("this", saved["this"])  # clears the compiled-path caches


def _answer(res):
    return {"expect": res.string, "raw": res.raw, "exists": res.exists, "type": res.type}


def _expected(case):
    return {k: case[k] for k in ("expect", "raw", "exists", "type")}


def test_corpus_is_complete():
    assert len(CASES) == 363
    assert len({c["id"] for c in CASES}) == 363


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_get(case, modifiers):
    assert _answer(gjson.get(case["json"], case["path"])) == _expected(case)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_document_get(case, modifiers):
    doc = gjson.parse(case["json"])
    assert _answer(doc.get(case["path"])) == _expected(case)
    # asking twice gives the same answer (compiled-path cache)
    assert _answer(doc.get(case["path"])) == _expected(case)


def test_tree_answers_a_good_share_of_the_corpus(modifiers):
    """The fast path must really be used, not silently fall back everywhere."""
    answered = 0
    for case in CASES:
        doc = gjson.parse(case["json"])
        steps = gjson._compile(case["path"])
        if not doc.is_valid_json or steps is None:
            continue
        try:
            gjson._eval(doc._root, steps, 0, doc)
            answered += 1
        except gjson._Fallback:
            pass
    assert answered >= 100


def test_path_problems_flags_no_reference_path(modifiers):
    """The linter must not call any of Go's own test paths a mistake."""
    flagged = [(c["id"], c["path"], gjson.path_problems(c["path"])) for c in CASES if gjson.path_problems(c["path"])]
    assert flagged == []
