"""The PostgreSQL schema of the seal guard, and keeping passwords out of messages.

Operators whose database role may not create tables can run ``CREATE_SCHEMA`` themselves
(it is printed in docs/seal-guard.md); the guard creates the tables only when they are missing,
and adds the columns of ``MIGRATE_SCHEMA`` to tables made by an earlier version.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

KEYS_TABLE = "sealward_guard_keys"
SEALS_TABLE = "sealward_guard_seals"
# Serialises schema creation between signers starting at once ("sealward" in ASCII).
SCHEMA_LOCK_ID = 0x7365616C77617264

CREATE_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (
    chain_id bigint NOT NULL,
    signer   text   NOT NULL,  -- 0x + 40 lowercase hex
    PRIMARY KEY (chain_id, signer)
);
CREATE TABLE IF NOT EXISTS {SEALS_TABLE} (
    chain_id    bigint      NOT NULL,
    signer      text        NOT NULL,
    height      bigint      NOT NULL,
    seal_hash   bytea       NOT NULL CHECK (length(seal_hash) = 32),
    parent_hash bytea       NOT NULL CHECK (length(parent_hash) = 32),
    sealed_at   timestamptz NOT NULL DEFAULT now(),
    header_time bigint,  -- the header's own timestamp; NULL on records from before it was kept
    instance    text,    -- the signer instance that sealed; NULL on records from before it was kept
    PRIMARY KEY (chain_id, signer, height, seal_hash),
    FOREIGN KEY (chain_id, signer) REFERENCES {KEYS_TABLE} (chain_id, signer)
);
"""
# Tables created by an earlier Sealward lack the last two columns; adding them is idempotent.
MIGRATE_SCHEMA = f"""
ALTER TABLE {SEALS_TABLE} ADD COLUMN IF NOT EXISTS header_time bigint;
ALTER TABLE {SEALS_TABLE} ADD COLUMN IF NOT EXISTS instance text;
"""


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``; fit for logs and error messages."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
        query = "&".join(
            "password=***" if item.lower().startswith("password=") else item
            for item in parts.query.split("&")
            if item
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "postgresql://(unparsable URL)"


def scrub(message: str, password: str | None) -> str:
    """The first line of a driver message, with the password cut out should it appear."""
    line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    if password:
        line = line.replace(password, "***")
    return line
