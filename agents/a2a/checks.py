"""Request checks the SDK leaves to the agent: enum values it would read as unset, parts we cannot read, and
output modes we cannot produce. Each raises the protocol's error with a message that says what to send.
"""

from __future__ import annotations

from typing import Any

from a2a.types.a2a_pb2 import Part, SendMessageConfiguration, SendMessageRequest
from a2a.utils.errors import ContentTypeNotSupportedError, InvalidParamsError
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from agents.a2a.cards import INPUT_MODES, OUTPUT_MODES

CONTENT_FIELDS = ("text", "raw", "url", "data")


def unknown_enum(params: dict[str, Any], descriptor: Descriptor) -> str | None:
    """Why `params` (request JSON) names an enum value that `descriptor`'s message does not have, or None.

    The SDK parses requests ignoring unknown fields (forward compatibility), which also turns an unknown enum
    name ("status": "running") into the unset value: a filter silently dropped instead of refused (-32602).
    """
    for key, value in params.items():
        field = descriptor.fields_by_camelcase_name.get(key) or descriptor.fields_by_name.get(key)
        if field is None:
            continue
        items = value if isinstance(value, list) and field.is_repeated else [value]
        for item in items:
            why = _unknown_in(key, item, field)
            if why:
                return why
    return None


def _unknown_in(key: str, value: Any, field: FieldDescriptor) -> str | None:
    if field.enum_type is not None:
        names = field.enum_type.values_by_name
        if isinstance(value, str) and value not in names:
            return f"Invalid {key} {value!r}: use one of {', '.join(n for n in names if not n.endswith('UNSPECIFIED'))}."
        return None
    inner = field.message_type
    if inner is None or not isinstance(value, dict) or inner.full_name.startswith("google.protobuf."):
        return None
    if inner.GetOptions().map_entry:
        return None
    return unknown_enum(value, inner)


def check_message(params: SendMessageRequest) -> None:
    """Refuse a message with a part that carries no content (-32602) or a media type we do not read (-32005),
    and a configuration that accepts none of our output modes (-32005)."""
    for part in params.message.parts:
        check_part(part)
    check_output_modes(params.configuration)


def check_part(part: Part) -> None:
    if part.WhichOneof("content") not in CONTENT_FIELDS:
        raise InvalidParamsError(message="Each message part needs one of text, raw, url or data.")
    if part.media_type and not any(_matches(part.media_type, mode) for mode in INPUT_MODES):
        raise ContentTypeNotSupportedError(
            message=f"Content type not supported: {part.media_type} parts are incompatible with this agent's "
                    f"input modes ({', '.join(INPUT_MODES)}).")


def check_output_modes(config: SendMessageConfiguration) -> None:
    accepted = list(config.accepted_output_modes)
    if accepted and not any(_matches(mode, a) for a in accepted for mode in OUTPUT_MODES):
        raise ContentTypeNotSupportedError(
            message=f"Content type not supported: the accepted output modes ({', '.join(accepted)}) are "
                    f"incompatible with what this agent produces ({', '.join(OUTPUT_MODES)}).")


def accepts(config: SendMessageConfiguration | None, media_type: str) -> bool:
    """Whether the client takes parts of `media_type` (it accepts everything when it lists no modes)."""
    accepted = list(config.accepted_output_modes) if config is not None else []
    return not accepted or any(_matches(media_type, a) for a in accepted)


def _matches(media_type: str, pattern: str) -> bool:
    """`text/plain` matches `text/plain`, `text/*` and `*/*` (parameters and case ignored)."""
    kind = media_type.split(";")[0].strip().lower()
    want = pattern.split(";")[0].strip().lower()
    if want in ("*", "*/*") or want == kind:
        return True
    return want.endswith("/*") and kind.split("/")[0] == want[:-2]
