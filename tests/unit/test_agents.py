"""The assistant offline: tools, the registry, `agents.ask`, specialists, hand-offs, refusals, storage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import agents
from agents import memory, tools
from agents.specialists import SPECIALISTS, save_settings, settings_for
from core import datasets
from core.config import reload_settings
from core.errors import InvalidInput, NotFound
from tests.fakes.serpapi_server import FakeSerpApi

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sales(tmp_path: Path):
    """A dataset with two numeric and two categorical columns, one missing value and one duplicate row."""
    rows = ["region,units,unit_price,segment"]
    data = [("north", 10, 2.5, "a"), ("south", 7, 3.0, "b"), ("east", "", 4.25, "a"), ("west", 3, 1.0, "b"),
            ("north", 12, 2.75, "a"), ("south", 6, 3.5, "b"), ("east", 9, 4.0, "a"), ("west", 4, 1.5, "b"),
            ("north", 11, 2.6, "a"), ("north", 11, 2.6, "a"), ("south", 8, 3.2, "b"), ("east", 40, 9.0, "a")]
    rows += [",".join(map(str, r)) for r in data]
    path = tmp_path / "sales.csv"
    path.write_text("\n".join(rows) + "\n")
    return datasets.ingest_file(path, name="sales")


# --- registry and tools -----------------------------------------------------------------------------


def test_every_tool_publishes_a_json_schema_and_web_search_needs_its_key() -> None:
    # Given no SerpAPI key; When the registry is read
    available = tools.available()
    # Then each tool has an OpenAI function spec with an object schema, and web_search is not offered
    for tool in available.values():
        spec = tool.spec()
        assert spec["function"]["name"] == tool.name
        assert spec["function"]["parameters"]["type"] == "object"
    assert {"get_dataset_info", "eda_analysis", "get_job_status", "list_datasets"} <= set(available)
    assert "web_search" not in available


def test_each_specialist_uses_only_registered_tools() -> None:
    assert len(SPECIALISTS) == 6
    for spec in SPECIALISTS.values():
        assert set(spec.tools) <= set(tools.TOOLS), spec.key
        assert spec.name in spec.system_prompt()


@pytest.mark.parametrize("analysis", tools.ANALYSES)
def test_every_eda_analysis_runs_on_a_real_dataset(sales, analysis: str) -> None:
    # When each analysis runs through the registry
    result = tools.run_tool("eda_analysis", {"dataset": "sales", "analysis": analysis})
    # Then it succeeds with text and, where it makes sense, a table
    assert result.ok, result.text
    assert result.text
    if analysis not in ("duplicates",):
        assert result.table is not None and len(result.table) > 0


def test_eda_finds_the_missing_value_the_duplicate_and_the_outlier(sales) -> None:
    missing = tools.run_tool("eda_analysis", {"dataset": "sales", "analysis": "missing"})
    dupes = tools.run_tool("eda_analysis", {"dataset": str(sales.id), "analysis": "duplicates"})
    outliers = tools.run_tool("eda_analysis", {"dataset": "sales", "analysis": "outliers", "columns": ["units"]})
    assert "units 1" in missing.text
    assert "1 duplicate row" in dupes.text
    assert outliers.table.set_index("column").loc["units", "outliers"] == 1


def test_a_near_miss_dataset_name_and_loose_column_names_are_resolved(sales) -> None:
    # Given a misspelt dataset name and a column typed with other case and spaces
    result = tools.run_tool("eda_analysis", {"dataset": "Sale", "analysis": "statistics",
                                             "columns": ["Unit Price"]})
    # Then the real dataset and column are used
    assert result.ok, result.text
    assert "unit_price" in result.text


def test_unknown_dataset_and_column_answer_did_you_mean(sales) -> None:
    no_ds = tools.run_tool("get_dataset_info", {"dataset": "weather"})
    no_col = tools.run_tool("eda_analysis", {"dataset": "sales", "analysis": "statistics", "columns": ["pricing"]})
    assert not no_ds.ok and "No dataset 'weather'" in no_ds.text and "sales" in no_ds.text
    assert not no_col.ok and "Did you mean 'unit_price'" in no_col.text


def test_column_resolution_raises_typed_errors(sales) -> None:
    from agents import resolve

    with pytest.raises(InvalidInput):
        resolve.column(sales, "zzzz")
    with pytest.raises(NotFound):
        resolve.dataset("zzzz")


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"dataset": "sales", "analysis": "everything"}, "Invalid arguments for eda_analysis: analysis"),
    ({"dataset": ["sales"], "analysis": "missing"}, "Invalid arguments for eda_analysis: dataset"),
    ({"analysis": "missing"}, "dataset: Field required"),
    ({"dataset": "sales", "analysis": "missing", "rm": "-rf"}, "Extra inputs are not permitted"),
    ('{"dataset": "sales", "analysis": ', "not valid JSON"),
])
def test_wrongly_typed_or_malformed_arguments_come_back_as_text(sales, arguments, expected: str) -> None:
    # When a model sends bad arguments; Then nothing raises and the text explains the problem
    result = tools.run_tool("eda_analysis", arguments)
    assert not result.ok
    assert expected in result.text


def test_an_unknown_tool_lists_the_available_ones() -> None:
    result = tools.run_tool("delete_dataset", {"dataset": "sales"})
    assert not result.ok and "no tool named 'delete_dataset'" in result.text and "eda_analysis" in result.text


def test_results_are_stored_as_json_with_tables_and_figures(sales) -> None:
    result = tools.run_tool("eda_analysis", {"dataset": "sales", "analysis": "correlation"})
    record = result.record()
    assert record["ok"] and record["table"]["columns"]
    assert record["figure"].startswith("{")


def test_web_search_is_registered_with_a_key_and_calls_serpapi(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSerpApi(key="k-123") as serp:
        # Given a SerpAPI key and URL pointing at a local SerpAPI-speaking server
        monkeypatch.setenv("SERPAPI_API_KEY", "k-123")
        monkeypatch.setenv("SERPAPI_URL", serp.url)
        reload_settings()
        # When the web_search tool runs
        assert "web_search" in tools.available()
        result = tools.run_tool("web_search", {"query": "workbench assistant"})
        # Then SerpAPI was asked with the key and the organic results come back
        assert result.ok, result.text
        assert serp.requests[0]["q"] == "workbench assistant" and serp.requests[0]["api_key"] == "k-123"
        assert "Workbench release notes" in result.text and len(result.table) == 2
        monkeypatch.setenv("SERPAPI_API_KEY", "wrong")
        reload_settings()
        refused = tools.run_tool("web_search", {"query": "x"})
        assert not refused.ok and "Invalid API key" in refused.text


# --- ask -------------------------------------------------------------------------------------------


def test_ask_offline_answers_with_a_table_and_stores_the_turn(sales) -> None:
    # When the analyst asks about missing values with no LLM configured
    reply = agents.ask("show missing values", dataset_id=str(sales.id))
    # Then the Data Analyst answers through eda_analysis, and both messages are stored
    assert reply.mode == "offline" and reply.agent == "data_analyst"
    assert [c.name for c in reply.tool_calls] == ["eda_analysis"]
    assert "units 1" in reply.text and reply.tables
    stored = memory.messages(reply.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].agent == "data_analyst" and stored[1].tool_calls[0]["name"] == "eda_analysis"


def test_ask_a_chart_returns_a_plotly_figure_from_the_visualization_expert(sales) -> None:
    reply = agents.ask("plot units vs unit price", dataset_id=str(sales.id))
    assert reply.agent == "visualization_expert", reply.text
    assert reply.figures and reply.figures[0].data[0].type.startswith("scatter")
    assert reply.tool_calls[0].arguments == {"dataset": "sales", "kind": "scatter", "x": "units",
                                             "y": "unit_price"}


def test_ask_an_aggregate_runs_sql_and_shows_it(sales) -> None:
    reply = agents.ask("average unit price by region", dataset_id=str(sales.id))
    assert reply.agent == "sql_expert"
    run = reply.tool_runs[0]
    assert run.ok, run.result.text
    assert run.result.sql.startswith('SELECT "region", AVG("unit_price")')
    assert set(run.result.table["region"]) == {"north", "south", "east", "west"}


def test_a_pasted_select_is_run_read_only(sales) -> None:
    reply = agents.ask("SELECT segment, count(*) AS n FROM sales GROUP BY 1 ORDER BY 1")
    assert reply.tool_runs[0].result.table["n"].tolist() == [7, 5]
    refused = agents.ask("run this sql: SELECT * FROM sales; DROP TABLE sales")
    assert all(not r.ok for r in refused.tool_runs) or not refused.tool_runs
    assert datasets.get_dataset("sales").rows == 12


@pytest.mark.parametrize("message", ["delete the sales dataset", "please run this python code: import os",
                                     "drop all tables"])
def test_requests_to_delete_data_or_run_code_are_refused_and_nothing_runs(sales, message: str) -> None:
    reply = agents.ask(message)
    assert reply.tool_runs == []
    assert "no tool that deletes or changes data or runs code" in reply.text
    assert datasets.get_dataset("sales").rows == 12


def test_an_unmapped_message_explains_what_the_planner_understands(sales) -> None:
    reply = agents.ask("tell me a joke", dataset_id=str(sales.id))
    assert reply.tool_runs == []
    assert "histogram of price" in reply.text and "sales" in reply.text


def test_a_pinned_agent_answers_when_it_owns_the_tool_and_hands_off_when_not(sales) -> None:
    kept = agents.ask("average units by segment", dataset_id=str(sales.id), agent="sql_expert")
    handed = agents.ask("histogram of units", dataset_id=str(sales.id), agent="sql_expert")
    assert kept.agent == "sql_expert" and not kept.handoffs
    assert handed.agent == "visualization_expert" and handed.handoffs == ["sql_expert->visualization_expert"]
    assert "SQL Expert handed this to the Visualization Expert" in handed.text


def test_a_tool_disabled_in_settings_is_not_run(sales) -> None:
    # Given the Visualization Expert may no longer draw charts
    save_settings("visualization_expert", model="", temperature=0.1, enabled_tools=["get_dataset_info"])
    # When a chart is asked for; Then the tool does not run and the answer says why
    reply = agents.ask("histogram of units", dataset_id=str(sales.id))
    assert not reply.tool_runs[0].ok and "turned off" in reply.text
    assert settings_for("visualization_expert").enabled_tools == ["get_dataset_info"]


def test_ask_rejects_empty_messages_and_unknown_agents() -> None:
    with pytest.raises(InvalidInput):
        agents.ask("   ")
    with pytest.raises(InvalidInput):
        agents.ask("hello", agent="hacker")


def test_plan_offline_uses_the_current_dataset_by_default(sales, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n3,4\n")
    datasets.ingest_file(other, name="other")
    calls = agents.plan_offline("histogram of units", dataset_id=str(sales.id))
    assert calls[0].name == "create_visualization" and calls[0].arguments["dataset"] == "sales"


# --- storage ---------------------------------------------------------------------------------------


def test_conversations_are_created_renamed_archived_and_deleted(backend: str) -> None:
    # Given a conversation with two messages
    conv = memory.new_conversation("First look at sales", agent="data_analyst")
    memory.add_message(conv.id, "user", "hello")
    memory.add_message(conv.id, "assistant", "hi", agent="data_analyst", tool_calls=[{"name": "x", "arguments": {}}])
    # When it is renamed and archived
    memory.rename(conv.id, "Sales deep dive")
    memory.archive(conv.id)
    # Then it moves to the archive with its new title and its messages
    assert memory.list_conversations() == []
    archived = memory.list_conversations(archived=True)
    assert [c.title for c in archived] == ["Sales deep dive"]
    assert [m.content for m in memory.messages(conv.id)] == ["hello", "hi"]
    # When it is deleted; Then it and its messages are gone
    memory.delete_conversation(conv.id)
    assert memory.list_conversations(archived=True) == []
    assert memory.messages(conv.id) == []
    with pytest.raises(NotFound):
        memory.get_conversation(conv.id)


def test_agent_settings_are_stored_per_agent(backend: str) -> None:
    saved = save_settings("sql_expert", model="llama3.1", temperature=0.0, enabled_tools=["sql_query", "bogus"])
    assert saved.model == "llama3.1" and saved.enabled_tools == ["sql_query"]
    assert settings_for("data_analyst").enabled_tools == list(SPECIALISTS["data_analyst"].tools)
    with pytest.raises(InvalidInput):
        save_settings("sql_expert", model="m", temperature=5, enabled_tools=[])


def test_memory_keeps_the_newest_turns_within_the_token_budget() -> None:
    conv = memory.new_conversation("long")
    for i in range(30):
        memory.add_message(conv.id, "user" if i % 2 == 0 else "assistant", f"message {i} " + "x" * 400)
    turns = memory.history(conv.id, budget=600)
    assert 3 <= len(turns) < 30
    assert turns[-1]["content"].startswith("message 29")
    assert sum(memory.tokens(t["content"]) for t in turns) <= 600


def test_agents_never_import_streamlit() -> None:
    code = ("import sys, agents, agents.tools, agents.llm, agents.mcp_server, agents.router, agents.planner; "
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_hypothesis_tests_run_through_core_stats(sales) -> None:
    # When a Welch t-test and a chi-square run as the offline planner maps them
    ttest = agents.ask("t-test of unit price by segment", dataset_id=str(sales.id))
    chi2 = agents.ask("chi-square between region and segment", dataset_id=str(sales.id))
    # Then the Data Scientist reports statistic, p-value and conclusion from core.stats
    assert ttest.agent == "data_scientist" and ttest.tool_runs[0].ok, ttest.text
    assert "p = " in ttest.text and "t" in ttest.text.lower()
    fields = dict(zip(ttest.tables[0]["field"], ttest.tables[0]["value"], strict=True))
    assert fields["test"] == "ttest_ind" and 0 < float(fields["p_value"]) < 1
    assert chi2.tool_runs[0].ok and "p = " in chi2.text


def test_training_is_submitted_as_a_job_its_status_reported_and_its_model_predicts(tmp_path: Path) -> None:
    import jobs

    # Given a dataset large enough to cross-validate
    path = tmp_path / "plants.csv"
    path.write_text("water,sun,height\n" + "".join(
        f"{w},{'full' if w % 3 else 'shade'},{2 * w + (w % 4)}\n" for w in range(1, 41)))
    plants = datasets.ingest_file(path, name="plants")
    # When the analyst asks for a model
    reply = agents.ask("train a linear regression to predict height", dataset_id=str(plants.id))
    # Then a training job is queued with the right parameters and linked in the reply
    assert reply.tool_runs[0].ok, reply.text
    job = jobs.get_job(reply.job_ids[0])
    assert job.kind == "ml.train" and job.params["target"] == "height"
    assert job.params["dataset_id"] == str(plants.id) and job.params["models"] == ["linear_regression"]
    jobs.wait_idle(180)
    status = agents.ask("job status")
    done = jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    assert status.agent == "ml_engineer" and status.job_ids == [str(job.id)]
    assert "Train height on plants" in status.text and "Best model" in status.text and status.tables
    # When the analyst predicts with the best model; Then predictions come back as a table
    predicted = agents.ask(f"predict with model {done.result['best_model_id']} on plants")
    assert predicted.agent == "ml_engineer" and predicted.tool_runs[0].ok, predicted.text
    assert "prediction" in predicted.tables[0].columns and len(predicted.tables[0]) == 40


def test_the_documents_answer_with_citations(tmp_path: Path) -> None:
    from core import rag

    # Given an indexed text document
    report = tmp_path / "report.txt"
    report.write_text("Quarterly report.\n\nIn Q3 the revenue was 4.2 million euros, up 12 percent.\n")
    rag.add_document(report)
    # When the documents are asked and searched
    answer = agents.ask("ask the documents: what was Q3 revenue?")
    search = agents.ask("search the documents for revenue")
    # Then the RAG Assistant answers from the passage and cites it
    assert answer.agent == "rag_assistant" and answer.tool_runs[0].ok, answer.text
    assert "4.2 million" in answer.text
    assert answer.tables and answer.tables[0]["document"].iloc[0] == "report.txt"
    assert search.tool_calls[0].arguments == {"query": "revenue"} and "report.txt p.1" in search.text


# --- structure -------------------------------------------------------------------------------------


def _agents_import_graph(root: Path) -> dict[str, set[str]]:
    """agents module -> the agents modules it imports (at module level or inside functions)."""
    import ast

    def name_of(path: Path) -> str:
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    modules = {name_of(p): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            else:
                continue
            graph[module] |= {t for t in targets if t in modules and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def test_the_agents_package_has_no_import_circle() -> None:
    # Given every import in agents/, module level and inside functions; Then no two modules need each other
    graph = _agents_import_graph(ROOT / "agents")
    assert {"agents.planner.dispatch", "agents.tools.registry", "agents.llm_client"} <= set(graph)
    assert _cycles(graph) == []
    # And the checker does catch a circle
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_statistics_in_replies_use_significant_digits(tmp_path: Path) -> None:
    import re

    # Given two groups far apart (p far below machine epsilon) and a weak difference
    path = tmp_path / "groups.csv"
    path.write_text("value,group,noise\n" + "".join(
        f"{(100 if i % 2 else 0) + (i % 7) * 0.123456789},{'a' if i % 2 else 'b'},{(i * 37 % 11) / 3}\n"
        for i in range(200)))
    ds = datasets.ingest_file(path, name="groups")
    # When t-tests run through the assistant
    strong = agents.ask("t-test of value by group", dataset_id=str(ds.id))
    weak = agents.ask("t-test of noise by group", dataset_id=str(ds.id))
    # Then the p-value prints as R does, statistics with 3 significant digits, and no long float anywhere
    assert "p < 2.2e-16" in strong.text, strong.text
    assert re.search(r"\bt = -?\d+(\.\d{1,2})?, p", strong.text), strong.text
    assert re.search(r"p = \d\.\d{1,4}(e-\d+)?\b", weak.text), weak.text
    assert not re.search(r"\d\.\d{7,}", strong.text.split("Assumption")[0] + weak.text.split("Assumption")[0])
