-- New entries of a GIN index wait in its pending list until the list passes
-- gin_pending_list_limit (4 MB by default); the insert that passes it merges the whole list into
-- the index. One day's arXiv batch (1,500 papers) holds about 6 MB of entries, so with the default
-- every such batch merged inside its transaction: about a second on a million papers, while it
-- holds the ingest counter. With 16 MB a batch only appends, and the poll job merges the list
-- after the batch has committed (storage/postgres/ingest.py: tidy_after_ingest).
ALTER INDEX papers_search_gin SET (gin_pending_list_limit = 16384);
ALTER INDEX papers_title_gin SET (gin_pending_list_limit = 16384);
