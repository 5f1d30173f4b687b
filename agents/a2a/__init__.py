"""The assistant over the Agent2Agent protocol (official `a2a-sdk`, protocol 1.0, JSON-RPC over HTTP).

`cards` describes the routing workbench agent and the six specialists; `executor` runs a request
through `agents.ask` and turns its events into A2A status and artifact updates (long tools such as
training stay WORKING until their background job ends); `store` keeps tasks in our database; `app`
puts them behind the token and Host checks of `agents.http_guard`. `python -m agents.a2a_server` serves it.
"""

import os

# The SDK wraps every handler, queue and store call in an OpenTelemetry span (about 160 per request, 1-2 ms of
# CPU) whenever opentelemetry is installed, as a dependency of another package is here. We configure no tracer,
# so the spans go nowhere: off unless the operator asks for them (set it to true with an OTel exporter). It is
# read once, when the SDK is first imported, so this runs before any `a2a` import of ours.
os.environ.setdefault("OTEL_INSTRUMENTATION_A2A_SDK_ENABLED", "false")
