"""The key that signs model files, kept where the data directory cannot rewrite it.

A model file carries an HMAC-SHA256 tag computed with this key. Whoever can write DATA_DIR (and the
SQLite file that lives there in the embedded mode) can replace a model file and its sha256 column, but
cannot make a tag without the key. The key is MODEL_SIGNING_KEY, or else a key file outside DATA_DIR
(MODEL_KEY_FILE, by default ~/.config/workbench/model-signing.key) created on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from core.config import get_settings
from core.errors import ModelError

MIN_KEY_CHARS = 32
KEY_FILE_NAME = "model-signing.key"


def tag(*parts: bytes) -> str:
    """The hex HMAC-SHA256 of `parts` (each length-prefixed, so parts cannot be shifted into each other)."""
    mac = hmac.new(signing_key(), digestmod=hashlib.sha256)
    for part in parts:
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.hexdigest()


def verify(expected: str, *parts: bytes) -> bool:
    """True when `expected` is the tag of `parts` (constant-time comparison)."""
    return hmac.compare_digest(tag(*parts), str(expected))


def signing_key() -> bytes:
    """MODEL_SIGNING_KEY, or the key file's content (the file is created on first use)."""
    secret = get_settings().model_signing_key
    if secret is not None:
        return _checked(secret.get_secret_value().strip(), "MODEL_SIGNING_KEY")
    path = key_file()
    if not path.is_file():
        _create(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"The model signing key file {path} cannot be read: {exc}",
                         hint="Fix its permissions, or set MODEL_SIGNING_KEY.") from exc
    return _checked(text, str(path))


def key_file() -> Path:
    """Where the key file lives; refused when it lies inside DATA_DIR (the data folder must not hold it)."""
    settings = get_settings()
    path = settings.model_key_file or _config_home() / "workbench" / KEY_FILE_NAME
    path = path.expanduser().resolve()
    if path.is_relative_to(settings.data_dir.resolve()):
        raise ModelError(f"The model signing key file {path} lies inside DATA_DIR, where model files live; "
                         "a key there protects nothing.",
                         hint="Set MODEL_KEY_FILE to a path outside DATA_DIR, or set MODEL_SIGNING_KEY.")
    return path


def _config_home() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME", "").strip()
    return Path(xdg) if xdg else Path.home() / ".config"


def _checked(text: str, where: str) -> bytes:
    if len(text) < MIN_KEY_CHARS:
        raise ModelError(f"The model signing key in {where} is shorter than {MIN_KEY_CHARS} characters.",
                         hint='Use a long random value: python -c "import secrets; print(secrets.token_hex(32))"')
    return text.encode("utf-8")


def _create(path: Path) -> None:
    """Write a new random key with mode 0600; if another process won the race, keep its key."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            with contextlib.suppress(FileExistsError):  # another process created it first: its key is the key
                os.link(tmp, path)  # atomic, and never replaces an existing key
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise ModelError(f"The model signing key file {path} cannot be created: {exc}",
                         hint="Set MODEL_KEY_FILE to a writable path outside DATA_DIR, or set MODEL_SIGNING_KEY.") from exc
