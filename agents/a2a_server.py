"""The assistant over the Agent2Agent protocol (A2A 1.0, JSON-RPC over HTTP, official `a2a-sdk`).

    python -m agents.a2a_server                                   # http://127.0.0.1:8766/
    API_TOKENS=... python -m agents.a2a_server --host 0.0.0.0     # any other bind needs a token

Serves the routing workbench agent at `/` and each specialist at `/agents/<key>/`, each with its card at
`.well-known/agent-card.json`: SendMessage, SendStreamingMessage, GetTask, ListTasks, CancelTask and
SubscribeToTask. Tasks are kept in the workbench database. Tokens and Host checks: `agents.http_guard`.
"""

from __future__ import annotations

import argparse
import logging
import sys

DEFAULT_PORT = 8766


def make_app(host: str, port: int) -> object:
    """The app for a bind, with the settings' tokens, hosts and limits; raises InvalidInput (no token)."""
    from agents.http_guard import ensure_startable
    from core.config import get_settings

    s = get_settings()
    required = ensure_startable(host, "A2A")  # before the SDK and the tools load: a refusal is quick
    from agents.a2a.app import build_app

    extra = [h.strip() for h in s.a2a_allowed_hosts.split(",") if h.strip()]
    return build_app(host=host, port=port, required=required, public_url=s.a2a_public_url, extra_hosts=extra,
                     max_request_kb=s.a2a_max_request_kb)


def main(argv: list[str] | None = None) -> None:
    from core.errors import InvalidInput

    parser = argparse.ArgumentParser(prog="python -m agents.a2a_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="bind address; other than loopback needs API_TOKENS")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        app = make_app(args.host, args.port)
    except InvalidInput as exc:
        parser.exit(2, f"error: {exc}\n")
    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
