"""Images to classify: a zip of new images becomes rows a network reads; odd and hostile members are handled."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from core import storage
from core.datasets.images import images_to_predict
from core.errors import IngestError


def _png(size: int = 6) -> bytes:
    out = io.BytesIO()
    Image.new("L", (size, size), 128).save(out, format="PNG")
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_new_images_become_rows_with_their_names_and_stored_files() -> None:
    frame = images_to_predict(_zip({"a.png": _png(), "shots/b.png": _png(9), "readme.txt": b"hi"}), "new.zip")
    assert list(frame["image"]) == ["a.png", "shots/b.png"] and list(frame["width"]) == [6, 9]
    assert all((storage.data_dir() / f).is_file() for f in frame["file"])
    assert "readme.txt" in frame.attrs["warnings"][0]


@pytest.mark.parametrize(("members", "message"), [
    ({"readme.txt": b"no image"}, "contains no readable image"),
    ({"../../evil.png": _png()}, "contains no readable image"),
    ({"broken.png": b"\x89PNG not really"}, "contains no readable image"),
])
def test_a_zip_without_a_usable_image_is_refused_and_leaves_nothing(members: dict, message: str) -> None:
    before = set(storage.area("images").iterdir())
    with pytest.raises(IngestError, match=message):
        images_to_predict(_zip(members), "bad.zip")
    assert set(storage.area("images").iterdir()) == before


def test_a_file_that_is_not_a_zip_is_named() -> None:
    with pytest.raises(IngestError, match="is not a readable zip archive"):
        images_to_predict(b"PK\x03\x04 truncated", "bad.zip")
