"""A project's summary: facts first (deterministic, offline), then optionally a written summary.

The facts are datasets and their shapes, main profile alerts, significant tests with effect sizes,
best models with scores and the findings, each tied to the item it comes from. With a language
model configured, `summary(..., llm=True)` asks it to write from those numbered facts only; every
citation must name a fact, the reply is kept as a note, and nothing in it is ever run.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic import BaseModel

from core.config import get_settings
from core.errors import LLMError
from core.numfmt import format_number, format_p
from core.projects import store
from core.projects.methodology import Step, methodology
from core.untrusted import RULE, fence

MAX_ALERTS = 5
_CITE = re.compile(r"\[(\d{1,3})\]")
SYSTEM_PROMPT = (
    "You summarise a data-analysis project for an analyst. Write 3 to 8 short sentences in Markdown, using only "
    "the numbered facts given. End every sentence with the number of the fact it comes from, like [2]. "
    "Do not add numbers, causes or advice that the facts do not state. " + RULE
)


class Fact(BaseModel):
    number: int
    text: str
    item_type: str
    item_id: str


class Summary(BaseModel):
    """The summary's text, the facts it cites, and how it was made (`offline` or `llm`)."""

    project_id: str
    text: str
    facts: list[Fact]
    cited: list[Fact]
    mode: str = "offline"
    note_id: str | None = None


def facts(ref: uuid.UUID | str) -> list[Fact]:
    """The numbered facts of a project, in methodology order, then its findings."""
    texts: list[tuple[str, str, str]] = []
    for step in methodology(ref):
        texts += _step_facts(step)
    for note in store.notes(ref, kind="finding"):
        texts.append((f"Finding: {note.text[:500]}", "note", str(note.id)))
    return [Fact(number=i, text=t, item_type=kind, item_id=key) for i, (t, kind, key) in enumerate(texts, start=1)]


def _step_facts(step: Step) -> list[tuple[str, str, str]]:
    key = (step.item_type, step.item_id)
    if step.kind == "import":
        out = [(f"Dataset {step.dataset_name!r} was imported with {step.result}.", *key)]
        return out + [(f"Profile alert on {step.dataset_name!r}: {a}", *key) for a in _alerts(step.dataset_id)]
    if step.kind == "clean":
        return [(f"Cleaning of {step.dataset_name!r}: {step.result}.", *key)]
    if step.kind == "test" and step.metrics.get("significant"):
        effect = step.metrics.get("effect_size")
        size = f", effect size {format_number(effect, 3)}" if effect is not None else ""
        cols = ", ".join(f"{k}={v}" for k, v in (step.parameters.get("params") or {}).items())
        return [(f"Significant {step.parameters['test']} test ({cols}) on {step.dataset_name!r}: "
                 f"p = {format_p(step.metrics['p_value'])}{size}.", *key)]
    if step.kind == "train":
        return [(f"Model for {step.parameters['target']!r} on {step.dataset_name!r}: {step.result}.", *key)]
    if step.kind == "missing":
        return [(step.result, *key)]
    return []


def _alerts(dataset_id: str | None) -> list[str]:
    """The first profile alerts, if the dataset was profiled (computing a profile here would be slow)."""
    if dataset_id is None:
        return []
    from core import eda
    from core.errors import WorkbenchError

    try:
        prof = eda.cached_profile(dataset_id)
    except WorkbenchError:
        return []
    return [a.message for a in eda.alerts(prof)[:MAX_ALERTS]] if prof is not None else []


def summary(ref: uuid.UUID | str, *, llm: bool | None = None, save: bool = True) -> Summary:
    """The project's summary: offline from the facts, or written by the LLM (`llm=None`: when configured).

    A written summary is saved as a note (`save`); an LLM failure falls back to the offline text only when
    `llm` was None, and raises LLMError when it was asked for explicitly.
    """
    project = store.get_project(ref)
    numbered = facts(project.id)
    use_llm = _configured() if llm is None else llm
    if use_llm and numbered:
        try:
            return _written(project, numbered, save=save)
        except LLMError:
            if llm:
                raise
    return _offline(project, numbered)


def _offline(project: Any, numbered: list[Fact]) -> Summary:
    if not numbered:
        text = f"The project {project.name!r} has no results yet."
    else:
        text = "\n".join(f"- {f.text} [{f.number}]" for f in numbered)
    return Summary(project_id=str(project.id), text=text, facts=numbered, cited=numbered, mode="offline")


def _configured() -> bool:
    key = get_settings().openai_api_key
    return key is not None and bool(key.get_secret_value().strip())


def _client() -> Any:
    """The OpenAI SDK client for the configured endpoint (not `core.rag`'s: importing that loads the RAG stack)."""
    import openai

    settings = get_settings()
    if not _configured():
        raise LLMError("No language model is configured.", hint="Set OPENAI_API_KEY (and OPENAI_BASE_URL).")
    return openai.OpenAI(api_key=settings.openai_api_key.get_secret_value(), base_url=settings.openai_base_url or None,
                         timeout=settings.llm_timeout_s, max_retries=1)


def _written(project: Any, numbered: list[Fact], *, save: bool) -> Summary:
    import openai

    body = "\n".join(f"[{f.number}] {f.text}" for f in numbered)
    try:
        reply = _client().chat.completions.create(
            model=get_settings().llm_model, temperature=0,
            messages=[{"role": "system", "content": SYSTEM_PROMPT},
                      {"role": "user", "content": "Facts:\n" + fence("project facts", body)}])
        text = (reply.choices[0].message.content or "").strip()
    except openai.OpenAIError as exc:
        status = getattr(exc, "status_code", None)
        raise LLMError(f"The language model failed: {type(exc).__name__}" + (f" (HTTP {status})." if status else "."),
                       hint="Check OPENAI_BASE_URL, OPENAI_API_KEY and LLM_MODEL, or try again.") from exc
    except (ValueError, IndexError, AttributeError) as exc:
        raise LLMError("The language model sent a reply that could not be read.") from exc
    return _grounded(project, numbered, text, save=save)


def _grounded(project: Any, numbered: list[Fact], text: str, *, save: bool) -> Summary:
    """Keep the reply only if it cites facts; citations of facts that do not exist are removed."""
    valid = {f.number: f for f in numbered}
    text = _CITE.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", text).strip()
    cited_numbers = list(dict.fromkeys(int(n) for n in _CITE.findall(text)))
    if not text or not cited_numbers:
        raise LLMError("The language model's summary cited none of the project's facts, so it was not kept.")
    cited = [valid[n] for n in cited_numbers]
    references = "\n".join(f"[{f.number}] {f.item_type} {f.item_id}" for f in cited)
    note_id = None
    if save:
        note = store.add_note(project.id, f"**Summary**\n\n{text}\n\nSources:\n{references}", kind="note")
        note_id = str(note.id)
    return Summary(project_id=str(project.id), text=text, facts=numbered, cited=cited, mode="llm", note_id=note_id)
