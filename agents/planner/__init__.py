"""The offline planner: common analyst requests turned into tool calls by rules, with no LLM.

    plan_offline("average price by region", dataset_id=ds_id)
    -> [ToolCall(name="sql_query", arguments={"sql": 'SELECT "region", AVG("price") ...'})]

`parse` reads the message (dataset, columns); one module per intent holds its rules (`datasets`,
`explore`, `stats`, `charts`, `sql`, `ml`, `documents`); `dispatch` tries them in order. A message
no rule understands plans nothing, and `explain_unmapped` says what the planner does understand.
This package keeps the old `agents.planner` names.
"""

from agents.planner.dispatch import RULES, plan, plan_offline
from agents.planner.examples import EXAMPLES, examples_for, explain_unmapped
from agents.planner.forbidden import FORBIDDEN, forbidden
from agents.planner.parse import Ctx, Mention, Schema, context, load_schemas
from agents.reply import ToolCall

__all__ = ["EXAMPLES", "FORBIDDEN", "RULES", "Ctx", "Mention", "Schema", "ToolCall", "context", "examples_for",
           "explain_unmapped", "forbidden", "load_schemas", "plan", "plan_offline"]
