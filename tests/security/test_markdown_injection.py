"""Markdown injection: names, document text and model replies cannot make the browser load anything.

`ui.safe.escape_markdown` / `code_span` render a name as typed; `sanitize_reply` keeps a model
reply's formatting but leaves no image, no hidden link target, no link definition and no raw
HTML. Each hostile string is checked by rendering the result with a CommonMark parser
(markdown-it, as Streamlit's renderer follows CommonMark + GFM) and asserting that no image,
no HTML and (for names) no link or code-span break-out survives.
"""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from ui.safe import code_span, escape_markdown, sanitize_reply

MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")

HOSTILE_NAMES = [
    "![m](http://127.0.0.1:9/x.png)",
    "![m](<http://127.0.0.1:9/x y.png>)",
    '![m](http://127.0.0.1:9/x.png "title")',
    "![m][r]\n\n[r]: http://127.0.0.1:9/x.png",
    "[![m](http://127.0.0.1:9/x.png)](http://127.0.0.1:9/)",
    "<img src=http://127.0.0.1:9/x.png>",
    "<IMG SRC='http://127.0.0.1:9/x.png'/>",
    "<a href='http://127.0.0.1:9/'>x</a>",
    "[click](http://127.0.0.1:9/leak)",
    "<http://127.0.0.1:9/auto>",
    "a`b ![m](http://127.0.0.1:9/x.png) `c",
    "``![m](http://127.0.0.1:9/x.png)``",
    "x\n\n![m](http://127.0.0.1:9/x.png)",
    "\\![m](http://127.0.0.1:9/x.png)",
    "!\\[m](http://127.0.0.1:9/x.png)",
    ":red[![m](http://127.0.0.1:9/x.png)]",
    "$\\href{http://127.0.0.1:9/}{x}$",
    "&lt;img src=x&gt;",
    "# heading\n---\n* list",
]

HOSTILE_REPLIES = [
    "Here is the chart ![s](http://127.0.0.1:9/leak?d=secret)",
    "![s](http://127.0.0.1:9/leak?d=1 'title')",
    "![s][leak]\n\n[leak]: http://127.0.0.1:9/leak?d=2",
    "![leak]\n\n[leak]: <http://127.0.0.1:9/leak?d=3>",
    "   [leak]: http://127.0.0.1:9/leak?d=4\n\n![alt][leak]",
    "[![s](http://127.0.0.1:9/leak?d=5)](http://127.0.0.1:9/)",
    "<img src='http://127.0.0.1:9/leak?d=6'>",
    "<div><img src=http://127.0.0.1:9/leak?d=7></div>",
    "<p>\n<img src=http://127.0.0.1:9/leak?d=8>\n</p>",
    "`code` ![s](http://127.0.0.1:9/leak?d=9) `more`",
    "```\nnot code\n![s](http://127.0.0.1:9/leak?d=10)",
    "````\n```\n````\n![s](http://127.0.0.1:9/leak?d=11)",
    "- item ![s](http://127.0.0.1:9/leak?d=12)\n- two",
    "| a | b |\n|---|---|\n| ![s](http://127.0.0.1:9/leak?d=13) | x |",
    "> quote ![s](http://127.0.0.1:9/leak?d=14)",
    "**bold ![s](http://127.0.0.1:9/leak?d=15)**",
    "!\n[s](http://127.0.0.1:9/leak?d=16)",
    "[see](http://127.0.0.1:9/leak?d=17 \"t\")",
]


def _tokens(markdown: str) -> list:
    out = []
    for token in MD.parse(markdown):
        out.append(token)
        out.extend(token.children or [])
    return out


