-- Channels follow topics and get digests: settings, subscriptions, what was delivered, and an
-- outbox of digest messages whose nonces are stored before they are sent.

CREATE TABLE channels (
    channel_id           INTEGER PRIMARY KEY,
    guild_id             INTEGER NOT NULL,
    digest_time          TEXT NOT NULL,             -- HH:MM in the channel's time zone
    timezone             TEXT NOT NULL,             -- IANA name
    frequency            TEXT NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly', 'instant')),
    weekday              INTEGER,                   -- 0 = Monday, for weekly digests
    max_items            INTEGER NOT NULL DEFAULT 10,
    include_replacements INTEGER NOT NULL DEFAULT 0,
    cursor_seq           INTEGER NOT NULL,          -- ingest log served up to here
    next_due             TEXT,                      -- UTC ISO 8601; NULL for instant channels
    last_digest_at       TEXT,
    paused_reason        TEXT,
    paused_at            TEXT,
    created_at           TEXT NOT NULL
);
CREATE INDEX channels_guild ON channels (guild_id);
CREATE INDEX channels_due ON channels (next_due) WHERE paused_reason IS NULL;

CREATE TABLE subscriptions (
    channel_id INTEGER NOT NULL REFERENCES channels (channel_id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,                       -- the topic as the user sees it
    exclude    INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    PRIMARY KEY (channel_id, kind, key)
) WITHOUT ROWID;

-- What a channel has received: a paper (any version unless replacements are wanted) or a summary.
CREATE TABLE deliveries (
    channel_id   INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('paper', 'summary')),
    item_key     TEXT NOT NULL,                     -- arxiv_id or summary id
    version      INTEGER NOT NULL DEFAULT 0,        -- paper version (0 for summaries)
    message_id   INTEGER,
    delivered_at TEXT NOT NULL,
    PRIMARY KEY (channel_id, kind, item_key, version)
) WITHOUT ROWID;

CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY,
    channel_id        INTEGER NOT NULL,
    digest_id         TEXT NOT NULL,                -- one digest run of one channel
    position          INTEGER NOT NULL,             -- 0 is the header message
    nonce             TEXT NOT NULL UNIQUE,
    payload           TEXT NOT NULL,                -- the Discord message payload, JSON
    items             TEXT NOT NULL,                -- JSON [[kind, key, version], ...] it delivers
    status            TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    target_channel_id INTEGER,                      -- where it went (the thread, for follow-ups)
    message_id        INTEGER,
    created_at        TEXT NOT NULL,
    sent_at           TEXT,
    UNIQUE (digest_id, position)
);
CREATE INDEX outbox_pending ON outbox (channel_id, digest_id, position) WHERE status = 'pending';
