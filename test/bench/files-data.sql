-- The data test/bench/files.sh measures on, loaded by a superuser into a fresh database
-- where samegoal_transfer is installed (1.3, or 1.2.1 for the baseline: the same rows in
-- both). psql variable: docs, the documents of the sending student BIG (about 20 kB of
-- jsonb and one incompressible 200 kB file each, as test/bench/run's transfer).
--
--   send.bench.example     admin, teacher; students BIG (docs documents with a file
--                          each) and UPLOAD (one document, which uploads attach to)
--   receive.bench.example  admin, teacher; students R-BIG (the timed transfers, rolled
--                          back), R-SIZE (the one committed transfer, whose copies the
--                          reads read), all named as BIG is
--   bench.id_sets          'big': BIG's documents
--   bench.blob_pool        16 incompressible 200 kB values, read by the upload script
--   bench.plain_document_files  a table of 1.2's document_files shape (bytes in the
--                          row), which the plain-SQL copy writes
\set ON_ERROR_STOP true
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_app') THEN
        CREATE ROLE bench_app LOGIN IN ROLE samegoal_app;
    END IF;
END
$$;

CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO bench_app;

-- Incompressible: md5 output, 16 bytes at a time.
CREATE TABLE bench.blob_pool (n int PRIMARY KEY, data bytea NOT NULL);
INSERT INTO bench.blob_pool
SELECT n, (SELECT decode(string_agg(md5('200k:' || n || ':' || k), ''), 'hex') FROM generate_series(1, 204800 / 16) k)
  FROM generate_series(0, 15) n;
CREATE TABLE bench.content_pool (n int PRIMARY KEY, content jsonb NOT NULL);
INSERT INTO bench.content_pool
SELECT n, jsonb_build_object(
           'present_levels', 'Reading fluency and written expression are below grade level.',
           'goals', (SELECT jsonb_agg(jsonb_build_object(
                                'n', g, 'area', (ARRAY['reading', 'writing', 'math', 'behavior'])[1 + g % 4],
                                'text', md5('20k' || n || ':' || g) || md5(g || ':' || n)))
                       FROM generate_series(1, 200) g))
  FROM generate_series(0, 15) n;

CREATE FUNCTION bench.assert(ok boolean, what text) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'unexpected benchmark data: %', what;
    END IF;
END
$$;

INSERT INTO samegoal.districts (domain, name, city, state)
VALUES ('send.bench.example', 'Sending District', 'Salem', 'OR'),
       ('receive.bench.example', 'Receiving District', 'Eugene', 'OR');
INSERT INTO samegoal.users (district_id, username, email, is_admin)
SELECT d.id, u.username, u.username || '@' || d.domain, u.is_admin
  FROM samegoal.districts d, (VALUES ('admin', true), ('teacher', false)) AS u(username, is_admin)
 ORDER BY d.id, u.username;
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name)
SELECT d.id, s.sis, 'Avery', 'Lopez'
  FROM samegoal.districts d
  JOIN (VALUES ('send.bench.example', 'BIG'), ('send.bench.example', 'UPLOAD'),
               ('receive.bench.example', 'R-BIG'), ('receive.bench.example', 'R-SIZE')) AS s(domain, sis)
    ON s.domain = d.domain
 ORDER BY d.id, s.sis;

INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT s.district_id, s.id, u.id, 'IEP', 'IEP ' || j, c.content || jsonb_build_object('document', j)
  FROM samegoal.students s
  JOIN samegoal.users u ON u.district_id = s.district_id AND u.username = 'teacher',
       generate_series(1, :docs) j
  JOIN bench.content_pool c ON c.n = j % 16
 WHERE s.sis_student_id = 'BIG'
 ORDER BY j;
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT s.district_id, s.id, u.id, 'Evaluation', 'Uploads', '{"uploads": true}'
  FROM samegoal.students s
  JOIN samegoal.users u ON u.district_id = s.district_id AND u.username = 'teacher'
 WHERE s.sis_student_id = 'UPLOAD';
-- One stored copy per file (in 1.3 every insert through the view is new content).
INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
SELECT d.district_id, d.id, 'document-' || d.id || '.pdf', 'application/pdf', b.data
  FROM samegoal.documents d
  JOIN samegoal.students s ON s.id = d.student_id AND s.sis_student_id = 'BIG'
  JOIN bench.blob_pool b ON b.n = d.id % 16
 ORDER BY d.id;

CREATE TABLE bench.id_sets (name text PRIMARY KEY, ids bigint[] NOT NULL);
GRANT SELECT ON bench.id_sets TO bench_app;
INSERT INTO bench.id_sets
SELECT 'big', array_agg(d.id ORDER BY d.id)
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 WHERE s.sis_student_id = 'BIG';

-- The table the plain-SQL copy writes its files to: document_files as 1.2 had it, the
-- bytes in the row, with its keys, foreign key and index.
CREATE TABLE bench.plain_document_files (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id     bigint NOT NULL,
    document_id     bigint NOT NULL,
    filename        text NOT NULL CHECK (btrim(filename) <> ''),
    content_type    text NOT NULL DEFAULT 'application/octet-stream',
    data            bytea NOT NULL,
    UNIQUE (district_id, id),
    FOREIGN KEY (district_id, document_id) REFERENCES samegoal.documents (district_id, id)
);
CREATE INDEX ON bench.plain_document_files (district_id, document_id);

SELECT bench.assert((SELECT count(*) FROM samegoal.document_files) = :docs
                    AND (SELECT sum(octet_length(data)) FROM samegoal.document_files) = :docs * 204800::bigint,
                    'files of BIG');
