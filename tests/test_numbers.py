"""Number variants for contact search."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import LocatedError
from engine.numbers import NumberPlan, number_variants, to_e164, to_national

DE = NumberPlan(country_code="49")


def values(number, plan):
    return [(c.variant, c.value) for c in number_variants(number, plan)]


def test_national_number_gives_every_variant_in_order():
    got = values("030 123-456", DE)
    assert got == [("as_received", "030 123-456"), ("e164", "+4930123456"), ("national", "030123456")]
    # "digits" equals the national form here and is dropped as a duplicate


def test_e164_input():
    assert values("+49 30 123456", DE) == [
        ("as_received", "+49 30 123456"), ("e164", "+4930123456"), ("national", "030123456"),
        ("digits", "4930123456"),
    ]


def test_international_prefix_and_foreign_numbers():
    assert to_e164("0044 20 7946 0000", DE) == "+442079460000"
    assert to_national("0044 20 7946 0000", DE) is None  # not a German number
    assert to_e164("(516) 123-4567", NumberPlan(country_code="1", national_prefix="1")) == "+15161234567"


def test_number_without_plus_that_starts_with_the_country_code():
    assert to_e164("4930123456", DE) == "+4930123456"


def test_extensions_are_left_alone():
    assert values("201", DE) == [("as_received", "201")]
    assert to_e164("201", DE) is None


def test_without_country_code_only_unambiguous_e164():
    plan = NumberPlan()
    assert to_e164("030123456", plan) is None
    assert to_e164("+4930123456", plan) == "+4930123456"


def test_last_n_and_custom_order():
    plan = NumberPlan(order=("last_n", "as_received"), country_code="49", last_n=7)
    assert values("+4930123456", plan) == [("last_n", "0123456"), ("as_received", "+4930123456")]


def test_user_regex_with_and_without_replacement():
    plan = NumberPlan(order=("regex",), regex=r"^\+49(\d+)$")
    assert values("+4930123456", plan) == [("regex", "30123456")]
    plan = NumberPlan(order=("regex",), regex=r"^\+(\d{2})(\d+)$", replacement=r"00\1 \2")
    assert values("+4930123456", plan) == [("regex", "0049 30123456")]
    assert values("12345", plan) == []


def test_bad_configuration_is_a_located_error():
    with pytest.raises(LocatedError, match="numbers.regex"):
        NumberPlan(regex="(")
    with pytest.raises(LocatedError, match="unknown number variant 'e165'"):
        NumberPlan(order=("e165",))
    with pytest.raises(LocatedError, match="country code"):
        NumberPlan(country_code="DE")


@given(st.text(alphabet="+0123456789 -()", max_size=20))
def test_variants_are_distinct_and_nonempty(number):
    found = number_variants(number, NumberPlan(order=("as_received", "e164", "national", "digits", "last_n"),
                                               country_code="49", last_n=6))
    vals = [c.value for c in found]
    assert len(vals) == len(set(vals)) and all(vals)
    for c in found:
        if c.variant == "e164":
            assert c.value.startswith("+") and c.value[1:].isdigit()
