"""Baseline for bench_jobs: a bare Dramatiq actor with no Job rows, recording when it started."""

from __future__ import annotations

import os
import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

URL = os.environ["REDIS_URL"]
broker = RedisBroker(url=URL)
dramatiq.set_broker(broker)
client = redis.Redis.from_url(URL)


@dramatiq.actor(queue_name="raw_bench", max_retries=0)
def raw_start(key: str) -> None:
    client.set(key, repr(time.time()))
