-- The papers' full-text vector without word positions, and what search reads kept in the row:
-- * no read uses the full-text vector's positions (phrases are matched in the title's vector,
--   which keeps them), and without them it is about half the size;
-- * STORAGE MAIN keeps a column in the row (compressed) rather than in TOAST, where the long
--   texts (abstract, authors) go instead. A search checks the vectors of thousands of papers and
--   reads the title and categories of its candidates: fetching any of them from TOAST made every
--   row three to twenty times as slow (storage/postgres/plans.py).
-- Rows written from here on are stored so (see storage/postgres/search.py: SEARCH_VECTOR); this
-- rewrites the papers already stored (minutes for a million; VACUUM afterwards gives the space back).
ALTER TABLE papers ALTER COLUMN search SET STORAGE MAIN, ALTER COLUMN title_search SET STORAGE MAIN,
    ALTER COLUMN title SET STORAGE MAIN, ALTER COLUMN categories SET STORAGE MAIN;
UPDATE papers SET search = strip(search);
