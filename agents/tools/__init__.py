"""The tool registry: every action an agent can take, each a typed call into `core` or `jobs`.

`registry` holds the building blocks (ToolResult, Tool, the argument models, `execute`); one module
per noun holds the tools (`datasets`, `eda`, `charts`, `stats`, `sql`, `ml`, `documents`, `web`);
`catalog` lists them. This package keeps the old `agents.tools` names.
"""

from agents.tools.catalog import TOOLS, available, run_tool
from agents.tools.charts import CHART_KINDS, ChartArgs
from agents.tools.eda import ANALYSES, EdaArgs
from agents.tools.registry import MAX_TABLE_ROWS, Args, DatasetArg, NoArgs, QueryArgs, Tool, ToolResult
from agents.tools.stats import TEST_ALIASES, TestArgs

__all__ = ["ANALYSES", "CHART_KINDS", "MAX_TABLE_ROWS", "TEST_ALIASES", "TOOLS", "Args", "ChartArgs", "DatasetArg",
           "EdaArgs", "NoArgs", "QueryArgs", "TestArgs", "Tool", "ToolResult", "available", "run_tool"]
