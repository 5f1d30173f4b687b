"""MCP: the SDK's own client lists and calls the workbench tools, reads dataset resources and gets prompts,
in-process, over stdio (`python -m agents.mcp_server`) and over streamable HTTP."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from agents.mcp_server import build_server
from core import datasets
from tests.integration.mcp_helpers import mcp_http_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sales(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("region,units,price\nnorth,10,2.5\nsouth,7,3.0\neast,,4.25\nwest,3,1.0\n")
    return datasets.ingest_file(path, name="sales")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_in_process_client_lists_and_calls_tools_reads_resources_and_prompts(sales) -> None:
    async def scenario() -> dict:
        async with Client(build_server()) as client:
            tools = await client.list_tools()
            ok = await client.call_tool("eda_analysis", {"dataset": "sales", "analysis": "missing"})
            bad = await client.call_tool("eda_analysis", {"dataset": "sales", "analysis": "nonsense"})
            chart = await client.call_tool("create_visualization", {"dataset": "sales", "kind": "histogram",
                                                                     "x": "price"})
            resources = await client.list_resources()
            schema = await client.read_resource("dataset://sales/schema")
            preview = await client.read_resource("dataset://sales/preview")
            prompts = await client.list_prompts()
            prompt = await client.get_prompt("sql_expert", {"question": "average price by region"})
            return locals()

    # When the SDK client talks to the server in-process
    r = anyio.run(scenario)
    # Then the tools carry their pydantic schemas and run, errors come back flagged, resources and prompts exist
    by_name = {t.name: t for t in r["tools"].tools}
    assert {"eda_analysis", "get_dataset_info", "create_visualization", "sql_query"} <= set(by_name)
    assert "analysis" in by_name["eda_analysis"].input_schema["properties"]
    assert not r["ok"].is_error and "units 1" in r["ok"].content[0].text
    assert r["bad"].is_error and "Invalid arguments" in r["bad"].content[0].text
    assert json.loads(r["chart"].content[1].text)["data"][0]["type"] == "bar"
    uris = {str(res.uri) for res in r["resources"].resources}
    assert uris == {"dataset://sales/schema", "dataset://sales/preview"}
    assert json.loads(r["schema"].contents[0].text)["rows"] == 4
    assert r["preview"].contents[0].text.startswith("region,units,price")
    assert len(r["prompts"].prompts) == 6
    assert "SQL Expert" in r["prompt"].messages[0].content.text
    assert "average price by region" in r["prompt"].messages[0].content.text


def test_stdio_server_started_with_python_m_serves_the_tools(sales, tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "agents.mcp_server"], env=_env(),
                                   cwd=str(tmp_path))

    async def scenario() -> tuple:
        async with Client(params) as client:
            tools = await client.list_tools()
            result = await client.call_tool("get_dataset_info", {"dataset": "sales"})
            return tools, result

    tools, result = anyio.run(scenario)
    assert "get_dataset_info" in {t.name for t in tools.tools}
    assert not result.is_error and "Dataset sales: 4 rows × 3 columns" in result.content[0].text


def test_streamable_http_server_serves_the_tools(sales, tmp_path: Path) -> None:
    async def scenario(url: str) -> tuple:
        async with Client(url) as client:
            tools = await client.list_tools()
            result = await client.call_tool("sql_query", {"sql": "SELECT count(*) AS n FROM sales"})
            return tools, result

    with mcp_http_server(tmp_path) as url:
        tools, result = anyio.run(scenario, url)
    assert "sql_query" in {t.name for t in tools.tools}
    assert not result.is_error and "n\n4" in result.content[0].text
