-- Known-item search (storage/sqlite/lookup.py, storage/sqlite/known_item.py): how many titles
-- hold a word, so the rarest words of a typed title pick its candidates and weigh its ranking,
-- and a word that no title holds (a typo) is known as one. The vocabulary reads the title index
-- of migration 0005 itself: nothing to backfill or keep up to date, and nothing to write at 1M.
CREATE VIRTUAL TABLE papers_title_vocab USING fts5vocab(papers_title_fts, row);
