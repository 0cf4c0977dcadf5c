"""What the runtime adds to a contact search, measured against a bare httpx GET in the same run.

Both sides send the same request (URL, headers) to the demo helpdesk on loopback over one
keep-alive connection. deskline's side is a full contact search of the demo template:
render URL and headers, authorise, bounded send with retries, redacted trace, GJSON mapping of
15 outputs, popup URL. The reference is ``httpx.AsyncClient.get`` plus ``response.json()``.

    python bench/runtime_bench.py [--n 300]

Prints requests/s of both, the ratio and deskline's overhead per request in milliseconds.
Target: the overhead stays below 2 ms per request (a ring lasts seconds; the network dominates).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from engine.demo.helpdesk import DemoHelpdesk, DemoOptions  # noqa: E402
from engine.http import HttpSettings  # noqa: E402
from engine.integration import Integration, IntegrationSettings  # noqa: E402
from engine.numbers import NumberPlan  # noqa: E402
from engine.template import load_template  # noqa: E402

NUMBER = "+15550100"


async def bare(base: str, n: int) -> float:
    url = f"{base}/api/v1/contacts?phone=%2B15550100&match=suffix&suffix=9"
    headers = {"Authorization": "Token demo-api-token", "Content-Type": "application/json",
               "Accept": "application/json"}
    async with httpx.AsyncClient(trust_env=False, headers=headers) as client:
        await client.get(url)
        start = time.perf_counter()
        for _ in range(n):
            response = await client.get(url)
            assert response.json()["data"][0]["first_name"] == "Alice"
        return time.perf_counter() - start


async def deskline(base: str, n: int) -> float:
    template = load_template(ROOT / "templates" / "demo" / "template.xml")
    settings = IntegrationSettings(http=HttpSettings(trust_env=False), contact_cache_ttl=0,
                                   numbers=NumberPlan(order=("as_received",)))
    async with Integration(template, {"base_url": base, "api_token": "demo-api-token"}, settings) as hd:
        await hd.search_contacts(NUMBER)
        start = time.perf_counter()
        for _ in range(n):
            found = await hd.search_contacts(NUMBER)
            assert found.chosen.fields["FirstName"] == "Alice"
        return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    helpdesk = DemoHelpdesk(DemoOptions())
    base = helpdesk.start()
    try:
        best_bare = best_desk = float("inf")
        for _ in range(args.rounds):  # interleaved, best of each
            best_bare = min(best_bare, await bare(base, args.n))
            best_desk = min(best_desk, await deskline(base, args.n))
    finally:
        helpdesk.stop()
    rate_bare, rate_desk = args.n / best_bare, args.n / best_desk
    overhead_ms = (best_desk - best_bare) / args.n * 1000
    print(f"bare httpx GET + json : {rate_bare:8.0f} req/s  (1.00x)")
    print(f"deskline contact search: {rate_desk:8.0f} req/s  ({rate_desk / rate_bare:.2f}x)")
    print(f"overhead per request   : {overhead_ms:8.3f} ms  (target < 2 ms: {'met' if overhead_ms < 2 else 'NOT met'})")


if __name__ == "__main__":
    asyncio.run(main())
