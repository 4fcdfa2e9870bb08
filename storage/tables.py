"""The bompao tables, as SQLAlchemy Core ``Table`` objects on one ``MetaData``.

The migrations in ``storage/migrations/versions`` create exactly these tables; a test
compares the migrated database with this module, so change both together, add a
migration and bump :data:`SCHEMA_VERSION`.

Every constraint and index has an explicit name so Alembic's batch mode can rebuild
SQLite tables. Columns without a length are unbounded (``VARCHAR`` on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .types import ExactJSON, JSONType, UTCDateTime

__all__ = [
    "FOLLOW_UP_STATUSES",
    "SCHEMA_VERSION",
    "ExactJSON",
    "JSONType",
    "UTCDateTime",
    "api_tokens",
    "application_receipts",
    "bompao_meta",
    "coaches",
    "daemons",
    "events",
    "feed_tokens",
    "follow_ups",
    "journeys",
    "metadata",
    "projects",
    "throttle_hits",
    "users",
]

SCHEMA_VERSION = 11
"""The schema version this bompao writes to ``bompao_meta``; one step per migration."""

FOLLOW_UP_STATUSES = ("pending", "running", "done", "failed", "cancelled")
"""Every value ``follow_ups.status`` may take."""

metadata = sa.MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)


def _empty_dict() -> dict[str, Any]:
    return {}


def _empty_list() -> list[Any]:
    return []


bompao_meta = sa.Table(
    "bompao_meta",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.String, nullable=False),
)

journeys = sa.Table(
    "journeys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("partner", sa.String, nullable=True),
    sa.Column("title", JSONType, nullable=False, default=_empty_dict),
    sa.Column("extends", sa.String, nullable=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("key", "version", name="uq_journeys_key_version"),
)

projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("journey_key", sa.String, nullable=False),
    sa.Column("journey_version", sa.Integer, nullable=False),
    sa.Column("partner", sa.String, nullable=True),
    sa.Column("cohort", sa.String, nullable=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("stage", sa.String, nullable=False),
    sa.Column("visit", sa.Integer, nullable=False, default=1, server_default="1"),
    sa.Column("fields", ExactJSON, nullable=False, default=_empty_dict),
    sa.Column("flags", JSONType, nullable=False, default=_empty_list),
    sa.Column("assignments", JSONType, nullable=False, default=_empty_dict),
    sa.Column("evidence", JSONType, nullable=False, default=_empty_dict),
    sa.Column("approvals", JSONType, nullable=False, default=_empty_dict),
    sa.Column("lock_version", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("stage_entered_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_projects_partner", "partner"),
    sa.Index("ix_projects_cohort", "cohort"),
    # on ``journey_key`` alone (migration 0010): every report filters by journey, and
    # an index that held ``stage`` too was rewritten by every advance
    sa.Index("ix_projects_journey_key", "journey_key"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String, nullable=True),
    sa.Column("role", sa.String, nullable=True),
    sa.Column("from_stage", sa.String, nullable=True),
    sa.Column("to_stage", sa.String, nullable=True),
    sa.Column("trigger", sa.String, nullable=True),
    sa.Column("payload", ExactJSON, nullable=False, default=_empty_dict),
    # The stage visits the reports read (migration 0010): on an event entering a stage
    # (``created``, ``advanced``, a ``migrated`` that changes the stage) that closes a
    # visit, when the project entered the stage it leaves (``from_stage``), i.e. the
    # ``at`` of the previous entry; NULL on every other event. The write path
    # (storage/hotpath.py) fills it in the event's own row, so a visit costs an advance
    # no b-tree of its own; storage/visits.py recomputes it after a bulk load.
    sa.Column("from_entered_at", UTCDateTime, nullable=True),
    # Unique: the per-project sequence has no duplicates (and, written by
    # repository.append_event, no gaps).
    sa.Index("ix_events_project_id_seq", "project_id", "seq", unique=True),
    # no index on ``at`` (dropped in migration 0003): no query looks events up by time
    # alone, and every event paid for it
)

follow_ups = sa.Table(
    "follow_ups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("stage", sa.String, nullable=False),
    sa.Column("visit", sa.Integer, nullable=False),
    sa.Column("spec", sa.String, nullable=False),
    sa.Column("occurrence", sa.Integer, nullable=False),
    sa.Column("action", sa.String, nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="pending",
              server_default="pending"),
    sa.Column("lease_owner", sa.String, nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("idempotency_key", sa.String, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    # notify: each channel's outcome ("done" / "failed: ..."), so a retry resends only
    # the channels that failed (migration 0004)
    sa.Column("channels", JSONType, nullable=True),
    sa.UniqueConstraint("idempotency_key", name="uq_follow_ups_idempotency_key"),
    sa.CheckConstraint(
        "status IN ('pending', 'running', 'done', 'failed', 'cancelled')",
        name="ck_follow_ups_status",
    ),
    sa.Index(
        "ix_follow_ups_due_pending",
        "due_at",
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    ),
    sa.Index("ix_follow_ups_project_id_status", "project_id", "status"),
    sa.Index(
        "ix_follow_ups_lease_running",
        "lease_until",
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    ),
)

daemons = sa.Table(
    "daemons",
    metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("host", sa.String, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("heartbeat_at", UTCDateTime, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String, nullable=False),
    sa.Column("display_name", sa.String, nullable=False),
    sa.Column("email", sa.String, nullable=True),
    # an Argon2id hash in PHC form ($argon2id$v=19$...); never the password
    sa.Column("password_hash", sa.String, nullable=False),
    # ["coach@cmu", "committee@cmu"] or ["program_manager"]: a role, optionally @PARTNER
    sa.Column("roles", JSONType, nullable=False, default=_empty_list),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("username", name="uq_users_username"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String, nullable=False),
    # SHA-256 of the token: tokens are 256 random bits, so a fast hash suffices and a
    # request finds its token by index; the token itself is shown once and never stored
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime, nullable=True),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    sa.Index("ix_api_tokens_user_id", "user_id"),
)

# coaches (migration 0008, storage/coaches.py) ---------------------------------------------
coaches = sa.Table(
    "coaches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # the name recorded in assignments and sessions; unique by its casefolded key
    sa.Column("name", sa.String, nullable=False),
    sa.Column("name_key", sa.String, nullable=False),
    # coaching topics, e.g. ["idea_development", "impact_measurement"]
    sa.Column("skills", JSONType, nullable=False, default=_empty_list),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("name_key", name="uq_coaches_name_key"),
)


feed_tokens = sa.Table(
    "feed_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    # SHA-256 of the calendar feed's secret (in its URL, shown once), as for API tokens;
    # a feed token reads one user's calendar and nothing else
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("token_hash", name="uq_feed_tokens_token_hash"),
    sa.Index("ix_feed_tokens_user_id", "user_id"),
)


# applications received by the public form and inbound hooks (migration 0009,
# storage/receipts.py) ---------------------------------------------------------------------

application_receipts = sa.Table(
    "application_receipts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # what the applicant follows the application with (/apply/KEY/status/REFERENCE):
    # 192 random bits; it shows the application's stage and nothing else
    sa.Column("reference", sa.String(64), nullable=False),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
    sa.Column("journey_key", sa.String, nullable=False),
    # "form" (the public page) or "hook:NAME" (an inbound webhook)
    sa.Column("source", sa.String, nullable=False),
    # a hook's delivery id: one project per (source, delivery), however often it comes
    sa.Column("delivery_id", sa.String(200), nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("reference", name="uq_application_receipts_reference"),
    sa.UniqueConstraint("project_id", name="uq_application_receipts_project_id"),
    sa.UniqueConstraint("source", "delivery_id", name="uq_application_receipts_delivery"),
)


# the sign-in's and the application form's throttles, shared by every worker and machine
# (migration 0011, storage/accounts.py) ----------------------------------------------------

throttle_hits = sa.Table(
    "throttle_hits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # SCOPE:KEY, e.g. "login:user:anan", "login:addr:203.0.113.9", "apply:addr:..."
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_throttle_hits_key_at", "key", "at"),
)
