-- The papers' full-text vector without word positions, kept in the row itself:
-- * no read uses its positions (phrases are matched in the title's vector, which keeps them), and
--   without them it is about half the size;
-- * STORAGE MAIN keeps it in the row (compressed) rather than in TOAST, where the longer texts
--   (the abstract) go instead: a search that walks the newest papers checks each one's vector,
--   and fetching it from TOAST made every row checked three times as slow (storage/postgres/plans.py).
-- Rows written from here on are stored so (see storage/postgres/search.py: SEARCH_VECTOR); this
-- rewrites the papers already stored (minutes for a million; VACUUM afterwards gives the space back).
ALTER TABLE papers ALTER COLUMN search SET STORAGE MAIN;
UPDATE papers SET search = strip(search);
