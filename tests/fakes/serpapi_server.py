"""A local HTTP server that answers like SerpAPI's Google search endpoint (JSON), for the web_search tool."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class FakeSerpApi:
    """`with FakeSerpApi(key="k") as serp:` -> serp.url, serp.requests (query dicts), serp.results (to answer)."""

    def __init__(self, *, key: str = "test-key") -> None:
        self.key = key
        self.requests: list[dict[str, str]] = []
        self.results: list[dict[str, Any]] = [
            {"position": 1, "title": "Workbench release notes", "link": "https://example.org/notes",
             "snippet": "Version 2 adds an assistant with six agents."},
            {"position": 2, "title": "Second hit", "link": "https://example.org/2", "snippet": "More text."},
        ]
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/search"

    def __enter__(self) -> FakeSerpApi:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(fake: FakeSerpApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            fake.requests.append(query)
            if query.get("api_key") != fake.key:
                self._send(401, {"error": "Invalid API key. Your API key should be here: https://serpapi.com/manage-api-key"})
                return
            self._send(200, {"search_metadata": {"status": "Success"},
                             "search_parameters": {"engine": query.get("engine", "google"), "q": query.get("q")},
                             "organic_results": fake.results})

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
