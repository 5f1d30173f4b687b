"""A2A benchmark: a SendMessage round trip against calling `agents.ask` directly, and first-token latency.

    .venv/bin/python bench/bench_a2a.py [--quick]

Round trip: the SDK's client over real HTTP on loopback (uvicorn, JSON-RPC, the task stored in the
database) sending one offline request, vs the same request through `agents.ask` in-process (the
baseline). Goal: A2A p50 <= 1.3 x baseline p50 + 10 ms. First token: with the local fake OpenAI endpoint
streaming a paced answer, the time until the first answer text reaches an A2A SendStreamingMessage
client, vs until `agents.ask`'s on_text sink sees it (baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MESSAGE = 'sql: SELECT region, avg(price) AS p FROM "sales" GROUP BY 1'


def _setup(folder: Path) -> None:
    os.environ.update({"DATA_DIR": str(folder / "data"), "DATABASE_URL": "", "REDIS_URL": "", "OPENAI_API_KEY": "",
                       "MODEL_KEY_FILE": str(folder / "keys" / "k.key"), "API_TOKENS": "", "MCP_TOKEN": ""})
    from core import datasets
    from core.config import reload_settings

    reload_settings()
    csv = folder / "sales.csv"
    csv.write_text("region,units,price\n" + "".join(f"r{i % 7},{i},{i * 0.5}\n" for i in range(500)))
    datasets.ingest_file(csv, name="sales")


def _p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


def bench_round_trip(base: str, n: int) -> tuple[float, float, float]:
    """Interleaved (direct, A2A, direct, ...) after one untimed warm-up of each: both see the same load.
    Returns both p50s and the p50 of the paired differences (each A2A call less the direct call before it),
    which the machine's load moves least."""
    import httpx

    import agents
    from tests.integration.a2a_helpers import client, collect, request

    def one_direct() -> float:
        started = time.perf_counter()
        agents.ask(MESSAGE, agent="sql_expert")
        return time.perf_counter() - started

    direct, over = [], []

    async def run() -> None:
        async with httpx.AsyncClient(timeout=60) as http:
            c = await client(http, f"{base}/agents/sql_expert/", streaming=False)

            async def one_a2a() -> float:
                started = time.perf_counter()
                await collect(c, request(MESSAGE))
                return time.perf_counter() - started

            await asyncio.to_thread(one_direct)
            await one_a2a()
            for _ in range(n):
                direct.append(await asyncio.to_thread(one_direct))
                over.append(await one_a2a())

    asyncio.run(run())
    return _p50(direct), _p50(over), _p50([a - d for a, d in zip(over, direct, strict=True)])


def bench_first_token(base: str, n: int) -> tuple[float, float]:
    """Interleaved (direct, A2A, direct, ...) after one untimed warm-up of each, so caches favour neither."""
    import httpx

    import agents
    from core.config import reload_settings
    from tests.fakes.openai_server import FakeOpenAI
    from tests.integration.a2a_helpers import client, request

    answer = {"content": "Prices rise with units across every region of the table.", "chunk_delay": 0.05}
    question = "what does the sales data say?"
    direct, streamed = [], []
    with FakeOpenAI() as fake:
        os.environ.update({"OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": fake.base_url, "LLM_MODEL": "fake"})
        reload_settings()

        def one_direct() -> float:
            fake.script(dict(answer))
            started, first = time.perf_counter(), []

            def on_text(_chunk: str) -> None:
                if not first:
                    first.append(time.perf_counter())

            agents.ask(question, agent="data_analyst", on_text=on_text)
            return first[0] - started

        async def run() -> None:
            async with httpx.AsyncClient(timeout=60) as http:
                c = await client(http, f"{base}/agents/data_analyst/", streaming=True)

                async def one_a2a() -> float:
                    fake.script(dict(answer))
                    started, took = time.perf_counter(), 0.0
                    async for e in c.send_message(request(question)):
                        if not took and e.WhichOneof("payload") == "artifact_update" \
                                and e.artifact_update.artifact.name == "answer":
                            took = time.perf_counter() - started
                    return took

                await asyncio.to_thread(one_direct)
                await one_a2a()
                for _ in range(n):
                    direct.append(await asyncio.to_thread(one_direct))
                    streamed.append(await one_a2a())

        asyncio.run(run())
    return _p50(direct), _p50(streamed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few repetitions only")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds of the round-trip measure")
    parser.add_argument("--no-first-token", action="store_true", help="the round trip only")
    args = parser.parse_args()
    n = 5 if args.quick else args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        _setup(Path(tmp))
        from tests.integration.a2a_helpers import serving

        with serving() as base:
            direct, a2a, added = bench_round_trip(base, n)
            goal = 1.3 * direct + 10
            print(f"SendMessage round trip p50: A2A {a2a:.1f} ms vs agents.ask {direct:.1f} ms (baseline) -> "
                  f"ratio {a2a / direct:.2f}x; goal <= {goal:.1f} ms: {'met' if a2a <= goal else 'MISSED'}; "
                  f"A2A adds {added:.1f} ms per call (p50 of paired differences)")
            if args.no_first_token:
                return 0
            first_direct, first_a2a = bench_first_token(base, max(3, n // 5))
            print(f"first streamed token p50: A2A {first_a2a:.1f} ms vs agents.ask on_text {first_direct:.1f} ms "
                  f"(baseline) -> +{first_a2a - first_direct:.1f} ms, ratio {first_a2a / first_direct:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
