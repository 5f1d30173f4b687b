"""Regular-expression denial of service: every regex fed with user, file or model text stays linear.

Each case builds a hostile input of about 100,000 characters for one pattern (through the function
that uses it) and runs it in a forked child process with a wall-clock timeout, so a regression to
backtracking fails the test instead of hanging the suite. The child reports how long the call took;
linear code needs milliseconds, the old heading regex needed minutes for 4,000 characters.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable
from typing import Any

import pytest

N = 100_000
LIMIT_S = 1.0
TIMEOUT_S = 30
log = logging.getLogger(__name__)


def _sections(text: str) -> object:
    from core.rag.parsers import text_sections

    return list(text_sections(text))


def _clean(text: str) -> object:
    from core.rag.parsers import clean

    return clean(text)


def _sentences(text: str) -> object:
    from core.rag.answer import sentences

    return sentences(text)


def _tokens(text: str) -> object:
    from core.rag.keyword import tokenize

    return tokenize(text)


def _focus(text: str) -> object:
    from core.rag.query import focus

    return focus(text)


def _offline_answer(text: str) -> object:
    import uuid

    from core.rag.answer import extractive_answer
    from core.rag.retrieve import Hit

    hit = Hit(text=text, document="d.txt", page=1, score=1.0, document_id=uuid.uuid4(), chunk_id=uuid.uuid4())
    return extractive_answer("What does a PID value of 6 mean?", [hit])


def _sql_syntax(text: str) -> object:
    from sqlglot.errors import ParseError

    from core.sql.guard import _syntax_error

    return _syntax_error("SELECT", ParseError("bad", errors=[{"description": text}]), "postgres")


def _formula(text: str) -> object:
    from core.stats.factorial import _names

    return _names(text, ["a"])


def _ctx(text: str) -> object:
    from agents.planner import Ctx, Schema

    return Ctx(text=text, low=text.lower(), ds=Schema("1", "sales", {"price": "numeric", "region": "categorical"}))


def _rule(name: str) -> Callable[[str], object]:
    def run(text: str) -> object:
        from agents import planner

        rule = next(r for r in planner.RULES if r.__name__ == name)
        return rule(_ctx(text))
    return run


def _forbidden(text: str) -> object:
    from agents.planner import forbidden

    return forbidden(text)


def _route(text: str) -> object:
    from agents.router import route_offline

    return route_offline(text, [])


def _norm(text: str) -> object:
    from agents.resolve import norm

    return norm(text)


def _highlight(text: str) -> object:
    import uuid

    from core import rag
    from ui.documents_view import highlight_spans

    hit = rag.Hit(text=text, document="d", page=1, score=1.0, document_id=uuid.uuid4(), chunk_id=uuid.uuid4(),
                  start=0, end=len(text))
    answer = rag.Answer(question="q", text=text, citations=[], hits=[hit], found=True, mode="extractive")
    return highlight_spans(text, hit, answer)


def _md_escape(text: str) -> object:
    from ui.safe import escape_markdown, sanitize_reply

    return escape_markdown(text), sanitize_reply(text)


# (id, function, payload): one case per pattern and hostile input
CASES: dict[str, tuple[Callable[[str], object], Callable[[], str]]] = {
    "heading-a-spaces-b": (_sections, lambda: "# a" + " " * N + "b"),
    "heading-space-hash-runs": (_sections, lambda: "# a" + " #" * (N // 2) + "b"),
    "heading-many-hashes": (_sections, lambda: "#" * N + " x"),
    "heading-fence-spaces": (_sections, lambda: " " * N + "x\n# h\n"),
    "clean-trailing-spaces-no-newline": (_clean, lambda: " " * N + "x"),
    "clean-tabs-spaces-mixed": (_clean, lambda: " \t" * (N // 2) + "x\n"),
    "sentences-spaces-after-period": (_sentences, lambda: ". " + " " * N + "a"),
    "sentences-closing-brackets": (_sentences, lambda: "!" + ")" * N + "a"),
    "sentences-bullets": (_sentences, lambda: "\n-" * (N // 2)),
    "tokenize-underscores": (_tokens, lambda: "_a" * (N // 2)),
    "focus-framing-repeated": (_focus, lambda: "what does the document say about " * (N // 33) + "x"),
    "focus-spaces": (_focus, lambda: "tell me" + " " * N + "about"),
    "offline-answer-value-lines": (_offline_answer, lambda: "PID - party\n" + "6 - x\n" * (N // 6)),
    "sql-error-spaces-no-for": (_sql_syntax, lambda: "x" + " " * N + "y"),
    "formula-unclosed-backtick": (_formula, lambda: "`" + "a" * N),
    "planner-sql-selects-no-from": (_rule("rule_sql"), lambda: "select " * (N // 7)),
    "planner-list-datasets": (_rule("rule_list_datasets"), lambda: "which " * (N // 6)),
    "planner-job-status": (_rule("rule_job"), lambda: "job " * (N // 4)),
    "planner-job-status-reversed": (_rule("rule_job"), lambda: "status " * (N // 7)),
    "planner-documents-search-for": (_rule("rule_documents"), lambda: "find in the documents " + "for " * (N // 4)
                                     + "\nx\n"),
    "planner-tests-differ": (_rule("rule_tests"), lambda: "differ " * (N // 7)),
    "planner-predict-use": (_rule("rule_predict"), lambda: "use " * (N // 4)),
    "planner-predict-model-spaces": (_rule("rule_predict"), lambda: "use model" + " " * N + "!"),
    "planner-train-fit": (_rule("rule_train"), lambda: "fit " * (N // 4)),
    "planner-info-what-does": (_rule("rule_info"), lambda: "what does " * (N // 10)),
    "planner-forbidden": (_forbidden, lambda: "delete " * (N // 7)),
    "router-keywords": (_route, lambda: "sq" * (N // 2)),
    "resolve-norm": (_norm, lambda: "_-." * (N // 3) + " " * N),
    "documents-view-citation-split": (_highlight, lambda: "a" + " " * N + "b"),
    "markdown-escape-brackets": (_md_escape, lambda: "![" * (N // 2)),
    "markdown-escape-image-parens": (_md_escape, lambda: "![a](" * (N // 5)),
    "markdown-reply-html-open": (_md_escape, lambda: "<img" * (N // 4)),
    "markdown-reply-ref-definitions": (_md_escape, lambda: "[a]: " * (N // 5)),
    "markdown-reply-verified-20k": (_md_escape, lambda: "![" * 10_000),
    "markdown-reply-code-spans": (_md_escape, lambda: "`a``b" * (N // 5)),
    "markdown-reply-fences": (_md_escape, lambda: "```\n" * (N // 4)),
}


def _timed(fn: Callable[[str], object], text: str, out: Any) -> None:
    from core.errors import WorkbenchError

    started = time.process_time()  # CPU seconds: a backtracking pattern burns CPU; another test's load does not count
    try:
        fn(text)
    except WorkbenchError as exc:  # a clear refusal is a fine outcome; hanging is not
        log.info("refused: %s", exc.message[:80])
    out.put(time.process_time() - started)


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Import every module once in this process, so that each forked child only runs its payload."""
    for fn, _make in CASES.values():
        fn("a")


