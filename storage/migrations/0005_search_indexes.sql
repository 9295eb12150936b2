-- Faster lookups on a million papers (see bench/lookup.py):
-- * categories join the full-text index, so a category filter is an index lookup, not a read of
--   every matching paper ("cs.LG" is the phrase "cs lg" there; an archive, "cs", one token);
-- * a title-only index with prefix indexes answers autocomplete without touching abstracts.
DROP TRIGGER papers_fts_delete;
DROP TABLE papers_fts;
CREATE VIRTUAL TABLE papers_fts USING fts5(
    title, authors, abstract, categories, content='papers', content_rowid='rowid',
    tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO papers_fts (papers_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE papers_title_fts USING fts5(
    title, content='papers', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2',
    prefix='3 4 5'
);
INSERT INTO papers_title_fts (papers_title_fts) VALUES ('rebuild');

-- New and changed papers are indexed set-wise by the store; a deleted paper leaves both here.
CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
    INSERT INTO papers_fts (papers_fts, rowid, title, authors, abstract, categories)
    VALUES ('delete', old.rowid, old.title, old.authors, old.abstract, old.categories);
    INSERT INTO papers_title_fts (papers_title_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
END;
