"""Entry point of `dramatiq jobs.worker`: the Redis broker, every task kind, the maintenance thread."""

from __future__ import annotations

import logging

import dramatiq

from core.config import get_settings
from jobs.background import MaintenanceOnBoot
from jobs.broker import get_broker
from jobs.registry import load_tasks

logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
if not get_settings().redis_url:
    raise SystemExit("REDIS_URL is not set: `make worker` needs Redis (embedded mode runs jobs in the app).")
load_tasks()
broker = get_broker()
broker.add_middleware(MaintenanceOnBoot())
dramatiq.set_broker(broker)
