-- Saves: a member saves a paper for a channel with one click (the ranking learns from them);
-- a save is (channel, paper, user, time), and a second click by the same user removes it.
-- A channel's digest layout: compact (the top papers as cards, the rest as ranked lines) or
-- cards (one card per paper); NULL means the channel never chose, which reads as compact.
-- Summaries keep a comment count where their source gives one (Hugging Face Daily Papers).
CREATE TABLE saves (
    channel_id INTEGER NOT NULL,
    arxiv_id   TEXT NOT NULL,
    user_id    INTEGER NOT NULL,
    saved_at   TEXT NOT NULL,
    PRIMARY KEY (channel_id, arxiv_id, user_id)
) WITHOUT ROWID;
CREATE INDEX saves_by_time ON saves (channel_id, saved_at);

ALTER TABLE channels ADD COLUMN layout TEXT CHECK (layout IN ('compact', 'cards'));
ALTER TABLE channels ADD COLUMN top INTEGER NOT NULL DEFAULT 10;
ALTER TABLE channels ADD COLUMN only_top INTEGER NOT NULL DEFAULT 0;

ALTER TABLE summaries ADD COLUMN comments INTEGER;
