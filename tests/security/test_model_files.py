"""Model files: a replaced, forged, swapped or re-signed file never runs code, and is refused clearly.

Each payload would create a marker file if it ran; every case asserts the clear refusal AND that the
marker does not exist.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import skops.io as sio
from sqlmodel import select

from core import datasets, ml, storage
from core.db import session
from core.errors import ModelError
from core.ml import artifacts, modelfile, signing
from core.models.ml import MLModel


class Touch:
    """A pickle payload: unpickling it creates `path`."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple:
        return open, (self.path, "w")


class EvilState:
    """A skops payload: building it (its __setstate__) creates the marker in its state."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __setstate__(self, state: dict) -> None:
        Path(state["path"]).touch()
        self.__dict__.update(state)


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "payload-ran"


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLModel:
    """A trained model, its key file outside DATA_DIR (in the test's own config folder)."""
    monkeypatch.setenv("MODEL_KEY_FILE", str(tmp_path / "config" / "model.key"))
    from core.config import reload_settings

    reload_settings()
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"tenure": rng.integers(1, 60, 60), "plan": rng.choice(["a", "b"], 60)})
    frame["churn"] = np.where(frame["tenure"] < 25, "yes", "no")
    ds = datasets.store_table(pa.Table.from_pandas(frame), name="churn", source="test")
    run = ml.train(ds.id, target="churn", models=["decision_tree"], cv=2)
    return ml.get_model(run.best_model_id)


def replace_file(model: MLModel, blob: bytes, *, update_sha: bool = True) -> None:
    """What an attacker with write access to DATA_DIR (and the SQLite file in it) does."""
    artifacts.artifact_file(model).write_bytes(blob)
    if update_sha:
        with session() as s:
            row = s.get(MLModel, model.id)
            row.sha256 = hashlib.sha256(blob).hexdigest()
            s.add(row)


def _pickle(marker: Path) -> bytes:
    return pickle.dumps(Touch(marker), protocol=5)


def _joblib(marker: Path) -> bytes:
    buf = io.BytesIO()
    joblib.dump(Touch(marker), buf, compress=3)
    return buf.getvalue()


def _pickle_protocol0(marker: Path) -> bytes:
    return pickle.dumps(Touch(marker), protocol=0)


def _magic_then_pickle(marker: Path) -> bytes:
    """Our magic with a pickle where the header should be."""
    return modelfile.MAGIC + _pickle(marker)


def _forged_envelope_pickle(marker: Path, model_id: str) -> bytes:
    """A well-formed envelope whose payload is a pickle and whose tag is made up."""
    head = f'{{"format": "skops", "model_id": "{model_id}", "hmac": "{"0" * 64}"}}'.encode()
    return modelfile.MAGIC + len(head).to_bytes(4, "big") + head + _pickle(marker)


PICKLES: dict[str, Callable[..., bytes]] = {
    "pickle-protocol-5": _pickle, "joblib-compressed": _joblib, "pickle-protocol-0": _pickle_protocol0,
    "magic-then-pickle": _magic_then_pickle,
}


@pytest.mark.parametrize("make", list(PICKLES.values()), ids=list(PICKLES))
def test_a_malicious_pickle_with_its_sha256_replaced_is_refused(model: MLModel, marker: Path, make) -> None:
    # Given the model file replaced by a pickle payload and the sha256 column set to match it
    replace_file(model, make(marker))
    # When the model is used, Then it is refused with a clear message and the payload never ran
    with pytest.raises(ModelError, match=r"old pickle format|changed since it was saved|damaged"):
        ml.predict(model.id, pd.DataFrame({"tenure": [3], "plan": ["a"]}))
    assert not marker.exists()


def test_a_forged_envelope_around_a_pickle_is_refused(model: MLModel, marker: Path) -> None:
    replace_file(model, _forged_envelope_pickle(marker, str(model.id)))
    with pytest.raises(ModelError, match="changed since it was saved"):
        artifacts.load_pipeline(ml.get_model(model.id))
    assert not marker.exists()


