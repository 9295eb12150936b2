-- Owner alerts that are open (sent once, closed when the problem is over), and housekeeping's
-- horizon: papers first ingested at or before it are old news for every channel.
CREATE TABLE alerts (
    key       TEXT PRIMARY KEY,
    opened_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX deliveries_age ON deliveries (delivered_at);
