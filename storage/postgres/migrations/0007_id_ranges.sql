-- A search whose words match many times the papers it ranks reads only the newest of them
-- (`id > cut`, storage/postgres/plans.py): a BRIN index of the ids gives those papers' pages
-- for next to nothing (papers are stored oldest first, so ids follow the pages), where the ids'
-- B-tree took 10 ms for 80,000 of them. For a query with 12,000 matches: 33 -> 17 ms.
CREATE INDEX papers_id_brin ON papers USING brin (id) WITH (pages_per_range = 32);
