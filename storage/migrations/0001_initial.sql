-- Papers keyed by arXiv id without version; versions kept; summaries keyed by (source, guid);
-- feed state; the ingest log whose seq numbers every new or changed item; FTS5 for lookups.

CREATE TABLE ingest_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('paper', 'summary')),
    item_key   TEXT NOT NULL,            -- arxiv_id for papers, summary id for summaries
    event      TEXT NOT NULL,            -- new | cross | replace | replace-cross | updated | edited
    feed       TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX ingest_log_item ON ingest_log (kind, item_key);

CREATE TABLE papers (
    arxiv_id         TEXT PRIMARY KEY,
    title            TEXT NOT NULL,
    authors          TEXT NOT NULL,      -- JSON array of display names
    abstract         TEXT NOT NULL,
    categories       TEXT NOT NULL,      -- JSON array, primary first
    primary_category TEXT,
    latest_version   INTEGER NOT NULL,
    announce_type    TEXT,
    doi              TEXT,
    journal_ref      TEXT,
    comment          TEXT,
    published        TEXT,
    updated          TEXT,
    first_seq        INTEGER NOT NULL,
    seq              INTEGER NOT NULL,   -- last new/changed event
    first_seen       TEXT NOT NULL
);
CREATE INDEX papers_doi ON papers (doi) WHERE doi IS NOT NULL;
CREATE INDEX papers_seq ON papers (seq);

CREATE TABLE paper_versions (
    arxiv_id      TEXT NOT NULL,
    version       INTEGER NOT NULL,
    announce_type TEXT,
    seen_at       TEXT NOT NULL,
    PRIMARY KEY (arxiv_id, version)
) WITHOUT ROWID;

CREATE TABLE summaries (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    guid        TEXT NOT NULL,
    title       TEXT NOT NULL,
    text        TEXT NOT NULL,
    author      TEXT,
    link        TEXT,
    arxiv_id    TEXT,                    -- may point at a paper not stored yet
    doi         TEXT,
    bibtex_key  TEXT,
    votes       INTEGER,
    edited_at   TEXT,
    first_seq   INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    UNIQUE (source, guid)
);
CREATE INDEX summaries_arxiv ON summaries (arxiv_id) WHERE arxiv_id IS NOT NULL;
CREATE INDEX summaries_seq ON summaries (seq);

CREATE TABLE feeds (
    name                 TEXT PRIMARY KEY,
    url                  TEXT NOT NULL,
    etag                 TEXT,
    last_modified        TEXT,
    last_attempt         TEXT,
    last_success         TEXT,
    last_status          TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    next_poll            TEXT
);

-- arXiv API queries already made, so the same query is not repeated within a day.
CREATE TABLE api_queries (
    query      TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    results    INTEGER NOT NULL
);

CREATE VIRTUAL TABLE papers_fts USING fts5(
    title, authors, abstract, content='papers', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
-- New and changed papers are indexed set-wise by the store (much faster than a per-row
-- trigger for a 2,000-item batch); a deleted paper leaves the index here.
CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
    INSERT INTO papers_fts (papers_fts, rowid, title, authors, abstract)
    VALUES ('delete', old.rowid, old.title, old.authors, old.abstract);
END;
CREATE VIRTUAL TABLE summaries_fts USING fts5(
    title, text, content='summaries', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER summaries_fts_insert AFTER INSERT ON summaries BEGIN
    INSERT INTO summaries_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER summaries_fts_delete AFTER DELETE ON summaries BEGIN
    INSERT INTO summaries_fts (summaries_fts, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER summaries_fts_update AFTER UPDATE OF title, text ON summaries BEGIN
    INSERT INTO summaries_fts (summaries_fts, rowid, title, text)
    VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO summaries_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
END;
