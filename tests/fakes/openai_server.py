"""A local HTTP server that speaks the part of the OpenAI REST API the workbench uses.

The real `openai` SDK talks to it, so tests exercise the real client end to end:

    with FakeOpenAI() as fake:
        fake.script("Hello!", {"tool_calls": [{"name": "list_datasets", "arguments": {}}]})
        client = openai.OpenAI(base_url=fake.base_url, api_key="test", max_retries=0)
        client.chat.completions.create(model="m", messages=[...])

Endpoints
    POST /v1/chat/completions  JSON, or SSE chunks ending with `data: [DONE]` when `stream` is true
                               (text and tool-call deltas; usage when stream_options.include_usage)
    POST /v1/embeddings        deterministic hashed bag-of-words vectors, L2-normalised; `dimensions`
                               respected; float lists or base64 (the SDK's default) as asked
    GET  /v1/models            a short model list

Scripted chat responses (`script(...)`, served first in, first out), or the `responder`'s
answer when the queue is empty (default: echo the last user message):
    "text"                                      an assistant message
    {"content": "text"}                         the same
    {"tool_calls": [{"name": n, "arguments": {...} or "raw json", "id": optional}],
     "content": optional text}                  a tool-call message (finish_reason "tool_calls")
    {"status": 500, "message": optional}        an OpenAI-style error body with that HTTP status
    {"delay": seconds, ...rest}                 sleep, then answer with the rest (text when no rest)
    {"raw": "not json"}                         a 200 response whose body is the raw string
    {"finish_reason": "length", ...}            overrides the finish reason
    {"chunk_delay": seconds, ...}               streamed: sleep that long before each text chunk (so a test
                                                can watch an answer arrive piece by piece)

Note: the SDK retries 408/409/429/5xx by itself (max_retries=2 by default); pass
`max_retries=0` to the client when a test wants to see the first error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Response = str | dict[str, Any]
Responder = Callable[[dict[str, Any]], Response]

_WORD = re.compile(r"\w+", re.UNICODE)


def echo_last_user(request: dict[str, Any]) -> Response:
    """The default responder: repeat the last user message's text."""
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _text_of(content: Any) -> str:
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def hashed_embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic bag-of-words vector: each lower-cased word hashed to a signed slot, L2-normalised."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimensions
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:
        vector[0], norm = 1.0, 1.0  # empty text: a fixed unit vector, never NaN
    return [v / norm for v in vector]