def test_an_old_joblib_model_on_disk_asks_to_retrain(model: MLModel, marker: Path) -> None:
    # Given a genuine model saved by an earlier version (joblib), its sha256 matching
    pipe = modelfile.load(model.id, artifacts.artifact_file(model).read_bytes(), name=model.name)
    buf = io.BytesIO()
    joblib.dump(pipe, buf, compress=3)
    replace_file(model, buf.getvalue())
    # When it is evaluated, Then the message says why it is not opened and what to do
    with pytest.raises(ModelError, match="old pickle format") as info:
        ml.evaluate(model.id)
    assert "Train the model again" in info.value.hint


def _signed(model: MLModel, payload: bytes) -> bytes:
    """A correctly signed envelope (as if the key had leaked) around any skops payload."""
    tag = signing.tag(modelfile.MAGIC, str(model.id).encode(), b"skops", payload)
    head = f'{{"format": "skops", "model_id": "{model.id}", "hmac": "{tag}"}}'.encode()
    return modelfile.MAGIC + len(head).to_bytes(4, "big") + head + payload


def _evil_object(marker: Path) -> bytes:
    return sio.dumps(EvilState(marker))


def _os_system_function(marker: Path) -> bytes:
    from sklearn.preprocessing import FunctionTransformer

    return sio.dumps(FunctionTransformer(func=os.system, kw_args={"command": f"touch {marker}"}))


def _evil_inside_a_pipeline(marker: Path) -> bytes:
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier

    pipe = Pipeline([("model", DecisionTreeClassifier())])
    pipe.evil = EvilState(marker)
    return sio.dumps(pipe)


SKOPS: dict[str, Callable[[Path], bytes]] = {
    "custom-class-setstate": _evil_object, "os-system-function": _os_system_function,
    "evil-attribute-in-pipeline": _evil_inside_a_pipeline,
}


@pytest.mark.parametrize("make", list(SKOPS.values()), ids=list(SKOPS))
def test_a_skops_file_with_an_untrusted_type_is_refused(model: MLModel, marker: Path, make) -> None:
    # Given a correctly signed file whose skops payload holds a type our pipelines never contain
    replace_file(model, _signed(model, make(marker)))
    # When it is loaded, Then skops is not allowed to build it
    with pytest.raises(ModelError, match="types the workbench does not trust"):
        artifacts.load_pipeline(ml.get_model(model.id))
    assert not marker.exists()


def _flip_payload_byte(model: MLModel, blob: bytes) -> bytes:
    return blob[:-10] + bytes([blob[-10] ^ 1]) + blob[-9:]


def _other_key(model: MLModel, blob: bytes) -> bytes:
    """The same payload signed with a key the attacker chose."""
    import hmac

    body = blob[len(modelfile.MAGIC) + 4 + int.from_bytes(blob[8:12], "big"):]
    mac = hmac.new(b"attacker-key" * 4, digestmod=hashlib.sha256)
    for part in (modelfile.MAGIC, str(model.id).encode(), b"skops", body):
        mac.update(len(part).to_bytes(8, "big") + part)
    head = f'{{"format": "skops", "model_id": "{model.id}", "hmac": "{mac.hexdigest()}"}}'.encode()
    return modelfile.MAGIC + len(head).to_bytes(4, "big") + head + body


def _hmac_removed(model: MLModel, blob: bytes) -> bytes:
    body = blob[len(modelfile.MAGIC) + 4 + int.from_bytes(blob[8:12], "big"):]
    head = f'{{"format": "skops", "model_id": "{model.id}"}}'.encode()
    return modelfile.MAGIC + len(head).to_bytes(4, "big") + head + body


TAMPERED: dict[str, Callable[[MLModel, bytes], bytes]] = {
    "payload-byte-flipped": _flip_payload_byte, "signed-with-another-key": _other_key, "tag-removed": _hmac_removed,
}


