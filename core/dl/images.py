"""Images of an image dataset (rows file, label, width, height) as training arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.datasets.images import COLUMNS, image_mode, load_pixels

__all__ = ["COLUMNS", "load_files", "load_with"]


def load_files(frame: pd.DataFrame, image_size: int) -> tuple[np.ndarray, dict[str, Any], list[str]]:
    """Pixels of every row's image; one size kept when all share it (up to 128 px), else resized to `image_size`."""
    sizes = frame[["width", "height"]].drop_duplicates()
    notes: list[str] = []
    if len(sizes) == 1 and max(int(sizes.iloc[0, 0]), int(sizes.iloc[0, 1])) <= 128:
        size = (int(sizes.iloc[0, 0]), int(sizes.iloc[0, 1]))
    else:
        size = (image_size, image_size)
        notes.append(f"Images of {len(sizes)} size(s) were resized to {image_size}x{image_size}.")
    channels = image_mode(frame["file"])
    schema = {"kind": "image", "source": "files", "size": list(size), "channels": channels,
              "shape": [channels, size[1], size[0]], "scale": 1.0}
    return load_pixels(frame["file"], size, channels), schema, notes


def load_with(frame: pd.DataFrame, schema: dict[str, Any]) -> np.ndarray:
    """Pixels of new rows, as the model was trained (same size and channels)."""
    return load_pixels(frame["file"], tuple(schema["size"]), int(schema["channels"]))
