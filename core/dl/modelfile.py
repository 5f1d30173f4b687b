"""The deep-learning model file: a signed envelope around safetensors weights. Nothing here unpickles.

    b"WBDLNET1" | header length (4 bytes, big-endian) | header JSON | safetensors payload

The network is rebuilt from the spec stored on the model row and the tensors are loaded into it; the
header's HMAC-SHA256 tag (key: `core.ml.signing`, the same key as classical models) covers the magic, the
model id, the framework and the payload, so a swapped or altered file is refused before it is parsed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from core.errors import ModelError
from core.ml import signing

MAGIC = b"WBDLNET1"
FORMAT = "safetensors"
MAX_HEADER_BYTES = 4096
RETRAIN = "Train the network again on the Models page (or with dl.train)."


def dump(model_id: uuid.UUID | str, framework: str, payload: bytes) -> bytes:
    header = {"format": FORMAT, "framework": framework, "model_id": str(model_id),
              "hmac": signing.tag(*_parts(str(model_id), framework, payload))}
    head = json.dumps(header).encode()
    return MAGIC + len(head).to_bytes(4, "big") + head + payload


def payload(model_id: uuid.UUID | str, framework: str, blob: bytes, *, name: str) -> bytes:
    """The verified safetensors bytes; ModelError for a foreign, damaged or altered file."""
    if not blob.startswith(MAGIC):
        raise ModelError(f"The file of model {name!r} is not a workbench network file; it will not be loaded.",
                         hint=RETRAIN)
    header, body = _split(blob, name)
    if header.get("format") != FORMAT or header.get("model_id") != str(model_id) \
            or header.get("framework") != framework:
        raise ModelError(f"The file of model {name!r} belongs to another model or framework; it will not be loaded.",
                         hint=RETRAIN)
    if not signing.verify(str(header.get("hmac", "")), *_parts(str(model_id), framework, body)):
        raise ModelError(f"The file of model {name!r} has changed since it was saved (its signature does not "
                         "match); it will not be loaded.", hint=RETRAIN + " Every machine needs the same MODEL_SIGNING_KEY.")
    return body


def _split(blob: bytes, name: str) -> tuple[dict[str, Any], bytes]:
    size = int.from_bytes(blob[len(MAGIC):len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    try:
        if not 0 < size <= MAX_HEADER_BYTES or len(blob) < start + size:
            raise ValueError("bad size")
        header = json.loads(blob[start:start + size])
        if not isinstance(header, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise ModelError(f"The file of model {name!r} is damaged (bad header).", hint=RETRAIN) from exc
    return header, blob[start + size:]


def _parts(model_id: str, framework: str, body: bytes) -> tuple[bytes, ...]:
    return MAGIC, model_id.encode(), framework.encode(), FORMAT.encode(), body
