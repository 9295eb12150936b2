-- Full-text search and autocomplete without reading the table:
-- * GIN over the papers' tsvector (title, authors, abstract: words as storage/postgres/search.py
--   spells them), matched with plainto_tsquery, so typed text is never tsquery syntax;
-- * GIN over the titles alone, for prefix matches ('word':*) while a title is being typed;
-- * a B-tree over the titles' words, for titles that start with the typed words;
-- * GIN over the categories with their archives, so a category filter is an index lookup.
CREATE INDEX papers_search_gin ON papers USING gin (search);
CREATE INDEX papers_title_gin ON papers USING gin (title_search);
CREATE INDEX papers_category_gin ON papers USING gin (category_keys);
CREATE INDEX papers_title_plain ON papers (title_plain);
