"""Go text/template conformance: 947 cases produced by Go 1.27.3 (tests/data/gotemplate, BSD notice there).

Plain-Go mode (dialect "go", data typed as Go's encoding/json decodes it, missing keys print
``<no value>``, no single-quoted strings) must match every case.  PBX-dialect mode changes a known,
listed set of cases on purpose; each one is listed below with the reason.
"""

from __future__ import annotations

import pytest

from tests.gotemplate_corpus import load_cases, outcome_matches, run_case

CASES = load_cases()
BY_ID = {c["id"]: c for c in CASES}


def test_corpus_is_complete():
    assert len(CASES) == 947
    assert len(BY_ID) == 947


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_plain_go_mode(case):
    result = run_case(case, dialect="go")
    want = case.get("expect", f"{case.get('error_kind')} error: {case.get('go_error')}")
    assert outcome_matches(case, result), f"template {case['template']!r}: want {want!r}, got {result!r}"


# --- PBX dialect: the cases whose result changes on purpose, and why ---------------------------

# 1. Single quotes delimit a string (the seed's journal body relies on it: TimeFormat .x 'yyyy-MM-dd'),
#    so Go's rune literals ('a' = 97) and the parse errors for 'abc' / '' no longer apply.
SINGLE_QUOTED_STRINGS = {
    "lex_test.go:157", "own:rune-a", "own:rune-printf-c", "own:rune-multi-char",
    "own:rune-single-quoted-string-arg", "own:rune-empty", "own:rune-type", "own:rune-eq-int",
    "exec_test.go:745#int", "own:rune-unicode-escape", "own:rune-vs-string-eq", "exec_test.go:1302",
    "exec_test.go:1303", "own:printf-q-rune",
}

# 2. A missing or nil value prints as an empty string, not Go's "<no value>" (spec A.4; the linter
#    warns about unknown names instead).  For these the PBX output is Go's with "<no value>" removed.
MISSING_PRINTS_EMPTY = {
    "exec_test.go:312", "exec_test.go:359", "exec_test.go:362", "exec_test.go:370", "exec_test.go:371",
    "own:field-deep-missing-middle", "own:field-case-sensitive", "own:field-dot-null-data",
    "own:field-null-value", "exec_test.go:1374", "exec_test.go:1390", "exec_test.go:1402",
    "own:missing-top", "own:missing-nested", "own:missing-chain-from-top", "own:missing-in-text",
    "own:missing-index-key", "own:missing-and", "own:missing-into-variable", "own:missingkey-zero-print",
    "own:missingkey-zero-nested", "own:missingkey-error-index-unaffected",
    "own:missingkey-error-present-null", "own:missingkey-invalid-synonym", "own:null-in-array-range",
    "own:null-array-element-index", "own:var-missing-field", "own:var-dollar-missing-field",
    "exec_test.go:516", "exec_test.go:517", "own:and-nil-literal", "exec_test.go:530", "exec_test.go:532",
    "own:define-invoked-without-data",
}

# 3. The PBX functions exist in the dialect, so calling them is no longer "function not defined".
PBX_FUNCTIONS_DEFINED = {"own:unknown-dialect-function", "own:helper-not-registered"}

CHANGED = SINGLE_QUOTED_STRINGS | MISSING_PRINTS_EMPTY | PBX_FUNCTIONS_DEFINED


def test_listed_ids_exist():
    assert CHANGED <= BY_ID.keys()
    assert not (SINGLE_QUOTED_STRINGS & MISSING_PRINTS_EMPTY)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_pbx_dialect_mode(case):
    """Every case not listed above gives Go's result in the PBX dialect too; the listed ones differ as stated."""
    result = run_case(case, dialect="pbx")
    cid = case["id"]
    if cid not in CHANGED:
        assert outcome_matches(case, result), f"{case['template']!r}: {result!r}"
        return
    assert not outcome_matches(case, result), f"{cid} is listed as changed but gives Go's result"
    if cid in MISSING_PRINTS_EMPTY:
        assert result == ("ok", case["expect"].replace("<no value>", ""))
    elif cid in PBX_FUNCTIONS_DEFINED:
        assert result[0] == "ok"
    else:  # single quotes: never Go's rune reading; a quoted 'x' is the string x
        assert result[0] in ("ok", "exec")


def test_single_quote_is_a_string_in_pbx_and_a_rune_in_go():
    case = dict(BY_ID["own:rune-a"])
    assert run_case(case, dialect="go") == ("ok", "97")
    assert run_case(case, dialect="pbx") == ("ok", "a")
