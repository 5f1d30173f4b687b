"""The LLM path end to end: the real `openai` client against a local server speaking the chat-completions API.

Scripted model turns (tool calls, text, errors, delays) drive the orchestrator; the requests the
client sent are inspected to check what the model was shown.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import agents
from core import datasets
from core.config import reload_settings
from tests.fakes.llm_scripts import raw_tool, system_prompt, tool, tool_messages, use_fake
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        use_fake(server, monkeypatch)
        yield server


@pytest.fixture
def sales(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("region,units,price\nnorth,10,2.5\nsouth,7,3.0\neast,,4.25\nwest,3,1.0\nnorth,8,2.0\n")
    return datasets.ingest_file(path, name="sales")


def test_a_scripted_tool_call_draws_a_chart_and_the_text_streams(fake: FakeOpenAI, sales) -> None:
    # Given a model that calls the chart tool, then answers
    fake.script(tool("create_visualization", dataset="sales", kind="scatter", x="units", y="price"),
                "Units and price move in opposite directions.")
    chunks: list[str] = []
    # When the analyst asks the (pinned) Visualization Expert
    reply = agents.ask("plot units vs price", dataset_id=str(sales.id), agent="visualization_expert",
                       on_text=chunks.append)
    # Then the chart came from the tool, the text arrived in several chunks, and the model saw the schema
    assert reply.mode == "llm" and reply.agent == "visualization_expert"
    assert reply.figures and reply.text == "Units and price move in opposite directions."
    assert len(chunks) > 1 and "".join(chunks) == reply.text
    first = fake.chat_requests[0]
    assert first["stream"] is True
    names = {t["function"]["name"] for t in first["tools"]}
    assert {"create_visualization", "get_dataset_info", "handoff"} <= names and "sql_query" not in names
    prompt = system_prompt(first)
    assert "Visualization Expert" in prompt and "sales (5 rows)" in prompt and "units: numeric, 1 missing" in prompt
    assert "north" not in prompt  # schemas and profiles, not raw rows
    assert "Made a scatter chart" in tool_messages(fake.chat_requests[1])[0]


def test_the_llm_routes_the_message_to_a_specialist(fake: FakeOpenAI, sales) -> None:
    fake.script("sql_expert", tool("sql_query", sql='SELECT region, AVG(price) AS p FROM sales GROUP BY 1'),
                "North averages 2.25.")
    reply = agents.ask("what is the average price per region?", dataset_id=str(sales.id))
    router_request = fake.chat_requests[0]
    assert "tools" not in router_request and not router_request.get("stream")
    assert reply.agent == "sql_expert"
    assert reply.tool_runs[0].result.sql.startswith("SELECT region") and len(reply.tables[0]) == 4


def test_tool_errors_and_malformed_calls_go_back_to_the_model_as_text(fake: FakeOpenAI, sales) -> None:
    # Given a model that sends a wrongly typed argument, broken JSON, an unknown tool and an unknown column
    fake.script(tool("eda_analysis", dataset="sales", analysis="everything"),
                raw_tool("eda_analysis", '{"dataset": "sales", '),
                tool("rm_rf", path="/"),
                tool("eda_analysis", dataset="sales", analysis="statistics", columns=["pricing"]),
                "I could not run those.")
    reply = agents.ask("analyse", dataset_id=str(sales.id), agent="data_analyst")
    # Then every error reached the model as a tool message, and the answer still came back
    results = tool_messages(fake.chat_requests[-1])
    assert "Invalid arguments for eda_analysis: analysis" in results[0]
    assert "not valid JSON" in results[1]
    assert "no tool named 'rm_rf'" in results[2]
    assert "Did you mean 'price'" in results[3]
    assert reply.text == "I could not run those." and all(not r.ok for r in reply.tool_runs)


def test_failed_sql_gets_one_repair_round(fake: FakeOpenAI, sales) -> None:
    fake.script(tool("sql_query", sql="SELECT nope FROM sales"),
                tool("sql_query", sql="SELECT region, units FROM sales ORDER BY units DESC NULLS LAST"),
                "North sold the most.")
    reply = agents.ask("who sold the most units?", dataset_id=str(sales.id), agent="sql_expert")
    first, second = reply.tool_runs
    assert not first.ok and first.result.sql is None
    assert "try once more" in tool_messages(fake.chat_requests[1])[0]
    assert second.ok and second.result.sql.startswith("SELECT region, units")
    assert reply.text == "North sold the most."


def test_sql_failing_twice_is_not_offered_again(fake: FakeOpenAI, sales) -> None:
    fake.script(tool("sql_query", sql="SELECT a FROM nowhere"), tool("sql_query", sql="DELETE FROM sales"),
                "Both queries failed: the table does not exist and DELETE is refused.")
    reply = agents.ask("count things", dataset_id=str(sales.id), agent="sql_expert")
    assert [r.ok for r in reply.tool_runs] == [False, False]
    last_tools = {t["function"]["name"] for t in fake.chat_requests[-1]["tools"]}
    assert "sql_query" not in last_tools
    assert "Do not retry" in tool_messages(fake.chat_requests[-1])[-1]
    assert datasets.get_dataset("sales").rows == 5


def test_tool_rounds_are_capped(fake: FakeOpenAI, sales, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_MAX_TOOL_ROUNDS", "2")
    reload_settings()
    fake.script(*[tool("get_dataset_info", dataset="sales")] * 3)
    reply = agents.ask("loop forever", dataset_id=str(sales.id), agent="data_analyst")
    assert len(fake.chat_requests) == 2
    assert "I stopped after 2 tool rounds" in reply.text


def test_a_handoff_switches_the_specialist_and_its_tools(fake: FakeOpenAI, sales) -> None:
    fake.script(tool("handoff", agent="sql_expert", reason="needs SQL"),
                tool("sql_query", sql="SELECT count(*) AS n FROM sales"), "There are 5 rows.")
    reply = agents.ask("how many rows, exactly, via SQL?", dataset_id=str(sales.id), agent="data_analyst")
    assert reply.agent == "sql_expert" and reply.handoffs == ["data_analyst->sql_expert"]
    assert "SQL Expert" in system_prompt(fake.chat_requests[1])
    assert reply.tool_runs[0].result.table["n"].tolist() == [5]


@pytest.mark.parametrize(("script", "expected"), [
    ([{"status": 500}, {"status": 500}], "returned an error (HTTP 500)"),
    ([{"raw": "malformed"}, {"raw": "malformed"}], "answer"),
    ([{"delay": 2.5, "content": "late"}, {"delay": 2.5, "content": "late"}], "did not answer within 1 s"),
])
def test_a_failing_endpoint_falls_back_to_the_offline_planner(fake: FakeOpenAI, sales, monkeypatch, script,
                                                              expected: str) -> None:
    # Given an endpoint that errors, sends garbage or is too slow
    monkeypatch.setenv("LLM_TIMEOUT_S", "1")
    reload_settings()
    fake.script(*script)
    # When the analyst asks for a chart
    reply = agents.ask("histogram of price", dataset_id=str(sales.id), agent="visualization_expert")
    # Then the answer says what went wrong and the offline planner still draws the chart
    assert expected in reply.text and "offline planner" in reply.text
    assert reply.mode == "offline" and reply.figures


def test_an_unreachable_endpoint_falls_back_to_the_offline_planner(sales, monkeypatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    reload_settings()
    reply = agents.ask("show missing values", dataset_id=str(sales.id))
    assert "could not be reached" in reply.text and "units 1" in reply.text


def test_the_conversation_is_remembered_within_the_token_budget(fake: FakeOpenAI, sales, monkeypatch) -> None:
    fake.script("First answer.", "Second answer.")
    first = agents.ask("remember the number 42", dataset_id=str(sales.id), agent="data_analyst")
    agents.ask("what number did I say?", conversation_id=first.conversation_id, agent="data_analyst")
    contents = [m["content"] for m in fake.chat_requests[1]["messages"]]
    assert "remember the number 42" in contents and "First answer." in contents
    monkeypatch.setenv("LLM_CONTEXT_TOKENS", "10")
    reload_settings()
    fake.script("Third answer.")
    agents.ask("and now?", conversation_id=first.conversation_id, agent="data_analyst")
    contents = [m["content"] for m in fake.chat_requests[2]["messages"]]
    assert "remember the number 42" not in contents and "and now?" in contents


def test_a_request_to_delete_data_never_reaches_the_model(fake: FakeOpenAI, sales) -> None:
    reply = agents.ask("delete the sales dataset and drop all tables", dataset_id=str(sales.id))
    assert fake.chat_requests == [] and reply.tool_runs == []
    assert "no tool that deletes" in reply.text and datasets.get_dataset("sales").rows == 5
