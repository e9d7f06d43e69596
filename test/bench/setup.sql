-- The data test/bench/run measures on, loaded into a fresh database by a superuser.
-- psql variables (set by test/bench/run):
--   tenants, users, students,   the tenant districts, each with users users (an admin,
--   docs                        a teacher and staff) and students x docs documents
--   big_docs                    documents of the sending student BIG (about 20 kB of
--                               jsonb and one 200 kB file each)
--   scale_docs                  documents of the sending student SCALE (about 2 kB of
--                               jsonb and one 20 kB file each)
--
-- Layout, which the pgbench scripts compute ids from (checked at the end):
--   districts 1..tenants        d<i>.bench.example, all in Oregon
--   users (i-1)*users+1, +2     admin (an administrator) and teacher of district i,
--                               then staff3, staff4, ...
--   students (i-1)*students+k   S-<k> of district i, k = 1..students
--   documents                   docs per student, in student order: the documents of
--                               student s are (s-1)*docs+1 .. s*docs
-- and two more districts, send.bench.example (student BIG with big_docs documents,
-- SCALE with scale_docs) and receive.bench.example (students R-BIG, R-SCALE, R-PURGE).
\set ON_ERROR_STOP true
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
CREATE ROLE bench_app LOGIN IN ROLE samegoal_app;

CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO bench_app;

-- Incompressible bytes and jsonb documents to draw from: every document and file
-- gets a value of its own size class from these pools (PostgreSQL stores each copy
-- separately, so sharing the values only makes loading fast).
CREATE TABLE bench.blob_pool (size_class text, n int, data bytea, PRIMARY KEY (size_class, n));
INSERT INTO bench.blob_pool
SELECT c.size_class, n,
       (SELECT decode(string_agg(md5(c.size_class || ':' || n || ':' || k), ''), 'hex')
          FROM generate_series(1, c.bytes / 16) k)
  FROM (VALUES ('200k', 204800, 16), ('20k', 20480, 32), ('8k', 8192, 64)) AS c(size_class, bytes, pool),
       generate_series(0, c.pool - 1) n;

CREATE TABLE bench.content_pool (size_class text, n int, content jsonb, PRIMARY KEY (size_class, n));
INSERT INTO bench.content_pool
SELECT c.size_class, n,
       jsonb_build_object(
           'present_levels', 'Reading fluency and written expression are below grade level.',
           'goals', (SELECT jsonb_agg(jsonb_build_object(
                                'n', g, 'area', (ARRAY['reading', 'writing', 'math', 'behavior'])[1 + g % 4],
                                'text', md5(c.size_class || n || ':' || g) || md5(g || ':' || n)))
                       FROM generate_series(1, c.goals) g))
  FROM (VALUES ('20k', 200, 16), ('2k', 20, 32)) AS c(size_class, goals, pool),
       generate_series(0, c.pool - 1) n;

CREATE FUNCTION bench.assert(ok boolean, what text) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'unexpected benchmark data: %', what;
    END IF;
END
$$;

-- The tenant districts.
INSERT INTO samegoal.districts (domain, name, city, state)
SELECT 'd' || i || '.bench.example', 'Bench District ' || i, 'Salem', 'OR'
  FROM generate_series(1, :tenants) i;
INSERT INTO samegoal.users (district_id, username, email, full_name, is_admin)
SELECT i, u.username, u.username || '@d' || i || '.bench.example', initcap(u.username) || ' ' || i, k = 1
  FROM generate_series(1, :tenants) i, generate_series(1, :users) k,
       LATERAL (SELECT CASE k WHEN 1 THEN 'admin' WHEN 2 THEN 'teacher' ELSE 'staff' || k END AS username) u
 ORDER BY i, k;
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name)
SELECT i, 'S-' || k, 'Student', 'Number ' || k
  FROM generate_series(1, :tenants) i, generate_series(1, :students) k
 ORDER BY i, k;
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content, created_at)
SELECT s.district_id, s.id, (s.district_id - 1) * :users + 2, t.doc_type, t.doc_type || ' ' || j,
       c.content || jsonb_build_object('document', j), now() - make_interval(days => j)
  FROM samegoal.students s, generate_series(1, :docs) j,
       bench.content_pool c,
       LATERAL (SELECT (ARRAY['IEP', 'Evaluation', '504 Plan', 'Progress Report', 'Prior Written Notice'])[1 + j % 5]
                       AS doc_type) t
 WHERE s.district_id <= :tenants AND c.size_class = '2k' AND c.n = (s.id * :docs + j) % 32
 ORDER BY s.id, j;
INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
SELECT d.district_id, d.id, 'document-' || d.id || '.pdf', 'application/pdf', b.data
  FROM samegoal.documents d
  JOIN bench.blob_pool b ON b.size_class = '8k' AND b.n = d.id % 64
 ORDER BY d.id;

-- The sending and receiving districts of the single-transfer, scale and purge measures.
INSERT INTO samegoal.districts (domain, name, city, state)
VALUES ('send.bench.example', 'Sending District', 'Salem', 'OR'),
       ('receive.bench.example', 'Receiving District', 'Eugene', 'OR');
