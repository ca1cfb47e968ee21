"""The bot's side of Teams: where Waypoint can reach people and teams, the Bot
Framework's conversation state, and the activities already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class ConversationRef(Base):
    """Where Waypoint can reach a person or a team proactively (stored at install)."""

    __tablename__ = "conversation_ref"
    __table_args__ = (UniqueConstraint("trust_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trust.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[str] = mapped_column(String(512))
    conversation_type: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    service_url: Mapped[str] = mapped_column(String(512))
    bot_id: Mapped[str] = mapped_column(String(256))
    reference: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Saved from a turn whose token was checked. A reference saved in anonymous mode
    # names a service URL nobody vouched for: no token is ever sent there.
    authenticated: Mapped[bool] = mapped_column(default=False, server_default=false())
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Teams answered 403/404: the person blocked or removed Waypoint. Never retried
    # until they install it again.
    gone_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BotStateItem(Base):
    """Bot Framework conversation/user state, one row per storage key, with an eTag."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    e_tag: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ProcessedActivity(Base):
    """Activities claimed or handled, so a redelivered activity is handled once."""

    __tablename__ = "processed_activity"
    __table_args__ = (UniqueConstraint("channel_id", "conversation_id", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(512))
    activity_id: Mapped[str] = mapped_column(String(256))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Set when the turn is done; an unfinished claim past its lease was left by a
    # replica that died mid-turn, and the channel's retry takes it over.
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Who holds the claim: a random token per claim (storage/deliveries.py), since two
    # replicas may read the same instant from their clocks.
    claim: Mapped[str | None] = mapped_column(String(32), default=None)
