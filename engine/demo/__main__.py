"""Run the demo helpdesk on its own: ``python -m engine.demo [--port N] [--latency S] …``.

Prints the base URL on the first line, then the demo credentials, and serves until
interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from engine.demo.helpdesk import DemoHelpdesk, DemoOptions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: pick a free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--token-ttl", type=int, default=3600, help="OAuth2 access-token lifetime, seconds")
    parser.add_argument("--rate-limit", type=int, default=0, help="max API requests per second (0: none)")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of API requests answered 503")
    parser.add_argument("--pkce-required", action="store_true", help="refuse authorization without PKCE")
    args = parser.parse_args(argv)
    options = DemoOptions(port=args.port, latency=args.latency, token_ttl=args.token_ttl,
                          rate_limit=args.rate_limit, fail_rate=args.fail_rate, pkce_required=args.pkce_required)
    helpdesk = DemoHelpdesk(options)
    url = helpdesk.start()
    print(url, flush=True)
    print(f"API {url}/api/v1  token: {options.api_token}  basic: {options.basic_user}/…  "
          f"OAuth2 client: {options.client_id}  authorize: {url}/oauth/authorize  token: {url}/oauth/token",
          flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    helpdesk.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
