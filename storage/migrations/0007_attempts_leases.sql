-- When each digest message was first handed to Discord (and where), so a late restart can look
-- for it in the channel's history instead of trusting a nonce Discord has forgotten; and leases
-- (one poller per store): a named role held by one process until it expires.
ALTER TABLE outbox ADD COLUMN attempted_at TEXT;
ALTER TABLE outbox ADD COLUMN attempt_target INTEGER;

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) WITHOUT ROWID;
