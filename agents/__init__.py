"""The assistant: six specialist agents acting through typed tools, offline by rules or with an LLM.

    from agents import ask
    reply = ask("plot price vs area", dataset_id=ds_id)
    reply.text, reply.agent, reply.figures

Never imports Streamlit; never runs model output as code.
"""

from agents.orchestrator import Reply, ToolRun, ask
from agents.planner import ToolCall, plan_offline

__all__ = ["Reply", "ToolCall", "ToolRun", "ask", "plan_offline"]