class FakeOpenAI:
    """A threaded fake of the OpenAI API on 127.0.0.1 and a free port."""

    def __init__(self, *, embedding_dimensions: int = 256, models: tuple[str, ...] = ("gpt-4o-mini",
                 "text-embedding-3-large")) -> None:
        self.embedding_dimensions = embedding_dimensions
        self.models = models
        self.responder: Responder = echo_last_user
        self.requests: list[dict[str, Any]] = []
        self._queue: deque[Response] = deque()
        self._failures: deque[int] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        if self._server is not None:
            return self
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What to pass as `base_url` (or OPENAI_BASE_URL): http://127.0.0.1:PORT/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- test controls ------------------------------------------------------------------------
    def script(self, *responses: Response) -> FakeOpenAI:
        """Queue chat responses, served in order before the responder is asked."""
        with self._lock:
            self._queue.extend(responses)
        return self

    def fail_next(self, status: int = 500, times: int = 1) -> FakeOpenAI:
        """Answer the next `times` POST requests (chat or embeddings) with HTTP `status`."""
        with self._lock:
            self._failures.extend([status] * times)
        return self

    def reset(self) -> None:
        """Forget scripted responses, pending failures and recorded requests."""
        with self._lock:
            self._queue.clear()
            self._failures.clear()
            self.requests.clear()

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The JSON bodies of the chat-completion requests received so far."""
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    @property
    def embedding_requests(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["path"].endswith("/embeddings")]

    # -- internals used by the handler --------------------------------------------------------
    def _record(self, method: str, path: str, body: Any, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append({"method": method, "path": path, "body": body,
                                  "authorization": headers.get("authorization", "")})

    def _next_failure(self) -> int | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _next_response(self, request: dict[str, Any]) -> Response:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.responder(request)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    # -- plumbing -----------------------------------------------------------------------------
    def _path(self) -> str:
        path = self.path.split("?", 1)[0].rstrip("/")
        return path if path.startswith("/v1") else "/v1" + path

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:12]}")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode())

    def _error(self, status: int, message: str = "", kind: str = "server_error") -> None:
        message = message or f"fake OpenAI error {status}"
        self._json(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    # -- routes -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        path = self._path()
        self.fake._record("GET", path, None, self._headers())
        if path == "/v1/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.fake.models]
            self._json(200, {"object": "list", "data": data})
        else:
            self._error(404, f"no route GET {path}", "invalid_request_error")

    def do_POST(self) -> None:
        path = self._path()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self.fake._record("POST", path, None, self._headers())
            self._error(400, "request body is not JSON", "invalid_request_error")
            return
        self.fake._record("POST", path, body, self._headers())
        failure = self.fake._next_failure()
        if failure is not None:
            self._error(failure)
        elif path == "/v1/chat/completions":
            self._chat(body)
        elif path == "/v1/embeddings":
            self._embeddings(body)
        else:
            self._error(404, f"no route POST {path}", "invalid_request_error")

    def _embeddings(self, body: dict[str, Any]) -> None:
        inputs = body.get("input")
        if isinstance(inputs, str) or (isinstance(inputs, list) and inputs and isinstance(inputs[0], int)):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            self._error(400, "'input' must be a string or a non-empty list", "invalid_request_error")
            return
        dims = int(body.get("dimensions") or self.fake.embedding_dimensions)
        data = []
        for index, item in enumerate(inputs):
            text = item if isinstance(item, str) else " ".join(f"t{token}" for token in item)
            vector = hashed_embedding(text, dims)
            if body.get("encoding_format") == "base64":
                encoded: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
            else:
                encoded = vector
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(len(_WORD.findall(i)) if isinstance(i, str) else len(i) for i in inputs)
        self._json(200, {"object": "list", "data": data, "model": body.get("model", ""),
                         "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _chat(self, body: dict[str, Any]) -> None:
        response = self.fake._next_response(body)
        if isinstance(response, dict) and "delay" in response:
            time.sleep(float(response["delay"]))
            response = {k: v for k, v in response.items() if k != "delay"} or ""
        if isinstance(response, dict) and "status" in response:
            self._error(int(response["status"]), str(response.get("message", "")))
            return
        if isinstance(response, dict) and "raw" in response:
            self._send(200, str(response["raw"]).encode())
            return
        delay = float(response.pop("chunk_delay", 0)) if isinstance(response, dict) else 0.0
        message = _Message.of(response)
        if body.get("stream"):
            self._stream(body, message, delay)
        else:
            self._json(200, message.completion(body))

    def _stream(self, body: dict[str, Any], message: _Message, delay: float = 0.0) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        try:
            for chunk in message.chunks(body, include_usage=include_usage):
                if delay and any(c.get("delta", {}).get("content") for c in chunk.get("choices", [])):
                    time.sleep(delay)
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


class _Message:
    """One assistant answer, rendered as a completion or as stream chunks."""

    def __init__(self, content: str | None, tool_calls: list[dict[str, Any]], finish_reason: str) -> None:
        self.content, self.tool_calls, self.finish_reason = content, tool_calls, finish_reason

    @classmethod
    def of(cls, response: Response) -> _Message:
        if isinstance(response, str):
            return cls(response, [], "stop")
        calls = [
            {"id": call.get("id") or f"call_{uuid.uuid4().hex[:12]}", "type": "function",
             "function": {"name": call["name"], "arguments": call["arguments"] if isinstance(
                 call.get("arguments"), str) else json.dumps(call.get("arguments") or {})}}
            for call in response.get("tool_calls") or []
        ]
        content = response.get("content", response.get("text"))
        content = None if content is None and calls else _text_of(content)
        default_reason = "tool_calls" if calls else "stop"
        return cls(content, calls, str(response.get("finish_reason", default_reason)))

    def _usage(self, body: dict[str, Any]) -> dict[str, int]:
        prompt = sum(len(_WORD.findall(_text_of(m.get("content")))) for m in body.get("messages") or [])
        completion = len(_WORD.findall(self.content or "")) + sum(
            len(c["function"]["arguments"]) // 4 for c in self.tool_calls)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    @staticmethod
    def _envelope(body: dict[str, Any], obj: str) -> dict[str, Any]:
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:16]}", "object": obj, "created": int(time.time()),
                "model": body.get("model", "fake"), "system_fingerprint": "fake"}

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content, "refusal": None}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        choice = {"index": 0, "message": message, "finish_reason": self.finish_reason, "logprobs": None}
        return self._envelope(body, "chat.completion") | {"choices": [choice], "usage": self._usage(body)}

    def chunks(self, body: dict[str, Any], *, include_usage: bool) -> Iterator[dict[str, Any]]:
        base = self._envelope(body, "chat.completion.chunk")

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

        yield chunk({"role": "assistant", "content": "" if self.content is not None else None})
        for piece in re.findall(r"\S+\s*|\s+", self.content or ""):
            yield chunk({"content": piece})
        for index, call in enumerate(self.tool_calls):
            yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                         "function": {"name": call["function"]["name"], "arguments": ""}}]})
            arguments = call["function"]["arguments"]
            for start in range(0, len(arguments), 8):
                yield chunk({"tool_calls": [{"index": index,
                                             "function": {"arguments": arguments[start:start + 8]}}]})
        yield chunk({}, self.finish_reason)
        if include_usage:
            yield base | {"choices": [], "usage": self._usage(body)}
