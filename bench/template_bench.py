"""Template loading and linting speed, against a plain lxml parse of the same bytes (the reference).

Run: python bench/template_bench.py
Prints, per document, the best time of several rounds for: lxml ``fromstring`` (reference), deskline's
hardened parse + source scan + model (``parse_template``), the linter (``lint_template``), and one
edit (``with_attribute``, which re-parses), each with its ratio to the lxml parse.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from engine.template import parse_template  # noqa: E402
from engine.template.lint import lint_template  # noqa: E402


def best(fn, rounds: int = 7, min_time: float = 0.2) -> float:
    """Best per-call seconds over *rounds* rounds of at least *min_time* each."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 >= min_time / 4:
            break
        n *= 2
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - t0) / n)
    return min(out)


def big_document() -> bytes:
    """A ~0.9 MB template: the test fixture with its contact request repeated 1200 times."""
    src = (ROOT / "tests/data/templates/full-oauth2.xml").read_text()
    a = src.index('        <Request Name="Contacts" Method="GET"')
    b = src.index("</Request>", a) + len("</Request>\n")
    req = src[a:b]
    return (src[:b] + "".join(req.replace('Name="Contacts"', f'Name="C{i}"') for i in range(1200)) + src[b:]).encode()


def main() -> None:
    docs = {
        "rt5-basic (shipped, %d B)": (ROOT / "templates/rt5-basic/template.xml").read_bytes(),
        "full-oauth2 fixture (%d B)": (ROOT / "tests/data/templates/full-oauth2.xml").read_bytes(),
        "synthetic large (%d B)": big_document(),
    }
    for label, data in docs.items():
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        ref = best(lambda: etree.fromstring(data, parser))
        template = parse_template(data, "bench.xml")
        rows = [
            ("lxml fromstring (reference)", ref),
            ("parse_template (hardened + spans + model)", best(lambda: parse_template(data, "bench.xml"))),
            ("lint_template", best(lambda: lint_template(template), rounds=5)),
            ("with_attribute (edit + re-parse)", best(lambda: template.with_attribute(0, "Version", "9"), rounds=5)),
        ]
        print(label % len(data))
        for name, secs in rows:
            print(f"  {name:44} {secs * 1000:9.3f} ms  {secs / ref:7.1f}x lxml")


if __name__ == "__main__":
    main()
