"""Documents on real financial filings: page hit@1/hit@5/MRR, indexing pages/s, keyword search latency.

    .venv/bin/python bench/bench_rag_filings.py [--quick] [--corpus DIR] [--json results.json]

Corpus: the FinanceBench open-source sample (github.com/patronus-ai/financebench): real 10-K,
10-Q, 8-K and earnings-release PDFs and analyst questions with their evidence pages (zero-based
in the file). The PDFs and the questions stay out of this repository; put the PDFs named in
bench/data/filings_split.json and `financebench_open_source.jsonl` in one folder (default
$FILINGS_CORPUS or ../corpus-filings). Without it the benchmark says so and exits 0.
bench/data/filings_split.json (ours) lists the filings and splits the questions into a tuning
half and a hold-out half that nothing was tuned on; both are reported.

1. Indexing: every filing through `rag.add_document` (PDFium text, page-bounded chunks, one vector
   per page, FTS5 pages) -> pages/s, with text extraction timed alone. Baseline in the same run:
   the previous pipeline (pypdf text, every chunk embedded) on the first 12 pages of one filing.
2. Retrieval: each question over all indexed filings; a hit is the right filing and an evidence
   page. Ours (hybrid and keyword-only) beside the baseline: the previous keyword ranking (in-memory
   BM25 over 1,000-character chunks, no routing), which is what the previous hybrid fused with
   its chunk vectors.
3. Keyword search latency by corpus size: synthetic pages (real filing lines shuffled) in the FTS5
   index at 50,000 chunks (12,500 pages at four chunks a page) and 1,000,000 chunks (250,000 pages;
   --quick: 50,000 chunks only), p50/p95 of `fts.search`, beside the previous in-memory BM25 at 50,000.
Nothing is downloaded; everything runs in a temporary DATA_DIR, with one torch thread.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_rag import percentile, use_data_dir  # noqa: E402


def find_corpus(given: Path | None) -> Path | None:
    for folder in (given, os.environ.get("FILINGS_CORPUS"), ROOT.parent / "corpus-filings"):
        if folder and (Path(folder) / "financebench_open_source.jsonl").is_file():
            return Path(folder)
    return None


def load(corpus: Path, quick: bool) -> tuple[list[Path], list[dict]]:
    split = json.loads((DATA / "filings_split.json").read_text())
    part = {i: "tune" for i in split["tune"]} | {i: "holdout" for i in split["holdout"]}
    names = [n for n in split["documents"] if (corpus / f"{n}.pdf").is_file()]
    questions = [json.loads(line) for line in (corpus / "financebench_open_source.jsonl").read_text().splitlines()
                 if line.strip()]
    if quick:  # the filings with the most questions, under 150 pages each
        from pypdf import PdfReader

        counts = {n: sum(q["doc_name"] == n for q in questions) for n in names}
        names = [n for n in sorted(names, key=lambda n: -counts[n])
                 if len(PdfReader(str(corpus / f"{n}.pdf")).pages) <= 150][:6]
    questions = [dict(q, part=part[q["financebench_id"]]) for q in questions
                 if q["doc_name"] in names and q["financebench_id"] in part]
    return [corpus / f"{n}.pdf" for n in names], questions


# -- 1. indexing -------------------------------------------------------------------------------
def bench_indexing(work: Path, files: list[Path]) -> dict:
    from core import rag
    from core.rag.parsers import open_document

    use_data_dir(work / "ours")
    started = time.perf_counter()
    pages = sum(sum(1 for _ in open_document(f).pages) for f in files)
    extract_s = time.perf_counter() - started
    started = time.perf_counter()
    for f in files:
        rag.add_document(f)
    index_s = time.perf_counter() - started
    return {"filings": len(files), "pages": pages, "seconds": round(index_s, 1),
            "pages_per_s": round(pages / index_s, 2), "extraction_only_pages_per_s": round(pages / extract_s, 1),
            "extraction_share": round(extract_s / index_s, 2)}


def bench_baseline_indexing(work: Path, source: Path, pages: int = 12) -> dict:
    """The previous pipeline (pypdf text, 1,000-character chunks, every chunk embedded) on a slice."""
    from pypdf import PdfReader, PdfWriter

    from core.rag.chunking import chunk_page, make_splitter
    from core.rag.embeddings import LocalEmbedder
    from core.rag.parsers import Page, clean

    writer = PdfWriter()
    for page in PdfReader(str(source)).pages[:pages]:
        writer.add_page(page)
    part = work / "slice.pdf"
    with part.open("wb") as f:
        writer.write(f)
    started = time.perf_counter()
    texts = [clean(p.extract_text() or "") for p in PdfReader(str(part)).pages]
    extract_s = time.perf_counter() - started
    splitter = make_splitter()
    chunks = [c.text for n, t in enumerate(texts, 1) for c in chunk_page(Page(n, "", t), splitter)]
    started = time.perf_counter()
    LocalEmbedder().embed(chunks)
    embed_s = time.perf_counter() - started
    total = extract_s + embed_s
    return {"pages": pages, "chunks": len(chunks), "pages_per_s": round(pages / total, 2),
            "extraction_share": round(extract_s / total, 2), "embedding_share": round(embed_s / total, 2)}


# -- 2. retrieval ------------------------------------------------------------------------------
def ranked_pages(hits: list) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    for hit in hits:
        key = (Path(hit.document).stem, hit.page)
        if key not in seen:
            seen.append(key)
    return seen


def score(questions: list[dict], rank: callable) -> dict:
    out: dict = {}
    for part in ("tune", "holdout"):
        chosen = [q for q in questions if q["part"] == part]
        h1 = h5 = rr = 0.0
        for q in chosen:
            wanted = {(e.get("doc_name", q["doc_name"]), e["evidence_page_num"] + 1) for e in q["evidence"]}
            pages = rank(q["question"])[:5]
            first = next((i for i, key in enumerate(pages, 1) if key in wanted), None)
            h1 += first == 1
            h5 += first is not None
            rr += 1 / first if first else 0.0
        n = max(len(chosen), 1)
        out[part] = {"questions": len(chosen), "hit@1": round(h1 / n, 3), "hit@5": round(h5 / n, 3),
                     "mrr@5": round(rr / n, 3)}
    return out


def baseline_ranker() -> callable:
    """The previous keyword ranking: BM25 over every chunk, no routing, chunks not grouped by page."""
    from sqlmodel import select

    from core.db import session
    from core.models.documents import Document, DocumentChunk
    from core.rag.keyword import KeywordIndex
    from core.rag.query import focus

    with session() as s:
        rows = s.exec(select(DocumentChunk.id, DocumentChunk.document_id, DocumentChunk.text, DocumentChunk.page)).all()
        names = {d.id: Path(d.name).stem for d in s.exec(select(Document)).all()}
    index = KeywordIndex.build([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    where = {r[0]: (names[r[1]], r[3]) for r in rows}

    def rank(question: str) -> list[tuple[str, int]]:
        return [where[cid] for cid, _ in index.top(focus(question), 5)]

    return rank


def bench_quality(questions: list[dict]) -> dict:
    from core import rag

    timings: list[float] = []

    def ours(mode: str) -> callable:
        def rank(question: str) -> list[tuple[str, int]]:
            started = time.perf_counter()
            hits = rag.search(question, k=5, mode=mode)
            timings.append((time.perf_counter() - started) * 1000)
            return ranked_pages(hits)
        return rank

    out = {"hybrid (ours)": score(questions, ours("hybrid")),
           "keyword (ours)": score(questions, ours("keyword")),
           "baseline: previous BM25 over chunks": score(questions, baseline_ranker())}
    out["search_p50_ms"] = round(percentile(timings, 50), 1)
    return out


# -- 3. keyword latency by size ----------------------------------------------------------------
def bench_latency(work: Path, questions: list[str], sizes: list[int], pool: list[str]) -> dict:
    import uuid

    import numpy as np

    from core.rag import fts
    from core.rag.keyword import KeywordIndex
    from core.rag.terms import query_terms

    rng = random.Random(3)
    out = {}
    for chunks in sizes:
        use_data_dir(work / f"latency-{chunks}")
        fts.clear()
        pages_total = chunks // 4
        docs = [uuid.uuid4() for _ in range(max(1, pages_total // 120))]
        started = time.perf_counter()
        texts = []
        for n, doc in enumerate(docs):
            batch = ["\n".join(rng.choice(pool) for _ in range(40)) for _ in range(120)]
            fts.add_pages(doc, list(enumerate(batch, 1)))
            fts.set_profile(doc, {"identity": [f"filler{n}"], "year": None, "quarter": None, "form": None})
            if chunks <= 50_000:
                texts += batch
        fill_s = time.perf_counter() - started
        times = []
        for q in questions:
            started = time.perf_counter()
            fts.search(query_terms(q), 40)
            times.append((time.perf_counter() - started) * 1000)
        row = {"pages": pages_total, "fill_s": round(fill_s, 1), "p50_ms": round(percentile(times, 50), 1),
               "p95_ms": round(percentile(times, 95), 1), "mean_ms": round(statistics.fmean(times), 1)}
        if texts:
            pieces = [t[i:i + 1000] for t in texts for i in range(0, len(t), 1000)][:chunks]
            index = KeywordIndex.build([uuid.uuid4() for _ in pieces], [docs[0]] * len(pieces), pieces)
            base = []
            for q in questions:
                started = time.perf_counter()
                index.top(q, 40)
                base.append((time.perf_counter() - started) * 1000)
            row["baseline_in_memory_bm25_p50_ms"] = round(float(np.median(base)), 1)
        out[f"{chunks:,} chunks"] = row
    return out


def report(r: dict) -> None:
    ix, base = r["indexing"], r["baseline_indexing"]
    print(f"\nmachine: {r['machine']}  (shared machine: other jobs may run beside this one)")
    print(f"\nIndexing {ix['filings']} filings, {ix['pages']} pages: {ix['seconds']} s -> {ix['pages_per_s']} pages/s "
          f"(text extraction alone {ix['extraction_only_pages_per_s']} pages/s, {ix['extraction_share']:.0%} of the time)")
    print(f"  baseline (pypdf + every chunk embedded, {base['pages']} pages, {base['chunks']} chunks): "
          f"{base['pages_per_s']} pages/s (extraction {base['extraction_share']:.0%}, embedding "
          f"{base['embedding_share']:.0%}) -> ratio {ix['pages_per_s'] / max(base['pages_per_s'], 1e-9):.1f}x")
    q = r["quality"]
    print("\nPage retrieval (right filing and evidence page)   tune: hit@1 hit@5 MRR   hold-out: hit@1 hit@5 MRR")
    for name in ("hybrid (ours)", "keyword (ours)", "baseline: previous BM25 over chunks"):
        t, h = q[name]["tune"], q[name]["holdout"]
        print(f"  {name:<44} {t['hit@1']:>5} {t['hit@5']:>5} {t['mrr@5']:>5}   "
              f"{h['hit@1']:>5} {h['hit@5']:>5} {h['mrr@5']:>5}")
    t = q["hybrid (ours)"]
    print(f"  questions: tune {t['tune']['questions']}, hold-out {t['holdout']['questions']}; "
          f"hybrid search p50 {q['search_p50_ms']} ms")
    print("\nKeyword search latency (FTS5, 40 pages per query)")
    for size, row in r["latency"].items():
        extra = (f"; baseline in-memory BM25 p50 {row['baseline_in_memory_bm25_p50_ms']} ms"
                 if "baseline_in_memory_bm25_p50_ms" in row else "")
        print(f"  {size:>18} ({row['pages']:,} pages): p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms "
              f"(fill {row['fill_s']} s){extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="six filings, latency at 50,000 chunks only")
    parser.add_argument("--corpus", type=Path, help="folder with the filings' PDFs and financebench_open_source.jsonl")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--sizes", default="", help="comma-separated chunk counts for the latency stage "
                        "(default 50000,1000000; 50000 with --quick)")
    args = parser.parse_args()
    corpus = find_corpus(args.corpus.resolve() if args.corpus else None)
    if corpus is None:
        print("bench_rag_filings: no filings corpus found (pass --corpus DIR or set FILINGS_CORPUS to a folder with the "
              "FinanceBench PDFs and financebench_open_source.jsonl, from github.com/patronus-ai/financebench); skipped.")
        return 0
    import torch

    torch.set_num_threads(1)
    files, questions = load(corpus, args.quick)
    out_file = args.json.resolve() if args.json else None
    work = Path(tempfile.mkdtemp(prefix="bench-filings-"))
    os.chdir(work)
    try:
        from core.rag.embeddings import _local_model

        _local_model()
        results: dict = {"quick": args.quick, "corpus": str(corpus),
                         "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 1)}}
        results["baseline_indexing"] = bench_baseline_indexing(work, files[0])
        results["indexing"] = bench_indexing(work, files)
        results["quality"] = bench_quality(questions)
        pool = [line for q in questions for e in q["evidence"] for line in e["evidence_text_full_page"].split("\n")
                if len(line.strip()) > 3]
        sizes = ([int(n) for n in args.sizes.split(",") if n.strip()] if args.sizes else
                 [50_000] if args.quick else [50_000, 1_000_000])
        results["latency"] = bench_latency(work, [q["question"] for q in questions][:60], sizes, pool)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results)
    if out_file:
        out_file.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
