"""engine.paths.split: cuts only at top-level separators."""

from engine.paths.split import split_top_level


def pieces(text, seps, **kw):
    return [p for p, _, _ in split_top_level(text, seps, **kw)]


def test_brackets_strings_and_escapes_protect_separators():
    assert pieces('data.#(name=="A, B").id, x', ",") == ['data.#(name=="A, B").id', " x"]
    assert pieces(r"a\,b,c", ",") == [r"a\,b", "c"]
    assert pieces("{a,b},[c,d],{{ .Phone }}", ",") == ["{a,b}", "[c,d]", "{{ .Phone }}"]


def test_positions_and_quotes_outside_brackets():
    assert split_top_level("a.b|c", ".|") == [("a", 0, 1), ("b", 2, 3), ("c", 4, 5)]
    # a quote at the top level is part of a GJSON key unless asked otherwise
    assert pieces('x".y', ".", top_level_strings=False) == ['x"', "y"]
    assert pieces('x".y', ".") == ['x".y']


def test_unbalanced_closers_do_not_go_negative():
    assert pieces("a),b", ",") == ["a)", "b"]
