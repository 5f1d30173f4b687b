"""Job handlers, one module per capability; `jobs.registry.load_tasks` imports them all."""
