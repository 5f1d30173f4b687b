"""Image datasets: a zip of class-named folders becomes rows (file, label, width, height), images under DATA_DIR.

    cats/1.png, cats/2.png, dogs/a.jpg ...  ->  file | label | width | height

Each member is decoded with Pillow (which reads pixels only; nothing in an image runs) before it is kept;
corrupt images and non-image files are skipped and listed in the dataset's notes, an archive with one
class or no image is refused, and mixed sizes are noted (training resizes them). The zip may expand to at
most the archive cap of `core.readers.archives`, and each image to MAX_PIXELS, so a bomb costs nothing.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from PIL import Image, UnidentifiedImageError

from core import storage
from core.datasets.store import check_size, default_name, store_table
from core.errors import IngestError
from core.models.dataset import Dataset
from core.readers.archives import ARCHIVE_ERRORS, expanded_limit

COLUMNS = ("file", "label", "width", "height")
SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
MAX_PIXELS = 25_000_000
MAX_IMAGES = 100_000


def import_image_zip(data: bytes, filename: str, *, name: str | None = None) -> Dataset:
    """Import a zip of class folders as an image dataset; raises IngestError naming what is wrong."""
    check_size(len(data), what=f"The file {filename}")
    key = uuid.uuid4().hex
    folder = storage.area("images") / key
    folder.mkdir()
    try:
        rows, notes = _extract(data, filename, folder)
        frame = pd.DataFrame(rows, columns=list(COLUMNS))
        _check_classes(frame, filename)
        sizes = frame[["width", "height"]].drop_duplicates()
        if len(sizes) > 1:
            notes.append(f"The images have {len(sizes)} different sizes; training resizes them to one size.")
        return store_table(pa.Table.from_pandas(frame, preserve_index=False), name=name or default_name(filename),
                           source="images", source_detail=filename, fmt="images", notes=notes)
    except BaseException:
        storage.remove_tree(folder)
        raise


def images_to_predict(data: bytes, filename: str) -> pd.DataFrame:
    """New images to classify, from a zip (folders optional): rows `image` (the name in the zip), `file`,
    `width`, `height`, with the images kept under DATA_DIR like an imported dataset's. Raises IngestError when
    nothing in it is a readable image; unreadable members are listed in the frame's `attrs["warnings"]`."""
    check_size(len(data), what=f"The file {filename}")
    folder = storage.area("images") / f"predict-{uuid.uuid4().hex}"
    folder.mkdir()
    try:
        rows, notes = _extract(data, filename, folder, labelled=False)
        if not rows:
            raise IngestError(f"{filename} contains no readable image.",
                              hint="Zip the .png or .jpg images to classify.")
    except BaseException:
        storage.remove_tree(folder)
        raise
    frame = pd.DataFrame(rows, columns=["file", "image", "width", "height"])[["image", "file", "width", "height"]]
    frame.attrs["warnings"] = notes
    return frame


def _extract(data: bytes, filename: str, folder: Path, *,
             labelled: bool = True) -> tuple[list[tuple[str, str, int, int]], list[str]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except ARCHIVE_ERRORS as exc:
        raise IngestError(f"{filename} is not a readable zip archive.", hint="Zip the class folders again.") from exc
    rows: list[tuple[str, str, int, int]] = []
    skipped: list[str] = []
    budget = expanded_limit()
    with archive:
        members = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")
                   and not PurePosixPath(i.filename).name.startswith(".")]
        if len(members) > MAX_IMAGES:
            raise IngestError(f"{filename} holds {len(members):,} files, over the limit of {MAX_IMAGES:,}.")
        for info in members:
            budget -= info.file_size
            if budget < 0:
                raise IngestError(f"{filename} expands to more than {expanded_limit() >> 20} MB.",
                                  hint="Import fewer or smaller images.")
            row = _member(archive, info, folder, skipped, labelled=labelled)
            if row:
                rows.append(row)
    notes = [f"Skipped {len(skipped)} file(s) that are not readable images: {', '.join(skipped[:10])}."] if skipped else []
    return rows, notes


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, folder: Path, skipped: list[str], *,
            labelled: bool = True) -> tuple[str, str, int, int] | None:
    """(stored file, label, width, height); unlabelled (prediction) rows carry the member's name as label."""
    parts = PurePosixPath(info.filename.replace("\\", "/")).parts
    if (labelled and len(parts) < 2) or not parts or PurePosixPath(parts[-1]).suffix.lower() not in SUFFIXES \
            or ".." in parts:
        skipped.append(info.filename[:100])
        return None
    label = parts[-2][:200] if labelled else "/".join(parts)[:300]
    try:
        with archive.open(info) as fh:
            raw = fh.read(info.file_size + 1)
        with Image.open(io.BytesIO(raw)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ValueError("too many pixels")
            img.load()
            width, height = img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, *ARCHIVE_ERRORS):
        skipped.append(info.filename[:100])
        return None
    target = folder / f"{uuid.uuid4().hex}{PurePosixPath(parts[-1]).suffix.lower()}"  # never a name from the zip
    target.write_bytes(raw)
    return storage.relative(target), label, int(width), int(height)


def _check_classes(frame: pd.DataFrame, filename: str) -> None:
    if frame.empty:
        raise IngestError(f"{filename} contains no readable image.",
                          hint="Zip one folder per class, each holding .png or .jpg images.")
    labels = frame["label"].unique()
    if len(labels) < 2:
        raise IngestError(f"{filename} has one class only ({labels[0]!r}): a classifier needs at least two.",
                          hint="Put each class's images in its own folder, e.g. cats/ and dogs/.")


def load_pixels(files: pd.Series, size: tuple[int, int], channels: int) -> np.ndarray:
    """Images as float32 arrays (n, channels, height, width) in 0..1, resized to `size`; paths checked to lie
    inside DATA_DIR/images."""
    base = storage.area("images")
    out = np.zeros((len(files), channels, size[1], size[0]), "float32")
    mode = "L" if channels == 1 else "RGB"
    for i, stored in enumerate(files):
        path = storage.inside(base, storage.absolute(str(stored)))
        try:
            with Image.open(path) as img:
                pixels = np.asarray(img.convert(mode).resize(size), dtype="float32") / 255.0
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
            raise IngestError(f"The image {Path(str(stored)).name} cannot be read.",
                              hint="Import the image dataset again.") from exc
        out[i] = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    return out


def image_mode(files: pd.Series) -> int:
    """1 when every sampled image is greyscale, else 3."""
    base = storage.area("images")
    for stored in list(files)[:50]:
        with Image.open(storage.inside(base, storage.absolute(str(stored)))) as img:
            if img.mode not in ("L", "1", "LA", "I", "I;16"):
                return 3
    return 1


def describe(frame: pd.DataFrame) -> dict[str, Any]:
    """Sizes and classes of an image dataset's rows."""
    return {"images": len(frame), "classes": sorted(map(str, frame["label"].unique())),
            "sizes": frame[["width", "height"]].drop_duplicates().to_dict("records")[:20]}
