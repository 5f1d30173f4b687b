"""The fake OpenAI server answers the real `openai` client: chat, streaming, tool calls, embeddings, errors."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import openai
import pytest

from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(embedding_dimensions=32) as server:
        yield server


@pytest.fixture
def client(fake: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="test-key", max_retries=0, timeout=10)


def ask(client: openai.OpenAI, text: str, **kwargs: object):
    return client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}],
                                          **kwargs)


def test_chat_echoes_by_default_and_records_the_request(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    # Given nothing scripted / When the client asks / Then the last user message comes back
    reply = ask(client, "hello there")
    assert reply.choices[0].message.content == "hello there"
    assert reply.choices[0].finish_reason == "stop"
    assert fake.requests[-1]["path"] == "/v1/chat/completions"
    assert fake.chat_requests[-1]["messages"][0]["content"] == "hello there"
    assert fake.requests[-1]["authorization"] == "Bearer test-key"


def test_scripted_text_then_responder(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    # Given one scripted answer and a custom responder
    fake.script("first")
    fake.responder = lambda request: f"{len(request['messages'])} messages"
    # When two questions are asked / Then the script answers first, the responder after
    assert ask(client, "a").choices[0].message.content == "first"
    assert ask(client, "b").choices[0].message.content == "1 messages"


def test_tool_calls_non_streaming(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    # Given a scripted tool call with dict arguments and one with a raw string
    fake.script({"tool_calls": [{"name": "list_datasets", "arguments": {"limit": 3}},
                                {"name": "broken", "arguments": "{not json"}]})
    # When asked
    message = ask(client, "list").choices[0]
    # Then both calls arrive as the SDK's typed objects
    assert message.finish_reason == "tool_calls"
    calls = message.message.tool_calls
    assert [c.function.name for c in calls] == ["list_datasets", "broken"]
    assert json.loads(calls[0].function.arguments) == {"limit": 3}
    assert calls[1].function.arguments == "{not json"
    assert message.message.content is None


def test_streaming_text_arrives_in_pieces(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    # Given a scripted answer / When streamed with usage
    fake.script("The answer is forty two.")
    chunks = list(ask(client, "q", stream=True, stream_options={"include_usage": True}))
    # Then the pieces join to the text and the last chunk carries usage
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "The answer is forty two."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_streaming_tool_call_deltas_reassemble(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    # Given a scripted tool call / When streamed
    fake.script({"tool_calls": [{"name": "profile", "arguments": {"dataset": "sales", "columns": ["a", "b"]}}]})
    name, arguments, finish = "", "", None
    for chunk in ask(client, "profile it", stream=True):
        choice = chunk.choices[0]
        for delta in choice.delta.tool_calls or []:
            name += delta.function.name or ""
            arguments += delta.function.arguments or ""
        finish = choice.finish_reason or finish
    # Then the fragments rebuild the call
    assert name == "profile"
    assert json.loads(arguments) == {"dataset": "sales", "columns": ["a", "b"]}
    assert finish == "tool_calls"


def test_embeddings_are_deterministic_normalised_and_sized(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    # When two texts are embedded twice (base64, the SDK default) and once as floats with `dimensions`
    first = client.embeddings.create(model="text-embedding-3-large", input=["red apple", "blue sky"])
    again = client.embeddings.create(model="text-embedding-3-large", input="red apple")
    small = client.embeddings.create(model="text-embedding-3-large", input="red apple", dimensions=8,
                                     encoding_format="float")
    # Then vectors are unit length, repeatable, and sized as asked
    a, b = first.data[0].embedding, first.data[1].embedding
    assert len(a) == 32 and len(small.data[0].embedding) == 8
    assert math.isclose(sum(v * v for v in a), 1.0, rel_tol=1e-5)
    assert again.data[0].embedding == pytest.approx(a, abs=1e-6)
    assert a != pytest.approx(b)
    assert fake.embedding_requests[0]["encoding_format"] == "base64"


def test_models_list(client: openai.OpenAI) -> None:
    assert "gpt-4o-mini" in [m.id for m in client.models.list()]


def test_errors_delays_and_malformed_bodies(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    # Given a scripted 500, a failure on the next request, and a malformed body
    fake.script({"status": 500, "message": "boom"})
    with pytest.raises(openai.InternalServerError, match="boom"):
        ask(client, "x")
    fake.fail_next(429)
    with pytest.raises(openai.RateLimitError):
        client.embeddings.create(model="m", input="x")
    fake.script({"delay": 2, "content": "late"})
    with pytest.raises(openai.APITimeoutError):
        ask(client, "x", timeout=0.3)
    fake.script({"delay": 0.05, "content": "on time"})
    assert ask(client, "x").choices[0].message.content == "on time"
    fake.script({"raw": "this is not json"})
    with pytest.raises(ValueError):  # the SDK lets the JSON decoder's error through
        ask(client, "x")
