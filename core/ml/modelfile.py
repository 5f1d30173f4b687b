"""The model file format: a signed envelope around a skops payload. Nothing here ever unpickles.

    b"WBMODEL1" | header length (4 bytes, big-endian) | header JSON | payload

The header names the payload format ("skops"), the model id and an HMAC-SHA256 tag (key:
`core.ml.signing`) over the magic, the model id, the format and the payload. Loading checks the tag,
then lets skops build only the types listed in `trusted_types()` (the ones our pipelines are made of;
scikit-learn estimators skops already trusts need no listing). An XGBoost model's booster travels in
XGBoost's own UBJSON serialization inside the skops payload and is parsed by XGBoost, not by pickle.
Files without the magic (the pickle/joblib files of earlier versions) are refused, never unpickled.
"""

from __future__ import annotations

import functools
import json
import uuid
import zipfile
from typing import Any

from core.errors import ModelError
from core.ml import signing

MAGIC = b"WBMODEL1"
FORMAT = "skops"
MAX_HEADER_BYTES = 4096
RETRAIN = "Train the model again on the Models page (or with ml.train); the new file is saved in a safe format."


@functools.cache
def trusted_types() -> frozenset[str]:
    """The types skops may build beyond its own defaults: exactly what the catalog's pipelines contain."""
    import numpy as np
    import xgboost
    from sklearn.calibration import _CalibratedClassifier, _SigmoidCalibration
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.metrics._dist_metrics import EuclideanDistance64
    from sklearn.neighbors import BallTree, KDTree
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer
    from sklearn.tree._tree import Tree

    from core.ml.preprocess import DateParts

    classes = (np.dtype, DateParts, Tree, TreePredictor, KDTree, BallTree, EuclideanDistance64,
               _CalibratedClassifier, _SigmoidCalibration, AdamOptimizer, SGDOptimizer,
               xgboost.XGBClassifier, xgboost.XGBRegressor, xgboost.Booster)
    return frozenset(f"{cls.__module__}.{cls.__qualname__}" for cls in classes)


def _skops_io() -> Any:
    """`skops.io`, imported on first use: its import walks every scikit-learn estimator (seconds of CPU),
    which a page that only lists models or trains networks need not pay."""
    import skops.io

    return skops.io


def dump(model_id: uuid.UUID | str, obj: Any) -> bytes:
    """The signed file content of a fitted pipeline."""
    payload = _skops_io().dumps(obj, compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    header = {"format": FORMAT, "model_id": str(model_id), "hmac": _tag(str(model_id), payload)}
    head = json.dumps(header).encode()
    return MAGIC + len(head).to_bytes(4, "big") + head + payload


def payload(model_id: uuid.UUID | str, blob: bytes, *, name: str) -> bytes:
    """The verified skops payload of a model file; raises ModelError for a legacy, foreign or altered file."""
    if not blob.startswith(MAGIC):
        raise ModelError(f"The file of model {name!r} is in the old pickle format, which can run code when "
                         "it is opened; the workbench no longer loads such files.", hint=RETRAIN)
    header, body = _split(blob, name)
    if header.get("format") != FORMAT or header.get("model_id") != str(model_id):
        raise ModelError(f"The file of model {name!r} belongs to another model or format; it will not be loaded.",
                         hint=RETRAIN)
    if not signing.verify(str(header.get("hmac", "")), *_signed_parts(str(model_id), body)):
        raise ModelError(f"The file of model {name!r} has changed since it was saved (its signature does not "
                         "match); it will not be loaded.",
                         hint=RETRAIN + " If it was trained on another machine, give every machine the same "
                         "MODEL_SIGNING_KEY.")
    return body


def load(model_id: uuid.UUID | str, blob: bytes, *, name: str) -> Any:
    """Build the pipeline from the bytes of a model file (the same bytes that were verified)."""
    body = payload(model_id, blob, name=name)
    sio = _skops_io()
    found = _guarded(name, lambda: set(sio.get_untrusted_types(data=body)))
    unknown = sorted(found - trusted_types())
    if unknown:
        raise ModelError(f"The file of model {name!r} contains types the workbench does not trust: "
                         f"{', '.join(unknown[:5])}; it will not be loaded.", hint=RETRAIN)
    return _guarded(name, lambda: sio.loads(body, trusted=sorted(found)))


def _guarded(name: str, step: Any) -> Any:
    """Run a skops step; a damaged zip or schema becomes a ModelError saying so."""
    try:
        return step()
    except Exception as exc:  # skops raises many kinds for a broken file; each means "cannot be read"
        raise ModelError(f"The file of model {name!r} cannot be read ({type(exc).__name__}).", hint=RETRAIN) from exc


def _split(blob: bytes, name: str) -> tuple[dict[str, Any], bytes]:
    size = int.from_bytes(blob[len(MAGIC):len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    if not 0 < size <= MAX_HEADER_BYTES or len(blob) < start + size:
        raise ModelError(f"The file of model {name!r} is damaged (bad header).", hint=RETRAIN)
    try:
        header = json.loads(blob[start:start + size])
    except ValueError as exc:
        raise ModelError(f"The file of model {name!r} is damaged (bad header).", hint=RETRAIN) from exc
    if not isinstance(header, dict):
        raise ModelError(f"The file of model {name!r} is damaged (bad header).", hint=RETRAIN)
    return header, blob[start + size:]


def _signed_parts(model_id: str, body: bytes) -> tuple[bytes, ...]:
    return MAGIC, model_id.encode(), FORMAT.encode(), body


def _tag(model_id: str, body: bytes) -> str:
    return signing.tag(*_signed_parts(model_id, body))
