"""The LLM path gets the offline planner's grounding, and a multi-step request runs as tool-calling rounds
(against the local fake OpenAI server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import agents
from core import datasets
from core.datasets import versions
from tests.fakes.llm_scripts import system_prompt, tool, use_fake
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        use_fake(server, monkeypatch)
        yield server


def test_the_model_sees_resolved_values_and_runs_the_steps_in_rounds(fake: FakeOpenAI, tmp_path: Path) -> None:
    # Given a dataset with missing units and a model that fills them, then summarises
    path = tmp_path / "sales.csv"
    path.write_text("region,units,price\nnorth,10,2.5\nsouth,7,3.0\neast,,4.25\nwest,3,1.0\nnorth,8,2.0\n")
    sales = datasets.ingest_file(path, name="sales")
    fake.script(tool("clean_dataset", dataset="sales", op="fill", column="units", method="median"),
                tool("eda_analysis", dataset="sales", analysis="statistics", columns=["units"]), "Done.")
    # When a two-step request is asked of the Data Analyst
    reply = agents.ask("fill missing units with the median, then show the average price in the north",
                       dataset_id=str(sales.id), agent="data_analyst")
    # Then the model was shown the grounding (the value and its column, the planned steps) and the cleaning tool
    prompt = system_prompt(fake.chat_requests[0])
    assert "value 'north' is a level of column region" in prompt
    assert "step 1: clean_dataset" in prompt and "step 2: sql_query" in prompt and "= 'north'" in prompt
    assert "clean_dataset" in {t["function"]["name"] for t in fake.chat_requests[0]["tools"]}
    # And both steps ran in order, the first making version 2 that the second read
    assert [r.name for r in reply.tool_runs] == ["clean_dataset", "eda_analysis"] and all(r.ok for r in reply.tool_runs)
    assert [v.version for v in versions.history(sales.id)] == [1, 2]
    assert datasets.load_frame(sales.id)["units"].isna().sum() == 0
