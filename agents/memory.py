"""Conversations and their messages: storage, and the trimmed memory the LLM sees."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import delete, select

from core.db import as_uuid, session, utcnow
from core.errors import InvalidInput, NotFound
from core.models.conversation import Conversation, Message

CHARS_PER_TOKEN = 4


def _uuid(ref: uuid.UUID | str) -> uuid.UUID:
    key = as_uuid(ref)
    if key is None:
        raise NotFound(f"No conversation {ref!r}.")
    return key


def new_conversation(title: str = "New conversation", *, agent: str | None = None,
                     dataset_id: str | None = None) -> Conversation:
    """Start a conversation (agent: a pinned specialist, None to route each message)."""
    row = Conversation(title=_title(title), agent=agent, dataset_id=dataset_id)
    with session() as s:
        s.add(row)
    return row


def _title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("A conversation needs a title.")
    return title[:80] + ("…" if len(title) > 80 else "")


def get_conversation(ref: uuid.UUID | str) -> Conversation:
    with session() as s:
        row = s.get(Conversation, _uuid(ref))
    if row is None:
        raise NotFound(f"No conversation {ref}.", hint="It may have been deleted.")
    return row


def list_conversations(*, archived: bool = False, limit: int = 100) -> list[Conversation]:
    """Conversations, most recently active first."""
    query = select(Conversation).where(Conversation.archived == archived).order_by(
        Conversation.updated.desc()).limit(limit)
    with session() as s:
        return list(s.exec(query).all())


def update_conversation(ref: uuid.UUID | str, **values: Any) -> Conversation:
    """Change title, agent, dataset_id or archived."""
    if "title" in values:
        values["title"] = _title(values["title"])
    with session() as s:
        row = s.get(Conversation, _uuid(ref))
        if row is None:
            raise NotFound(f"No conversation {ref}.")
        for key, value in values.items():
            setattr(row, key, value)
        s.add(row)
    return row


def rename(ref: uuid.UUID | str, title: str) -> Conversation:
    return update_conversation(ref, title=title)


def archive(ref: uuid.UUID | str, archived: bool = True) -> Conversation:
    return update_conversation(ref, archived=archived)


def delete_conversation(ref: uuid.UUID | str) -> None:
    """Delete a conversation and its messages."""
    conv = get_conversation(ref)
    with session() as s:
        s.exec(delete(Message).where(Message.conversation_id == conv.id))
        s.exec(delete(Conversation).where(Conversation.id == conv.id))


def add_message(ref: uuid.UUID | str, role: str, content: str, *, agent: str | None = None,
                tool_calls: list[dict[str, Any]] | None = None, meta: dict[str, Any] | None = None) -> Message:
    """Append a message and mark the conversation active."""
    conv_id = _uuid(ref)
    row = Message(conversation_id=conv_id, role=role, content=content, agent=agent, tool_calls=tool_calls or [],
                  meta=meta)
    with session() as s:
        s.add(row)
        conv = s.get(Conversation, conv_id)
        if conv is None:
            raise NotFound(f"No conversation {ref}.")
        conv.updated = utcnow()
        s.add(conv)
    return row


def messages(ref: uuid.UUID | str, *, limit: int | None = None) -> list[Message]:
    """Messages of a conversation, oldest first (the last `limit` of them)."""
    query = select(Message).where(Message.conversation_id == _uuid(ref)).order_by(Message.created.desc())
    if limit:
        query = query.limit(limit)
    with session() as s:
        rows = list(s.exec(query).all())
    return rows[::-1]


def tokens(text: str) -> int:
    """A cheap token estimate (about four characters a token)."""
    return len(text) // CHARS_PER_TOKEN + 1


def _llm_content(msg: Message) -> str:
    if msg.role != "assistant" or not msg.tool_calls:
        return msg.content
    ran = "; ".join(f"{c.get('name')}({c.get('arguments')}) -> {str(c.get('text', ''))[:300]}"
                    for c in msg.tool_calls)
    return f"{msg.content}\n[tools run: {ran}]"


def history(ref: uuid.UUID | str | None, *, budget: int) -> list[dict[str, str]]:
    """The most recent messages as chat turns, trimmed to fit `budget` tokens (newest kept)."""
    if ref is None:
        return []
    turns: list[dict[str, str]] = []
    used = 0
    for msg in reversed(messages(ref, limit=200)):
        content = _llm_content(msg)
        cost = tokens(content)
        if used + cost > budget:
            break
        turns.append({"role": msg.role if msg.role in ("user", "assistant") else "user", "content": content})
        used += cost
    return turns[::-1]