def _no_images_or_html(markdown: str) -> None:
    kinds = {t.type for t in _tokens(markdown)}
    assert "image" not in kinds, markdown
    assert not kinds & {"html_inline", "html_block"}, markdown


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_escaped_name_is_plain_text(name: str) -> None:
    # Given a hostile column / dataset / heading name / When escaped for Markdown
    shown = escape_markdown(name)
    # Then it renders as one paragraph of text: no image, link, HTML, code break-out or heading
    tokens = _tokens(shown)
    assert {t.type for t in tokens} <= {"paragraph_open", "inline", "text", "paragraph_close", "softbreak"}, shown
    # And the text reads exactly as typed (line breaks as spaces)
    assert "".join(t.content for t in tokens if t.type == "text") == name.replace("\n", " ")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_code_span_holds_any_name(name: str) -> None:
    # Given a name with backticks, brackets or HTML / When put inside inline code
    shown = code_span(name)
    # Then it is exactly one code span whose content is the name
    inline = [t for t in _tokens(shown) if t.type not in ("paragraph_open", "paragraph_close", "inline")]
    assert [t.type for t in inline] == ["code_inline"], shown
    assert inline[0].content in (name.replace("\n", " "), name.replace("\n", " ").strip())


@pytest.mark.parametrize("reply", HOSTILE_REPLIES)
def test_model_reply_loads_nothing(reply: str) -> None:
    # Given a model reply that tries to exfiltrate through an image or raw HTML / When sanitised
    shown = sanitize_reply(reply)
    # Then no image and no HTML survive, and the URL is still visible as text
    _no_images_or_html(shown)
    assert "127.0.0.1:9/" in shown
    hidden = [t for t in _tokens(shown) if t.type == "link_open"]
    assert not hidden, f"a link hides its target: {shown}"


def test_model_reply_keeps_its_formatting() -> None:
    # Given an ordinary reply with bold, a list, a table, code and a link
    reply = ("**Mean price** is 4.2 by `region`:\n\n- north: 3.1\n- south: 5.3\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
             "```sql\nSELECT a < 5 FROM t -- ![x](y)\n```\nSee [the docs](https://example.org/docs).")
    # When sanitised
    shown = sanitize_reply(reply)
    kinds = {t.type for t in _tokens(shown)}
    # Then the formatting is still there, the code block is untouched except the image opener, the link shows its URL
    assert {"strong_open", "bullet_list_open", "table_open", "code_inline", "fence"} <= kinds
    assert "SELECT a < 5 FROM t" in shown
    assert "the docs (`https://example.org/docs`)" in shown
    assert "image" not in kinds


def test_plain_reply_is_unchanged() -> None:
    text = "There are 12 rows and 3 columns in sales (price, region, units). Mean price: 4.20."
    assert sanitize_reply(text) == text


_PAD = "\n\n" + "lorem ipsum " * 2000  # past the 20,000 characters a reply is parsed to verify it
LONG_REPLIES = [
    "`\n\n[click](http://127.0.0.1:9/p) <img src=http://127.0.0.1:9/x.png>\n\n`",
    "\\`[click](http://127.0.0.1:9/p) <img src=http://127.0.0.1:9/x.png>`",
    "- `a\n- [click](http://127.0.0.1:9/p) <img src=x>`",
    "# `a\n[click](http://127.0.0.1:9/p)`",
    "|a|b|\n|-|-|\n|`x|[click](http://127.0.0.1:9/p) `|",
    "> ```\n[click](http://127.0.0.1:9/p)\n```",
    "``` a`b\n[click](http://127.0.0.1:9/p)\n```",
    "<div>\n`\n</div>\n\n[click](http://127.0.0.1:9/p)`",
]


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("reply", LONG_REPLIES)
def test_long_model_reply_loads_nothing(reply: str, where: str) -> None:
    # Given a hostile reply made too long to verify by a parse (padding before or after it)
    long_reply = reply + _PAD if where == "after" else _PAD + "\n\n" + reply
    # When sanitised
    shown = sanitize_reply(long_reply)
    # Then no image, no HTML and no link hiding its target survive, and the URL is still visible as text
    _no_images_or_html(shown)
    assert "127.0.0.1:9/p" in shown
    hidden = [t for t in _tokens(shown) if t.type == "link_open"]
    assert not hidden, f"a link hides its target: {shown[:300]}"
