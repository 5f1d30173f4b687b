"""The workbench library: data, analysis, ML and documents, with no UI attached.

Importing a submodule needs no set-up call: the first database access applies
pending migrations (see `core.db`).
"""
