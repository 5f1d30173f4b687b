"""DATA_DIR as an S3 bucket URL: ingest, profile, train, predict and delete through a local S3-speaking server.

A second "machine" is simulated by emptying the local cache folder: everything must come back from the
bucket. Failed uploads must leave neither a row, nor a local file, nor an object in the bucket.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from core import datasets, eda, ml, objectstore, storage
from core.config import reload_settings
from core.datasets.versions import add_version
from core.errors import Conflict, InvalidInput, StorageUnavailable
from tests.fakes.s3_server import FakeS3

BUCKET = "workbench"


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeS3]:
    """DATA_DIR=s3://workbench/team on a fake S3 server on loopback; the cache under tmp_path/cache."""
    with FakeS3(buckets=[BUCKET]) as server:
        monkeypatch.setenv("DATA_DIR", f"s3://{BUCKET}/team")
        monkeypatch.setenv("DATA_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("S3_ENDPOINT_URL", server.endpoint)
        monkeypatch.setenv("S3_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("S3_SECRET_ACCESS_KEY", "test-secret")
        reload_settings()
        yield server


def _forget_local(tmp_path: Path) -> None:
    """What another machine sees: nothing of the shared areas on its own disk."""
    for area in objectstore.SHARED_AREAS:
        shutil.rmtree(tmp_path / "cache" / area, ignore_errors=True)


def _churn_csv(tmp_path: Path) -> Path:
    rows = [f"{i},{i % 7},{(i * 37) % 100 / 10},{'yes' if (i * 13) % 10 < 4 else 'no'}" for i in range(120)]
    path = tmp_path / "churn.csv"
    path.write_text("id,visits,spend,churn\n" + "\n".join(rows) + "\n")
    return path


def test_settings_move_a_bucket_url_out_of_data_dir(s3: FakeS3, tmp_path: Path) -> None:
    settings = reload_settings()
    assert settings.data_store == f"s3://{BUCKET}/team"
    assert storage.data_dir() == (tmp_path / "cache").resolve()


def test_ingest_profile_train_predict_delete_through_the_bucket(s3: FakeS3, tmp_path: Path) -> None:
    # Given a dataset imported on "machine A"
    ds = datasets.ingest_file(_churn_csv(tmp_path), name="churn")
    assert f"team/{ds.path}" in s3.keys(BUCKET)
    assert not [k for k in s3.keys(BUCKET) if "/tmp/" in k], "temporary upload keys are cleaned up"
    # When "machine B" (empty cache) profiles it and trains on it
    _forget_local(tmp_path)
    prof = eda.profile(ds.id)
    assert prof.rows == 120 and {c.name for c in prof.columns} == {"id", "visits", "spend", "churn"}
    assert f"team/datasets/{ds.id}/profile-v1.json" in s3.keys(BUCKET)
    _forget_local(tmp_path)
    run = ml.train(ds.id, target="churn", models=["decision_tree"], cv=2)
    model_keys = [k for k in s3.keys(BUCKET) if k.startswith("team/models/")]
    assert len(model_keys) == 1
    # Then "machine C" predicts with the model and reads the cached profile from the bucket
    _forget_local(tmp_path)
    out = ml.predict(run.best_model_id, pd.DataFrame({"id": [1, 2], "visits": [3, 4], "spend": [1.5, 9.0]}))
    assert len(out) == 2
    assert eda.cached_profile(ds.id) is not None
    # And deleting removes the objects from the bucket too
    ml.delete_model(run.best_model_id)
    datasets.delete_dataset(ds.id)
    assert [k for k in s3.keys(BUCKET) if k.startswith(("team/datasets/", "team/models/"))] == []
    assert not (tmp_path / "cache" / "datasets" / str(ds.id)).exists()


def test_a_failed_upload_leaves_nothing_anywhere(s3: FakeS3, tmp_path: Path) -> None:
    s3.fail_puts = 100  # every object write fails (AWS SDK retries a few times first)
    with pytest.raises(StorageUnavailable) as err:
        datasets.ingest_file(_churn_csv(tmp_path), name="churn")
    assert "shared store" in err.value.message and "S3_ENDPOINT_URL" in err.value.hint
    assert datasets.list_datasets() == []
    assert s3.keys(BUCKET) == []
    assert list((tmp_path / "cache" / "datasets").rglob("*.parquet")) == []


def test_a_version_another_machine_stored_is_not_replaced(s3: FakeS3, tmp_path: Path) -> None:
    ds = datasets.ingest_file(_churn_csv(tmp_path), name="churn")
    clash = storage.dataset_file(ds.id, 2)
    clash.write_bytes(b"written by machine B")
    objectstore.publish(clash, storage.relative(clash))  # machine B stored version 2 first
    clash.unlink()
    with pytest.raises(Conflict, match="saved at the same time"):
        add_version(ds.id, lambda tmp: shutil.copy(storage.dataset_file(ds.id, 1), tmp),
                             step={"op": "test"}, summary="copy")
    assert datasets.get_dataset(ds.id).version == 1


def test_an_unreachable_store_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", "s3://workbench/team")
    monkeypatch.setenv("DATA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("S3_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    reload_settings()
    with pytest.raises(StorageUnavailable, match="shared store"):
        datasets.ingest_file(_churn_csv(tmp_path), name="churn")
    assert datasets.list_datasets() == []


@pytest.mark.parametrize("url", ["s3://", "s3:///", "S3:////"])
def test_a_bucket_url_without_a_bucket_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", url)
    with pytest.raises(ValueError, match="not a bucket URL"):
        reload_settings()


def test_stored_paths_cannot_escape_the_prefix(s3: FakeS3) -> None:
    with pytest.raises(InvalidInput, match="outside the data folder"):
        storage.absolute("../../other-team/datasets/x/v1.parquet")
