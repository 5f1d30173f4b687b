"""A2A over real HTTP on loopback with the SDK's own client: cards, every method, artifacts, hand-offs,
error codes, LLM streaming, and a training task backed by a Dramatiq job that CancelTask cancels."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx
import pytest
from a2a.types.a2a_pb2 import CancelTaskRequest, GetTaskRequest, ListTasksRequest, SubscribeToTaskRequest, TaskState
from a2a.utils.errors import A2AError
from google.protobuf.json_format import MessageToDict

from agents.a2a.cards import PLOTLY_JSON
from agents.tools import TOOLS
from core import datasets
from core.config import reload_settings
from tests.fakes.llm_scripts import tool, use_fake
from tests.fakes.openai_server import FakeOpenAI
from tests.integration.a2a_helpers import client, collect, request, serving, status_texts

pytestmark = pytest.mark.integration
RPC = {"Content-Type": "application/json", "A2A-Version": "1.0"}


@pytest.fixture
def sales(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("region,units,price\nnorth,10,2.5\nsouth,7,3.0\neast,,4.25\nwest,3,1.0\nnorth,8,2.0\n")
    return datasets.ingest_file(path, name="sales")


def _data(artifacts: list) -> list[dict]:
    return [MessageToDict(p)["data"] | {"_media": p.media_type} for a in artifacts for p in a.parts if p.HasField("data")]


def test_cards_send_get_list_and_the_conversation_shows_who_did_what(sales) -> None:
    async def scenario(base: str) -> dict:
        async with httpx.AsyncClient(timeout=60) as http:
            cards = {k: (await http.get(f"{base}{p}/.well-known/agent-card.json")).json()
                     for k, p in (("workbench", ""), ("sql", "/agents/sql_expert"), ("viz", "/agents/visualization_expert"))}
            c = await client(http, f"{base}/agents/sql_expert/", streaming=False)
            sent = await collect(c, request("plot price by region in sales"))
            task = sent[-1].task
            got = await c.get_task(GetTaskRequest(id=task.id))
            listed = await c.list_tasks(ListTasksRequest(include_artifacts=True))
            other = await (await client(http, f"{base}/", streaming=False)).list_tasks(ListTasksRequest())
            return locals()

    with serving() as base:
        r = anyio.run(scenario, base)
    # Then each card lists its specialist's tools as skills, with the registry's descriptions, and streaming
    sql = r["cards"]["sql"]
    assert {s["id"] for s in sql["skills"]} == {"sql_query", "get_dataset_info", "list_datasets"}
    assert sql["skills"][0]["description"] == TOOLS[sql["skills"][0]["id"]].description
    assert sql["capabilities"]["streaming"] is True and sql["supportedInterfaces"][0]["protocolVersion"] == "1.0"
    assert len(r["cards"]["workbench"]["skills"]) >= 10
    # And the SQL Expert, asked for a chart, handed it to the Visualization Expert, whose chart is an artifact
    task = r["task"]
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    history = [" ".join(p.text for p in m.parts) for m in task.history]
    assert any("SQL Expert handed this to the Visualization Expert" in h for h in history)
    assert any(h.startswith("Visualization Expert runs create_visualization") for h in history)
    charts = [d for d in _data(task.artifacts) if d["_media"] == PLOTLY_JSON]
    assert charts and charts[0]["data"][0]["type"] == "bar"
    answer = next(a for a in task.artifacts if a.name == "answer")
    assert "bar chart" in " ".join(p.text for p in answer.parts)
    # And GetTask and ListTasks return the stored task; another agent's list does not show it
    assert r["got"].id == task.id and r["got"].status.state == TaskState.TASK_STATE_COMPLETED
    assert [t.id for t in r["listed"].tasks] == [task.id] and r["listed"].tasks[0].artifacts
    assert r["other"].total_size == 0


def test_streaming_sends_status_then_table_artifact_then_completion(sales) -> None:
    async def scenario(base: str) -> list:
        async with httpx.AsyncClient(timeout=60) as http:
            c = await client(http, f"{base}/agents/sql_expert/", streaming=True)
            return await collect(c, request('sql: SELECT region, avg(price) AS p FROM "sales" GROUP BY 1 ORDER BY 1'))

    with serving() as base:
        events = anyio.run(scenario, base)
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds[0] == "task" and kinds[-1] == "status_update"
    assert events[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
    texts = status_texts(events)
    assert any(t.startswith("SQL Expert runs sql_query") for t in texts)
    assert any(t.startswith("SQL Expert: sql_query done") for t in texts)
    tables = [d for e in events if e.WhichOneof("payload") == "artifact_update"
              for d in _data([e.artifact_update.artifact]) if "columns" in d]
    assert tables and tables[0]["columns"] == ["region", "p"] and tables[0]["rows"][0][0] == "east"
    # the status steps come before the completion, in order
    assert kinds.index("artifact_update") < len(kinds) - 1


def _rpc(base: str, body: object, headers: dict | None = None, raw: bytes | None = None) -> httpx.Response:
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(f"{base}/", content=content, headers={**RPC, **(headers or {})}, timeout=30)


def test_error_codes_over_http(sales) -> None:
    async def sdk_errors(base: str) -> dict:
        async with httpx.AsyncClient(timeout=60) as http:
            c = await client(http, f"{base}/", streaming=True)
            task_id = (await collect(c, request("list the datasets")))[0].task.id
            errors = {}
            for name, call in (("unknown", c.get_task(GetTaskRequest(id="no-such-task"))),
                               ("cancel_done", c.cancel_task(CancelTaskRequest(id=task_id)))):
                try:
                    await call
                except A2AError as exc:
                    errors[name] = str(exc)
            try:
                [e async for e in c.subscribe(SubscribeToTaskRequest(id=task_id))]
            except A2AError as exc:
                errors["subscribe_done"] = str(exc)
            return errors

    with serving() as base:
        errors = anyio.run(sdk_errors, base)
        parse = _rpc(base, None, raw=b'{"jsonrpc": "2.0", "id": 1, "method": ')
        no_method = _rpc(base, {"jsonrpc": "2.0", "id": 2})
        list_method = _rpc(base, {"jsonrpc": "2.0", "id": 6, "method": ["SendMessage"], "params": {}})
        unknown = _rpc(base, {"jsonrpc": "2.0", "id": 3, "method": "tasks/explode", "params": {}})
        bad_params = _rpc(base, {"jsonrpc": "2.0", "id": 4, "method": "GetTask", "params": {"id": {"x": 1}}})
        wrong_type = httpx.post(f"{base}/", content=b"id=1", headers={"Content-Type": "text/plain"}, timeout=30)
        form = httpx.post(f"{base}/", data={"a": "b"}, timeout=30)
        huge = _rpc(base, {"jsonrpc": "2.0", "id": 5, "method": "SendMessage", "params": {"message": {
            "role": "ROLE_USER", "messageId": "m", "parts": [{"text": "x" * (1100 * 1024)}]}}})
    # Then the SDK client sees the protocol's errors
    assert "-32001" in errors["unknown"] or "not found" in errors["unknown"].lower()
    assert "cancel" in errors["cancel_done"].lower()
    assert "terminal" in errors["subscribe_done"].lower()
    # And raw JSON-RPC gets the JSON-RPC codes
    assert parse.json()["error"]["code"] == -32700
    assert no_method.json()["error"]["code"] == -32600
    assert list_method.status_code == 200 and list_method.json()["error"]["code"] in (-32600, -32601)
    assert unknown.json()["error"]["code"] == -32601
    assert bad_params.json()["error"]["code"] == -32602
    # And a body that is not JSON or is too big never reaches the handler
    assert wrong_type.status_code == 415 and form.status_code == 415
    assert huge.status_code == 413 and "A2A_MAX_REQUEST_KB" in huge.json()["error"]["message"]


def test_llm_answers_stream_into_the_answer_artifact_in_pieces(sales, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(base: str) -> list:
        async with httpx.AsyncClient(timeout=60) as http:
            c = await client(http, f"{base}/agents/data_analyst/", streaming=True)
            return await collect(c, request("show missing values in sales"))

    with FakeOpenAI() as fake:
        use_fake(fake, monkeypatch)
        fake.script(tool("eda_analysis", dataset="sales", analysis="missing"),
                    {"content": "Only units has a missing value: one row in five.", "chunk_delay": 0.02})
        with serving() as base:
            events = anyio.run(scenario, base)
    pieces = [p.text for e in events if e.WhichOneof("payload") == "artifact_update"
              and e.artifact_update.artifact.name == "answer" for p in e.artifact_update.artifact.parts]
    assert len([p for p in pieces if p]) >= 3, pieces
    assert "".join(pieces) == "Only units has a missing value: one row in five."
    assert any(t.startswith("Data Analyst runs eda_analysis") for t in status_texts(events))


def test_training_is_a_working_task_on_a_job_that_cancel_cancels_even_after_a_restart(
        sales, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import jobs

    # Given deployed mode (Redis, no worker running, so the job waits) and a token
    monkeypatch.setenv("API_TOKENS", "a2a-test-token-0123456789")
    reload_settings()
    auth = {"Authorization": "Bearer a2a-test-token-0123456789"}

    async def start(base: str) -> str:
        async with httpx.AsyncClient(timeout=60, headers=auth) as http:
            c = await client(http, f"{base}/agents/ml_engineer/", streaming=True)
            async for e in c.send_message(request("train a model to predict price on sales")):
                if e.WhichOneof("payload") == "status_update" and "job_id" in e.status_update.metadata.fields:
                    return e.status_update.task_id
        raise AssertionError("no WORKING update with a job id")

    async def after_restart(base: str, task_id: str) -> tuple:
        async with httpx.AsyncClient(timeout=60, headers=auth) as http:
            c = await client(http, f"{base}/agents/ml_engineer/", streaming=False)
            before = await c.get_task(GetTaskRequest(id=task_id))
            cancelled = await c.cancel_task(CancelTaskRequest(id=task_id))
            return before, cancelled, await c.get_task(GetTaskRequest(id=task_id))

    with serving() as first:
        task_id = anyio.run(start, first)
    with serving() as second:  # a new server process' worth of state: nothing in memory, the task in the DB
        before, cancelled, after = anyio.run(after_restart, second, task_id)
    # Then the task survived as WORKING with its job, CancelTask cancelled that job, and the task says so
    job_id = before.metadata.fields["job_id"].string_value
    assert before.status.state == TaskState.TASK_STATE_WORKING
    assert cancelled.status.state == after.status.state == TaskState.TASK_STATE_CANCELED
    assert jobs.get_job(job_id).status == "cancelled"


def test_request_checks_over_http_unknown_enum_unreadable_part_and_output_modes(sales) -> None:
    def send(message: dict, configuration: dict | None = None) -> dict:
        params = {"message": {"role": "ROLE_USER", "messageId": "m1", **message}}
        if configuration is not None:
            params["configuration"] = configuration
        return _rpc(base, {"jsonrpc": "2.0", "id": 7, "method": "SendMessage", "params": params}).json()

    with serving() as base:
        bad_status = _rpc(base, {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {"status": "running"}})
        good_status = _rpc(base, {"jsonrpc": "2.0", "id": 2, "method": "ListTasks",
                                  "params": {"status": "TASK_STATE_COMPLETED"}})
        image = send({"parts": [{"text": "describe this"}, {"raw": "iVBORw0=", "mediaType": "image/png"}]})
        empty_part = send({"parts": [{"text": "x"}, {"file": {"name": "a.bin"}}]})  # a 0.3 part: no content here
        no_mode = send({"parts": [{"text": "list the datasets"}]}, {"acceptedOutputModes": ["application/x-nope"]})
        plain = send({"parts": [{"text": 'sql: SELECT region FROM "sales" LIMIT 2'}]},
                     {"acceptedOutputModes": ["text/plain"]})
    # Then an unknown enum value is invalid params instead of a dropped filter
    assert bad_status.json()["error"]["code"] == -32602 and "TASK_STATE_WORKING" in bad_status.json()["error"]["message"]
    assert "tasks" in good_status.json()["result"]
    # And a part we cannot read, or output modes we cannot produce, is ContentTypeNotSupported
    assert image["error"]["code"] == -32005 and "image/png" in image["error"]["message"]
    assert empty_part["error"]["code"] == -32602
    assert no_mode["error"]["code"] == -32005 and "text/markdown" in no_mode["error"]["message"]
    # And a client that takes only plain text gets the answer as text/plain and no table or SQL parts
    task = plain["result"]["task"]
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    media = {p.get("mediaType") for a in task["artifacts"] for p in a["parts"]}
    assert media == {"text/plain"}, media


def test_a_second_message_in_a_context_continues_its_conversation(sales) -> None:
    async def scenario(base: str) -> tuple:
        async with httpx.AsyncClient(timeout=60) as http:
            c = await client(http, f"{base}/agents/sql_expert/", streaming=False)
            first = (await collect(c, request("describe the columns of sales")))[-1].task
            follow = request("list the datasets")
            follow.message.context_id = first.context_id
            second = (await collect(c, follow))[-1].task
            return first, second

    with serving() as base:
        first, second = anyio.run(scenario, base)
    conv = [t.metadata.fields["conversation_id"].string_value for t in (first, second)]
    assert second.context_id == first.context_id and second.id != first.id
    assert conv[0] and conv[1] == conv[0]
