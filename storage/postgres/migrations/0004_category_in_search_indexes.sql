-- A search with a category filter looks the category up in the same GIN index as the words.
-- With separate indexes PostgreSQL builds a bitmap of every paper holding a common word (a third
-- of them for `systems`) before intersecting it with the category's: 110 ms on a million papers.
-- In one multicolumn GIN index the scan steps through the longer lists to the next entry of the
-- shorter one instead: 18 ms. A read without a category uses the index as before, and one of the
-- category alone too, so the category's own index goes.
-- The titles' B-tree carries each paper's id and categories, so "titles starting with" finds its
-- newest papers in the index alone (an index-only scan) before it reads their rows: 35 -> 3.5 ms
-- for a title start shared by 12,000 papers (storage/postgres/known_item.py: starts_with).
-- Building them takes about a minute for a million papers.
SET LOCAL maintenance_work_mem = '256MB';
DROP INDEX papers_search_gin;
DROP INDEX papers_title_gin;
DROP INDEX papers_category_gin;
DROP INDEX papers_title_plain;
CREATE INDEX papers_search_gin ON papers USING gin (search, category_keys);
CREATE INDEX papers_title_gin ON papers USING gin (title_search, category_keys);
CREATE INDEX papers_title_plain ON papers (title_plain) INCLUDE (id, category_keys);
