"""Documents (RAG): indexing throughput, query latency with 50,000 chunks stored, retrieval hit@5.

    .venv/bin/python bench/bench_rag.py [--quick] [--json results.json]

1. Indexing: a generated 300-page PDF (reportlab; 20 pages with --quick) through `rag.add_document`
   with the bundled all-MiniLM-L6-v2 on CPU: pages/s and chunks/s, beside pypdf's bare text
   extraction (the parsing floor) so the embedding share is visible.
2. Retrieval quality: the notes in bench/data/rag_corpus (seven public-domain works, written for
   this benchmark) and 82 questions in bench/data/rag_questions.json, half naming rare words
   ("keyword"), half paraphrased ("paraphrase"). hit@5: the expected section is among the top 5
   hits. Hybrid (our default) beside vector-only and keyword-only.
3. Query latency: 50,000 chunks (2,000 with --quick) stored in Chroma and the database, then
   `rag.search` p50/p95 per mode, beside rank_bm25's BM25Okapi scoring the same chunks. To keep the
   run short on CPU, the chunk texts are real corpus sentences but only a pool of 500 of them is
   embedded; the other vectors are pool vectors plus small noise (the store and the queries are real).
Nothing is downloaded; everything runs in a temporary DATA_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def use_data_dir(folder: Path) -> None:
    """Point the workbench at a fresh DATA_DIR (database, Chroma, files)."""
    from core.config import reload_settings
    from core.db import reset_engines
    from core.rag import keyword, store

    os.environ["DATA_DIR"] = str(folder)
    os.environ["DATABASE_URL"] = ""
    os.environ["CHROMA_HOST"] = ""
    os.environ["OPENAI_API_KEY"] = ""
    reload_settings()
    reset_engines()
    keyword.clear()
    store.reset()


def corpus_sentences() -> list[str]:
    import re

    text = " ".join(p.read_text() for p in sorted((DATA / "rag_corpus").glob("*.md")))
    text = re.sub(r"#+ [^\n]*\n", " ", text)
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 20]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# -- 1. indexing throughput -----------------------------------------------------------------
def make_pdf(path: Path, pages: int, sentences: list[str]) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(7)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for number in range(pages):
        y = 800
        body = f"Page {number + 1}. " + " ".join(rng.choice(sentences) for _ in range(24))
        for line in textwrap.wrap(body, 95)[:52]:
            pdf.drawString(40, y, line)
            y -= 14.5
        pdf.showPage()
    pdf.save()


def bench_indexing(work: Path, pages: int) -> dict:
    from pypdf import PdfReader

    from core import rag

    use_data_dir(work / "indexing")
    pdf = work / f"generated-{pages}p.pdf"
    make_pdf(pdf, pages, corpus_sentences())
    started = time.perf_counter()
    chars = sum(len(p.extract_text() or "") for p in PdfReader(str(pdf)).pages)
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    doc = rag.add_document(pdf)
    index_s = time.perf_counter() - started
    return {"pages": doc.pages, "chunks": doc.chunks, "chars": chars, "seconds": round(index_s, 2),
            "pages_per_s": round(doc.pages / index_s, 2), "chunks_per_s": round(doc.chunks / index_s, 2),
            "parse_only_pages_per_s": round(pages / parse_s, 1)}


# -- 2. retrieval quality -------------------------------------------------------------------
def bench_quality(work: Path, limit: int | None) -> dict:
    from core import rag
    from core.rag.answer import extractive_answer

    use_data_dir(work / "quality")
    for path in sorted((DATA / "rag_corpus").glob("*.md")):
        rag.add_document(path)
    questions = json.loads((DATA / "rag_questions.json").read_text())
    questions = questions[::max(1, len(questions) // limit)] if limit else questions
    found = 0
    results: dict[str, dict[str, list[int]]] = {m: {"keyword": [], "paraphrase": []} for m in
                                                ("hybrid", "vector", "keyword")}
    reciprocal: dict[str, list[float]] = {m: [] for m in results}
    for item in questions:
        for mode in results:
            hits = rag.search(item["q"], k=5, mode=mode)
            if mode == "hybrid":
                found += extractive_answer(item["q"], hits).found
            ranks = [i for i, h in enumerate(hits, 1) if h.document == item["doc"] and h.page_label == item["section"]]
            results[mode][item["kind"]].append(1 if ranks else 0)
            reciprocal[mode].append(1 / ranks[0] if ranks else 0.0)
    out = {}
    for mode, kinds in results.items():
        every = kinds["keyword"] + kinds["paraphrase"]
        out[mode] = {"hit@5": round(sum(every) / len(every), 3),
                     "hit@5_keyword_questions": round(sum(kinds["keyword"]) / len(kinds["keyword"]), 3),
                     "hit@5_paraphrase_questions": round(sum(kinds["paraphrase"]) / len(kinds["paraphrase"]), 3),
                     "mrr@5": round(sum(reciprocal[mode]) / len(reciprocal[mode]), 3)}
    out["questions"] = len(questions)
    out["answer_found_offline"] = round(found / len(questions), 3)
    return out


# -- 3. query latency at 50,000 chunks ------------------------------------------------------
def fill_store(n_chunks: int, pool: int, per_doc: int = 1000) -> list[str]:
    """Insert `n_chunks` chunks (texts from the corpus, vectors from an embedded pool plus noise)."""
    import numpy as np
    from sqlalchemy import insert

    from core.db import session, utcnow
    from core.models.documents import Document, DocumentChunk, DocumentPage
    from core.rag import store
    from core.rag.embeddings import LOCAL_MODEL, LocalEmbedder

    rng = random.Random(11)
    sentences = corpus_sentences()
    texts = [f"Record {i}. " + " ".join(rng.choice(sentences) for _ in range(7)) for i in range(n_chunks)]
    pool_vectors = LocalEmbedder().embed(texts[:pool])
    noise = np.random.default_rng(5)
    for first in range(0, n_chunks, per_doc):
        doc_id, batch = uuid.uuid4(), texts[first:first + per_doc]
        ids = [uuid.uuid4() for _ in batch]
        base = pool_vectors[[(first + i) % pool for i in range(len(batch))]]
        vectors = base + noise.normal(0, 0.02, base.shape).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        pages = [i // 4 + 1 for i in range(len(batch))]
        with session() as s:
            s.add(Document(id=doc_id, name=f"filler-{first // per_doc:03d}.pdf", type="pdf", pages=pages[-1],
                           chunks=len(batch), embedding_model=LOCAL_MODEL, status="ready",
                           hash=uuid.uuid4().hex, size_bytes=0, indexed=utcnow()))
        with session() as s:
            s.exec(insert(DocumentPage), params=[{"id": uuid.uuid4(), "document_id": doc_id, "number": p,
                                                  "label": f"page {p}", "text": ""} for p in sorted(set(pages))])
            s.exec(insert(DocumentChunk), params=[{"id": i, "document_id": doc_id, "seq": n, "page": pages[n],
                                                   "start": 0, "end": len(t), "text": t}
                                                  for n, (i, t) in enumerate(zip(ids, batch, strict=True))])
        store.add(LOCAL_MODEL, ids, vectors, [{"document_id": str(doc_id), "page": p} for p in pages])
    return texts


BASELINE_MAX_CHUNKS = 100_000


def bench_latency(work: Path, n_chunks: int, pool: int, queries: int) -> dict:
    from rank_bm25 import BM25Okapi

    from core import rag
    from core.rag.keyword import tokenize

    use_data_dir(work / "latency")
    started = time.perf_counter()
    texts = fill_store(n_chunks, pool)
    fill_s = time.perf_counter() - started
    questions = [q["q"] for q in json.loads((DATA / "rag_questions.json").read_text())]
    asked = [questions[i % len(questions)] for i in range(queries)]
    started = time.perf_counter()
    rag.search(asked[0], k=5)
    cold_ms = (time.perf_counter() - started) * 1000
    out: dict = {"chunks": n_chunks, "embedded_pool": pool, "fill_s": round(fill_s, 1),
                 "first_query_ms_with_keyword_index_build": round(cold_ms, 1), "queries": queries}
    for mode in ("hybrid", "vector", "keyword"):
        times = []
        for question in asked:
            started = time.perf_counter()
            rag.search(question, k=5, mode=mode)
            times.append((time.perf_counter() - started) * 1000)
        out[mode] = {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
                     "mean_ms": round(statistics.fmean(times), 1)}
    if n_chunks > BASELINE_MAX_CHUNKS:  # rank_bm25 holds every chunk's tokens in Python lists
        out["baseline_rank_bm25"] = {"skipped": f"above {BASELINE_MAX_CHUNKS:,} chunks"}
        return out
    started = time.perf_counter()
    reference = BM25Okapi([tokenize(t) for t in texts])
    build_s = time.perf_counter() - started
    times = []
    for question in asked[:20]:
        started = time.perf_counter()
        reference.get_scores(tokenize(question))
        times.append((time.perf_counter() - started) * 1000)
    out["baseline_rank_bm25"] = {"build_s": round(build_s, 1), "score_p50_ms": round(percentile(times, 50), 1),
                                 "score_p95_ms": round(percentile(times, 95), 1)}
    return out


# -- report ---------------------------------------------------------------------------------
def machine() -> dict:
    import torch

    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "load_avg_1m": round(load[0], 2), "torch_threads": torch.get_num_threads(),
            "device": "cuda" if torch.cuda.is_available() else "cpu", "python": sys.version.split()[0]}


def report(results: dict) -> None:
    print(f"\nmachine: {results['machine']}  (shared machine: other jobs may run beside this one)")
    stages = ", ".join(f"{k} {v['stage_s']} s" for k, v in results.items() if isinstance(v, dict) and "stage_s" in v)
    print(f"model load: {results['model_load_s']} s; stages: {stages}\n")
    if ix := results.get("indexing"):
        print(f"Indexing a {ix['pages']}-page PDF: {ix['seconds']} s -> {ix['pages_per_s']} pages/s, "
              f"{ix['chunks_per_s']} chunks/s ({ix['chunks']} chunks)")
        print(f"  baseline: pypdf text extraction alone {ix['parse_only_pages_per_s']} pages/s\n")
    if q := results.get("quality"):
        print(f"Retrieval on {q['questions']} questions      hit@5   keyword-q  paraphrase-q  MRR@5")
        for mode in ("hybrid", "vector", "keyword"):
            m = q[mode]
            label = f"{mode}{' (ours)' if mode == 'hybrid' else ' (baseline)'}"
            print(f"  {label:<28} {m['hit@5']:>6}   {m['hit@5_keyword_questions']:>8}   "
                  f"{m['hit@5_paraphrase_questions']:>10}   {m['mrr@5']:>5}")
        print(f"  offline answers that found something: {q['answer_found_offline']}\n")
    for lat in (v for k, v in results.items() if k.startswith("latency")):
        print(f"Query latency with {lat['chunks']:,} chunks ({lat['queries']} queries; first query "
              f"{lat['first_query_ms_with_keyword_index_build']} ms incl. keyword index build; filling the store "
              f"took {lat['fill_s']} s)")
        for mode in ("hybrid", "vector", "keyword"):
            print(f"  {mode:<8} p50 {lat[mode]['p50_ms']:>7} ms   p95 {lat[mode]['p95_ms']:>7} ms")
        base = lat["baseline_rank_bm25"]
        if "skipped" in base:
            print(f"  baseline rank_bm25: skipped ({base['skipped']})")
        else:
            print(f"  baseline rank_bm25 BM25Okapi over the same chunks: build {base['build_s']} s, "
                  f"scoring alone p50 {base['score_p50_ms']} ms p95 {base['score_p95_ms']} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run (under a minute)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--stages", default="indexing,quality,latency", help="which stages to run (comma-separated)")
    parser.add_argument("--latency-chunks", default=None,
                        help="chunk counts for the latency stage, e.g. 50000,1000000 (default 50,000; 1,000 quick)")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="intra-op threads for the embedding model (0: torch's default). One by default: on a "
                             "shared machine more threads spin against the other work and slow queries tenfold")
    args = parser.parse_args()
    if not (DATA / "rag_questions.json").is_file():
        parser.error(f"{DATA / 'rag_questions.json'} is missing (a `data/` rule in .gitignore also matches bench/data)")
    pages, chunks, pool, queries, limit = (6, 1000, 50, 15, 16) if args.quick else (300, 50_000, 500, 200, None)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    out_file = args.json.resolve() if args.json else None
    work = Path(tempfile.mkdtemp(prefix="bench-rag-"))
    os.chdir(work)  # no developer .env leaks in
    try:
        from core.rag.embeddings import _local_model

        started = time.perf_counter()
        _local_model()
        results = {"quick": args.quick, "machine": machine(), "model_load_s": round(time.perf_counter() - started, 1)}
        sizes = [int(n) for n in args.latency_chunks.split(",")] if args.latency_chunks else [chunks]
        stages = [("indexing", lambda: bench_indexing(work, pages)), ("quality", lambda: bench_quality(work, limit))]
        stages += [("latency" if n == sizes[0] else f"latency_{n}",
                    lambda n=n: bench_latency(work / f"chunks-{n}", n, pool, queries)) for n in sizes]
        wanted = set(args.stages.split(","))
        for name, run in stages:
            if name.split("_")[0] not in wanted:
                continue
            started = time.perf_counter()
            results[name] = run()
            results[name]["stage_s"] = round(time.perf_counter() - started, 1)
            print(name, json.dumps(results[name]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results)
    if out_file:
        out_file.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