def _child(case: str) -> float:
    """Run one case in a forked child with a wall-clock timeout; the seconds the call took."""
    fn, make = CASES[case]
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_timed, args=(fn, make(), out), daemon=True)
    child.start()
    child.join(TIMEOUT_S)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"{case}: still running after {TIMEOUT_S} s (catastrophic backtracking)")
    assert child.exitcode == 0, f"{case}: the child failed with exit code {child.exitcode}"
    return float(out.get(timeout=5))


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input_is_linear(case: str) -> None:
    # Given a 20,000 to 100,000-character input built to make a backtracking pattern explode
    assert len(CASES[case][1]()) >= 20_000
    # When the function that applies the pattern runs on it, in a child process with a timeout
    elapsed = _child(case)
    # Then it finishes well under a second
    assert elapsed < LIMIT_S, f"{case} took {elapsed:.2f} s"


def test_heading_detection_still_finds_headings() -> None:
    # Given Markdown with ATX headings, closing hashes and a code fence
    from core.rag.parsers import heading_title, text_sections

    text = "# One ##\nbody\n```\n# not\n```\n## C#\nmore\n####### seven\n"
    # When split / Then the headings are the sections, the fenced line and the 7-hash line are not
    assert [p.label for p in text_sections(text)] == ["One", "C#"]
    assert heading_title("#nospace") is None and heading_title("#   ") is None
