"""The assistant over the Agent2Agent protocol (official `a2a-sdk`, protocol 1.0, JSON-RPC over HTTP).

`cards` describes the routing workbench agent and the six specialists; `executor` runs a request
through `agents.ask` and turns its events into A2A status and artifact updates (long tools such as
training stay WORKING until their background job ends); `store` keeps tasks in our database; `app`
puts them behind the token and Host checks of `agents.http_guard`. `python -m agents.a2a_server` serves it.
"""