INSERT INTO samegoal.users (district_id, username, email, is_admin)
SELECT d.id, u.username, u.username || '@' || d.domain, u.is_admin
  FROM samegoal.districts d, (VALUES ('admin', true), ('teacher', false)) AS u(username, is_admin)
 WHERE d.domain IN ('send.bench.example', 'receive.bench.example');
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name)
SELECT d.id, s.sis, 'Avery', 'Lopez'
  FROM samegoal.districts d
  JOIN (VALUES ('send.bench.example', 'BIG'), ('send.bench.example', 'SCALE'),
               ('receive.bench.example', 'R-BIG'), ('receive.bench.example', 'R-SCALE'),
               ('receive.bench.example', 'R-PURGE')) AS s(domain, sis) ON s.domain = d.domain;

INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT s.district_id, s.id, u.id, 'IEP', 'IEP ' || j, c.content || jsonb_build_object('document', j)
  FROM samegoal.students s
  JOIN samegoal.users u ON u.district_id = s.district_id AND u.username = 'teacher',
       generate_series(1, :big_docs) j
  JOIN bench.content_pool c ON c.size_class = '20k' AND c.n = j % 16
 WHERE s.sis_student_id = 'BIG'
 ORDER BY j;
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT s.district_id, s.id, u.id, 'Progress Report', 'Progress report ' || j, c.content || jsonb_build_object('document', j)
  FROM samegoal.students s
  JOIN samegoal.users u ON u.district_id = s.district_id AND u.username = 'teacher',
       generate_series(1, :scale_docs) j
  JOIN bench.content_pool c ON c.size_class = '2k' AND c.n = j % 32
 WHERE s.sis_student_id = 'SCALE'
 ORDER BY j;
INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
SELECT d.district_id, d.id, 'document-' || d.id || '.pdf', 'application/pdf',
       b.data
  FROM samegoal.documents d
  JOIN samegoal.students s ON s.district_id = d.district_id AND s.id = d.student_id
  JOIN bench.blob_pool b
    ON (s.sis_student_id, b.size_class, b.n) IN (('BIG', '200k', d.id % 16), ('SCALE', '20k', d.id % 32))
 WHERE s.sis_student_id IN ('BIG', 'SCALE')
 ORDER BY d.id;

-- Document id sets the pgbench scripts transfer, by name.
-- The table the plain-SQL baselines write their files to: document_files as 1.2
-- had it, the bytes in the row (in 1.3 samegoal.document_files is a view whose
-- trigger stores and hashes new content, no plain copy).
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

CREATE TABLE bench.id_sets (name text PRIMARY KEY, ids bigint[] NOT NULL);
GRANT SELECT ON bench.id_sets TO bench_app;
INSERT INTO bench.id_sets
SELECT 'big', array_agg(d.id ORDER BY d.id)
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 WHERE s.sis_student_id = 'BIG';
INSERT INTO bench.id_sets
SELECT 'scale-' || n, (array_agg(d.id ORDER BY d.id))[1:n]
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id,
       (VALUES (10), (100), (1000), (10000)) AS sizes(n)
 WHERE s.sis_student_id = 'SCALE' AND n <= :scale_docs
 GROUP BY n;

-- The layout the tenant scripts rely on.
SELECT bench.assert(bool_and(u.id = (u.district_id - 1) * :users + 1 + (u.username = 'teacher')::int), 'user ids')
  FROM samegoal.users u WHERE u.district_id <= :tenants AND u.username IN ('admin', 'teacher');
SELECT bench.assert(bool_and(s.id = (s.district_id - 1) * :students + substr(s.sis_student_id, 3)::int),
                    'student ids')
  FROM samegoal.students s WHERE s.district_id <= :tenants;
SELECT bench.assert(bool_and(d.student_id = (d.id - 1) / :docs + 1), 'document ids')
  FROM samegoal.documents d WHERE d.district_id <= :tenants;
SELECT bench.assert(count(*) = :tenants * :students * :docs, 'tenant documents')
  FROM samegoal.documents d WHERE d.district_id <= :tenants;

-- The usual multi-tenant pattern, for the acting-identity measure: the same
-- students and documents in tables of their own whose policy compares district_id
-- with a setting the application sets itself, transaction-locally. bench_app reads
-- them through the policy (it does not own them).
CREATE TABLE bench.tenant_students (LIKE samegoal.students);
CREATE TABLE bench.tenant_documents (LIKE samegoal.documents);
INSERT INTO bench.tenant_students SELECT * FROM samegoal.students WHERE district_id <= :tenants;
INSERT INTO bench.tenant_documents SELECT * FROM samegoal.documents WHERE district_id <= :tenants;
ALTER TABLE bench.tenant_students ADD PRIMARY KEY (id), ADD UNIQUE (district_id, sis_student_id);
ALTER TABLE bench.tenant_documents ADD PRIMARY KEY (id);
CREATE INDEX ON bench.tenant_documents (district_id, student_id);
ALTER TABLE bench.tenant_students ENABLE ROW LEVEL SECURITY;
ALTER TABLE bench.tenant_documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON bench.tenant_students
    USING (district_id = current_setting('app.district_id')::bigint);
CREATE POLICY tenant ON bench.tenant_documents
    USING (district_id = current_setting('app.district_id')::bigint);
GRANT SELECT ON bench.tenant_students, bench.tenant_documents TO bench_app;