@pytest.mark.parametrize("make", list(TAMPERED.values()), ids=list(TAMPERED))
def test_a_tampered_signature_is_refused(model: MLModel, make) -> None:
    # Given the file altered and its sha256 column updated to match
    replace_file(model, make(model, artifacts.artifact_file(model).read_bytes()))
    # Then the signature check refuses it
    with pytest.raises(ModelError, match="changed since it was saved"):
        artifacts.load_pipeline(ml.get_model(model.id))


def test_another_models_valid_file_is_refused(model: MLModel) -> None:
    # Given a second, genuine model whose file is copied over the first one's (sha256 updated)
    other = ml.get_model(ml.train(model.dataset_id, target="churn", models=["logistic_regression"], cv=2).best_model_id)
    replace_file(model, artifacts.artifact_file(other).read_bytes())
    with pytest.raises(ModelError, match="belongs to another model"):
        artifacts.load_pipeline(ml.get_model(model.id))


@pytest.mark.parametrize("sha", ["good", "evil"], ids=["row-has-good-sha", "row-has-evil-sha"])
def test_a_file_swapped_during_loading_never_runs_the_payload(model: MLModel, marker: Path, sha: str) -> None:
    # Given a thread that keeps swapping the model file between the genuine one and a pickle payload
    path = artifacts.artifact_file(model)
    good, evil = path.read_bytes(), _pickle(marker)
    if sha == "evil":
        replace_file(model, good, update_sha=False)
        with session() as s:
            row = s.get(MLModel, model.id)
            row.sha256 = hashlib.sha256(evil).hexdigest()
            s.add(row)
    row = ml.get_model(model.id)
    stop = threading.Event()
    staged = {name: path.with_name(f".{name}") for name in ("good", "evil")}
    staged["good"].write_bytes(good)
    staged["evil"].write_bytes(evil)

    def swap() -> None:
        while not stop.is_set():
            for name in ("evil", "good"):
                os.link(staged[name], path.with_name(".next"))
                os.replace(path.with_name(".next"), path)

    thread = threading.Thread(target=swap, daemon=True)
    thread.start()
    loaded = refused = 0
    try:
        # When it is loaded many times meanwhile
        for _ in range(300):
            try:
                artifacts.load_pipeline(row)
                loaded += 1
            except ModelError:
                refused += 1
    finally:
        stop.set()
        thread.join(5)
    # Then every load either built the genuine model or refused; the payload never ran
    assert loaded + refused == 300 and refused > 0
    assert not marker.exists()


def test_a_key_file_inside_data_dir_is_refused(model: MLModel, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given MODEL_KEY_FILE pointing into DATA_DIR, where an attacker could write their own key
    from core.config import reload_settings

    inside = storage.data_dir() / "keys" / "model.key"
    monkeypatch.setenv("MODEL_KEY_FILE", str(inside))
    reload_settings()
    # Then signing and loading refuse, and no key was written there
    with pytest.raises(ModelError, match="inside DATA_DIR"):
        artifacts.load_pipeline(ml.get_model(model.id))
    assert not inside.exists()


def test_a_short_signing_key_is_refused(model: MLModel, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import reload_settings

    monkeypatch.setenv("MODEL_SIGNING_KEY", "short")
    reload_settings()
    with pytest.raises(ModelError, match="shorter than 32 characters"):
        ml.train(model.dataset_id, target="churn", models=["decision_tree"], cv=2)
    with session() as s:
        assert len(s.exec(select(MLModel)).all()) == 1


def test_a_file_signed_with_one_key_is_refused_under_another(model: MLModel, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the key changed after the model was saved (or an attacker's key planted in the environment)
    from core.config import reload_settings

    monkeypatch.setenv("MODEL_SIGNING_KEY", uuid.uuid4().hex + uuid.uuid4().hex)
    reload_settings()
    with pytest.raises(ModelError, match="same MODEL_SIGNING_KEY"):
        artifacts.load_pipeline(ml.get_model(model.id))
