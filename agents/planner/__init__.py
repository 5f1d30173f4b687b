"""The offline planner: analyst requests turned into tool calls with no LLM, grounded in the data.

    plan_offline("average price by region", dataset_id=ds_id)
    -> [ToolCall(name="sql_query", arguments={"sql": 'SELECT "region", AVG("price") ...'})]

`parse` reads the message (dataset, columns) and `grounding` the values it names (and their columns);
`semantic` ranks the registered intents (`intents`, the core ones in `grounded`) by meaning; `dispatch`
runs the best intent's builder; `steps` splits multi-step requests into an ordered plan. The keyword
rules (`datasets`, `explore`, `stats`, `charts`, `sql`, `ml`, `documents`) fill some intents and remain
the fallback and the benchmark's baseline (`plan_rules`). A message nothing maps plans nothing, and
`explain_unmapped` says what the planner does understand.
This package keeps the old `agents.planner` names.
"""

from agents.planner.clarify import describe_call
from agents.planner.dispatch import RULES, plan, plan_offline, plan_rules
from agents.planner.examples import EXAMPLES, examples_for, explain_unmapped
from agents.planner.forbidden import FORBIDDEN, forbidden
from agents.planner.intents import INTENTS, Intent, changes_data, register
from agents.planner.parse import Ctx, Mention, Schema, context, load_schemas
from agents.planner.steps import Plan, Step, grounding_note, plan_request, plan_steps
from agents.reply import ToolCall

__all__ = ["EXAMPLES", "FORBIDDEN", "INTENTS", "RULES", "Ctx", "Intent", "Mention", "Plan", "Schema", "Step", "ToolCall",
           "changes_data", "context", "describe_call", "examples_for", "explain_unmapped", "forbidden", "grounding_note",
           "load_schemas", "plan", "plan_offline", "plan_request", "plan_rules", "plan_steps", "register"]
