-- Search chooses how to read each query from ANALYZE's statistics of the vectors
-- (storage/postgres/plans.py): each listed word's share of the papers, and for any word not
-- listed, at most the share of the rarest listed one. With the default statistics target ANALYZE
-- lists the 1,000 commonest words of the full text, down to about 2% of the papers: a word in 2%
-- looked rare, took the bitmap and fetched 20,000 rows (70 ms) where a walk reads 25,000 ids
-- newest first until it has its 500 (18 ms). A target of 1000 lists up to 10,000 words, down to
-- about 0.1% on a million papers; ANALYZE then samples 300,000 papers (17 s on a million).
ALTER TABLE papers ALTER COLUMN search SET STATISTICS 1000, ALTER COLUMN title_search SET STATISTICS 1000;
ANALYZE papers;
