"""Archives: one data file out of a .gz or a .zip, extracted under the expansion cap.

An archive may expand to at most EXPANSION_FACTOR x MAX_UPLOAD_MB; the copy stops as soon as it
passes that, so a zip bomb costs at most the cap in disk and never memory.
"""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from pathlib import Path
from typing import Any

from core.config import get_settings
from core.errors import IngestError, InvalidInput, TooLarge

EXPANSION_FACTOR = 5  # archives may hold at most 5 x MAX_UPLOAD_MB of uncompressed data
# what a damaged or unusual archive raises from zipfile, gzip and zlib
ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError, ValueError)


def expanded_limit() -> int:
    """Most bytes an archive may expand to."""
    return EXPANSION_FACTOR * get_settings().max_upload_mb * 1024 * 1024


def _copy_capped(src: io.BufferedIOBase | Any, dst: Path, filename: str) -> None:
    limit, written = expanded_limit(), 0
    with dst.open("wb") as out:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise TooLarge(f"{filename} expands to more than {limit // (1 << 20)} MB (a zip bomb or a very "
                               "large file).", hint="Import the uncompressed file or raise MAX_UPLOAD_MB.")
            out.write(chunk)


def zip_members(path: Path) -> list[str]:
    """The data files of a zip archive (folders, macOS resource forks and hidden files left out)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [i.filename for i in zf.infolist()
                    if not i.is_dir() and not i.filename.startswith("__MACOSX/")
                    and not Path(i.filename).name.startswith(".")]
    except ARCHIVE_ERRORS as exc:
        raise IngestError(f"{path.name} is a damaged zip archive.", hint="Download or export it again.") from exc


def extract(path: Path, fmt: str, filename: str, tmp_dir: Path, member: str | None) -> tuple[str, Path]:
    """Extract the one data file (or `member`) into `tmp_dir`; return its name and where it is."""
    if fmt == "gzip":
        return _gunzip(path, filename, tmp_dir)
    members = zip_members(path)
    if not members:
        raise IngestError(f"The archive {filename} contains no files.", hint="Choose an archive with one data file.")
    if member is None and len(members) > 1:
        raise IngestError(f"The archive {filename} contains {len(members)} files: {', '.join(members[:10])}.",
                          hint="Choose which file to import, or upload that file alone.")
    chosen = member or members[0]
    if chosen not in members:
        raise InvalidInput(f"The archive {filename} has no file {chosen!r}.", hint=f"Files: {', '.join(members[:20])}")
    target = tmp_dir / "inner"
    try:
        with zipfile.ZipFile(path) as zf, zf.open(chosen) as src:
            _copy_capped(src, target, filename)
    except ARCHIVE_ERRORS as exc:
        raise IngestError(f"{filename} could not be extracted: {exc}", hint="Zip it again without encryption.") from exc
    return Path(chosen).name, target


def _gunzip(path: Path, filename: str, tmp_dir: Path) -> tuple[str, Path]:
    inner_name = Path(filename).stem if filename.lower().endswith(".gz") else f"{filename}.data"
    target = tmp_dir / "inner"
    try:
        with gzip.open(path, "rb") as src:
            _copy_capped(src, target, filename)
    except ARCHIVE_ERRORS as exc:
        raise IngestError(f"{filename} is a damaged gzip file: {exc}", hint="Download it again.") from exc
    return inner_name, target
