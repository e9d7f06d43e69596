-- Benchmark: a 1,000-document transfer (about 20 kB of jsonb and one 200 kB file
-- per document) against the hand-written INSERT ... SELECT statements writing
-- the same rows. Run on a throwaway database as a superuser:
--   createdb sg_bench && psql -X -d sg_bench -f test/bench/transfer.sql
-- Every run is rolled back; the timings are printed by \timing.
\set ON_ERROR_STOP true
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS samegoal_transfer CASCADE;
\i test/fixtures/districts.sql

-- 1,000 documents of Maple's student 1, each with ~20 kB of jsonb content and
-- one 200 kB file of incompressible bytes.
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT 1, 1, 2, 'IEP', 'Bench IEP ' || i,
       jsonb_build_object('goals', (SELECT jsonb_agg(jsonb_build_object('n', g, 'text', md5(i::text || g::text) || md5(g::text)))
                                      FROM generate_series(1, 200) g))
  FROM generate_series(1, 1000) i;
INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
SELECT 1, d.id, 'bench.pdf', 'application/pdf',
       (SELECT decode(string_agg(md5(d.id::text || ':' || k::text), ''), 'hex') FROM generate_series(1, 12800) k)
  FROM samegoal.documents d WHERE d.title LIKE 'Bench IEP %';
VACUUM ANALYZE;
SELECT count(*) AS documents, pg_size_pretty(avg(octet_length(content::text))::bigint) AS avg_content_text,
       pg_size_pretty(avg(pg_column_size(content))::bigint) AS avg_content_stored,
       pg_size_pretty((SELECT avg(length(data))::bigint FROM samegoal.document_files WHERE filename = 'bench.pdf')) AS avg_file
  FROM samegoal.documents WHERE title LIKE 'Bench IEP %';
SELECT array_agg(id ORDER BY id) AS ids FROM samegoal.documents WHERE title LIKE 'Bench IEP %' \gset

\timing on
\o /dev/null
-- warm-up: caches and kept plans
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(:'ids', 'cedar.k12.example', 'C-2001', 'cteacher');
ROLLBACK;
\o

\set run 1
\ir transfer_run.sql
\set run 2
\ir transfer_run.sql
\set run 3
\ir transfer_run.sql
\set run 4
\ir transfer_run.sql
\set run 5
\ir transfer_run.sql
