"""Browser: import a zip of class folders on the Datasets page, train a small CNN on the Models page, watch its
loss curve, then classify a zip of new images and download the predictions."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tests.e2e.conftest import wait_for_app, wait_for_cell

pytestmark = pytest.mark.e2e


def _png(level: int, rng: np.random.Generator) -> bytes:
    pixels = np.clip(rng.normal(level, 12, (8, 8)), 0, 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(out, format="PNG")
    return out.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_image_zip_to_cnn_with_a_live_curve_and_predictions(app, page, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train = {f"{label}/{i}.png": _png(level, rng) for label, level in (("dark", 40), ("light", 210)) for i in range(16)}
    train["notes.txt"] = b"not an image"
    # Given an image zip imported on the Datasets page's Images tab
    page.goto(app.page_url("Datasets"))
    wait_for_app(page)
    page.get_by_role("tab", name="Images").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"][accept="application/streamlit,.zip"]').set_input_files(
        str(_zip(tmp_path / "shades.zip", train)))
    page.get_by_role("button", name="Import images").click()
    wait_for_cell(page, "dark", timeout=60_000)
    assert page.get_by_text("not readable images").count() >= 1  # the text file is skipped and noted
    # When a small CNN is trained on the Models page's Deep learning section
    page.goto(app.page_url("Models"))
    wait_for_app(page)
    page.locator('[data-testid="stRadio"]').first.get_by_text("Deep learning", exact=True).click(timeout=120_000)  # the first run of Models imports the frameworks
    wait_for_app(page)
    for label, value in (("Resize mixed sizes to (pixels)", "8"), ("Epochs", "6"), ("Batch size", "8"),
                         ("Learning rate", "0.01"), ("Units per layer", "8")):
        field = page.get_by_label(label, exact=True)
        field.fill(value)
        field.press("Tab")
    wait_for_app(page)
    page.get_by_role("button", name="Train network").click()
    # Then the job's loss curve is drawn and the model can be opened
    page.get_by_role("button", name="Open the model").wait_for(timeout=240_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)  # plotly.js draws after the button shows
    assert page.locator(".js-plotly-plot").count() >= 1
    page.get_by_role("button", name="Open the model").click()
    page.get_by_role("button", name="Download weights (.safetensors)").wait_for(timeout=120_000)  # the Models section, after its evaluation
    wait_for_app(page)
    # When a zip of new images is classified on the Predict section
    page.locator('[data-testid="stRadio"]').first.get_by_text("Predict", exact=True).click(timeout=90_000)  # after the model page ran its evaluation
    wait_for_app(page)
    new = _zip(tmp_path / "new.zip", {"a.png": _png(35, rng), "b.png": _png(220, rng)})
    page.get_by_text("Images to classify").wait_for(timeout=60_000)  # the section knows the model takes images
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(new))
    page.get_by_text("Ready to predict new.zip").wait_for(timeout=60_000)
    page.get_by_role("button", name="Predict", exact=True).click()
    # Then each image gets a predicted class, downloadable as CSV
    button = page.get_by_role("button", name="Download predictions (CSV)")
    button.wait_for(timeout=60_000)
    with page.expect_download() as info:
        button.click()
    result = pd.read_csv(info.value.path())
    assert list(result["image"]) == ["a.png", "b.png"]
    assert set(result["prediction"]) <= {"dark", "light"} and {"probability_dark", "probability_light"} <= set(result)
