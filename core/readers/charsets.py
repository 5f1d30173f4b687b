"""Text encodings: which one a file is in (from its first bytes), and a UTF-8 copy for DuckDB to read.

DuckDB reads UTF-8 only (without its encodings extension, which is never loaded here), so a file in
any other encoding is transcoded once, streamed in 1 MB blocks, into a temporary UTF-8 file. Detection
covers what analysts bring: UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern), Shift-JIS,
GB18030, Windows-1252 and Latin-1. The label shown to the analyst says which it was.
"""

from __future__ import annotations

import codecs
from pathlib import Path

LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with BOM)", "utf-16": "UTF-16", "utf-16-le": "UTF-16 LE",
          "utf-16-be": "UTF-16 BE", "cp932": "Shift-JIS", "shift_jis": "Shift-JIS", "gb18030": "GB18030",
          "cp1252": "Windows-1252", "latin-1": "Latin-1"}
_BLOCK = 1 << 20


def label(encoding: str) -> str:
    """A name of the encoding an analyst recognises."""
    return LABELS.get(normal(encoding), encoding)


def normal(encoding: str) -> str:
    """Python's codec name of `encoding` in the spelling used here ('UTF8' -> 'utf-8', 'sjis' -> 'cp932')."""
    name = codecs.lookup(encoding).name
    return {"utf-8": "utf-8", "shift_jis": "cp932", "iso8859-1": "latin-1", "latin-1": "latin-1"}.get(name, name)


def is_utf8(encoding: str) -> bool:
    return normal(encoding) in ("utf-8", "utf-8-sig")


def detect(head: bytes) -> str:
    """The encoding of a file from its first bytes: a BOM, a NUL pattern, valid UTF-8, else a legacy code page."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
        return "utf-16-le"
    if len(head) >= 4 and head[0::2].count(0) > len(head) // 4 and head[1::2].count(0) == 0:
        return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return legacy(head)


def legacy(data: bytes) -> str:
    """Shift-JIS, GB18030, Windows-1252 or Latin-1 for bytes that are not UTF-8.

    Japanese and Chinese text come as pairs of high bytes; Western text has lone high bytes between letters,
    which would also decode as a few CJK characters, so the pairs are what tells them apart.
    """
    cut = data.rfind(b"\n")
    data = data[: cut + 1] if cut > 0 else data  # a multi-byte character may be cut at the end of the sample
    high = [i for i, b in enumerate(data) if b >= 0x80]
    paired = sum(1 for i in high if (i + 1 < len(data) and data[i + 1] >= 0x80) or (i and data[i - 1] >= 0x80))
    if high and paired / len(high) >= 0.5:
        for encoding, accept in (("cp932", _japanese), ("gb18030", _chinese)):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if accept(text):
                return encoding
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _non_ascii(text: str) -> list[str]:
    return [ch for ch in text if ord(ch) > 127]


def _japanese(text: str) -> bool:
    chars = _non_ascii(text)
    kana = sum(1 for ch in chars if "\u3040" <= ch <= "\u30ff")
    cjk = sum(1 for ch in chars if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff01" <= ch <= "\uff5e")
    halfwidth = sum(1 for ch in chars if "\uff61" <= ch <= "\uff9f")
    return bool(chars) and kana > 0 and (kana + cjk) / len(chars) >= 0.8 and halfwidth / len(chars) < 0.1


def _chinese(text: str) -> bool:
    chars = _non_ascii(text)
    cjk = sum(1 for ch in chars if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff01" <= ch <= "\uff5e")
    return bool(chars) and cjk / len(chars) >= 0.8


def transcode(source: Path, target: Path, encoding: str) -> int:
    """Write `source` decoded from `encoding` as UTF-8 (no BOM) to `target`; return the bytes that had to be
    replaced because they were not valid in that encoding."""
    decoder = codecs.getincrementaldecoder(normal(encoding))(errors="replace")
    replaced = 0
    with source.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        first = True
        while block := src.read(_BLOCK):
            text = decoder.decode(block)
            if first:
                text, first = text.removeprefix("\ufeff"), False
            replaced += text.count("\ufffd")
            dst.write(text)
        tail = decoder.decode(b"", final=True)
        replaced += tail.count("\ufffd")
        dst.write(tail)
    return replaced


def first_invalid_utf8(path: Path) -> int | None:
    """The byte offset of the first byte that is not valid UTF-8, or None (streamed in 1 MB blocks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset
    return None
