"""The A2A request checks: unknown enum values, parts we cannot read, output modes we cannot produce."""

from __future__ import annotations

from pathlib import Path

import pytest
from a2a.types.a2a_pb2 import ListTasksRequest, Part, SendMessageConfiguration, SendMessageRequest
from a2a.utils.errors import ContentTypeNotSupportedError, InvalidParamsError

from agents.a2a.checks import accepts, check_message, unknown_enum


@pytest.mark.parametrize("params", [
    {}, {"status": "TASK_STATE_WORKING"}, {"status": 3}, {"pageSize": 5, "someFutureField": "x"},
])
def test_known_list_filters_pass(params: dict) -> None:
    assert unknown_enum(params, ListTasksRequest.DESCRIPTOR) is None


@pytest.mark.parametrize(("params", "named"), [
    ({"status": "INVALID_STATUS"}, "status"),
    ({"status": "working"}, "status"),
])
def test_an_unknown_status_is_named(params: dict, named: str) -> None:
    why = unknown_enum(params, ListTasksRequest.DESCRIPTOR)
    assert why is not None and named in why and "TASK_STATE_WORKING" in why


@pytest.mark.parametrize("params", [
    {"message": {"role": "ROLE_BOSS", "parts": [{"text": "hi"}]}},
    {"message": {"role": "ROLE_USER", "parts": [{"text": "hi"}]}, "configuration": {
        "taskPushNotificationConfig": {"url": "https://x", "authentication": {"scheme": 1}}}, "x": {"role": "no"}},
])
def test_enums_are_checked_inside_nested_messages(params: dict) -> None:
    why = unknown_enum(params, SendMessageRequest.DESCRIPTOR)
    assert (why is not None) == (params["message"]["role"] == "ROLE_BOSS")


def _send(*parts: Part, modes: tuple[str, ...] = ()) -> SendMessageRequest:
    req = SendMessageRequest(configuration=SendMessageConfiguration(accepted_output_modes=list(modes)))
    req.message.parts.extend(parts)
    return req


@pytest.mark.parametrize("req", [
    _send(Part(text="plot price")),
    _send(Part(text="plot price", media_type="text/plain; charset=utf-8")),
    _send(Part(text="x"), modes=("text/*",)),
    _send(Part(text="x"), modes=("image/png", "application/json")),
    _send(Part(text="x"), modes=("*/*",)),
])
def test_messages_we_can_serve_pass(req: SendMessageRequest) -> None:
    check_message(req)


@pytest.mark.parametrize(("req", "error"), [
    (_send(Part(text="x"), Part(raw=b"\x89PNG", media_type="image/png")), ContentTypeNotSupportedError),
    (_send(Part(text="x"), modes=("application/x-unsupported", "image/*")), ContentTypeNotSupportedError),
    (_send(Part(text="x"), Part()), InvalidParamsError),
])
def test_messages_we_cannot_serve_are_refused_saying_why(req: SendMessageRequest, error: type) -> None:
    with pytest.raises(error) as caught:
        check_message(req)
    message = str(caught.value).lower()
    assert ("content type not supported" in message) if error is ContentTypeNotSupportedError else "text" in message


@pytest.mark.parametrize(("modes", "media", "taken"), [
    ((), "application/vnd.plotly.v1+json", True),
    (("text/plain",), "application/json", False),
    (("text/*",), "text/markdown", True),
    (("APPLICATION/JSON",), "application/json", True),
])
def test_accepts_follows_the_clients_output_modes(modes: tuple, media: str, taken: bool) -> None:
    assert accepts(SendMessageConfiguration(accepted_output_modes=list(modes)), media) is taken


@pytest.mark.parametrize(("setting", "enabled"), [(None, "False"), ("true", "True")])
def test_the_sdks_tracing_is_off_unless_the_operator_turns_it_on(setting: str | None, enabled: str) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OTEL_INSTRUMENTATION_A2A_SDK_ENABLED"}
    if setting is not None:
        env["OTEL_INSTRUMENTATION_A2A_SDK_ENABLED"] = setting
    code = "import agents.a2a.app, a2a.utils.telemetry as t; print(t.otel_enabled)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == enabled
