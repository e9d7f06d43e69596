-- The data of test/bench/nodes.sh: one node's database, loaded by a superuser into a
-- fresh database. psql variables:
--   states      how many states the node holds: 1 (Oregon) or up to 50 (Oregon first,
--               then the others)
--   districts, students, docs
--               per state: districts of 5 users and students x docs documents (about
--               2 kB of jsonb and one 8 kB file each)
--   transfer_docs
--               documents of the sending student NODES of send.bench.example (Oregon):
--               about 2 kB of jsonb and one 20 kB file each; the receiving student is
--               R-NODES of receive.bench.example
-- Oregon is loaded first and the same way whatever the number of states, so a node
-- holding every state has Oregon's rows with the same ids and contents as one holding
-- Oregon alone; the other states come after it. Deterministic.
\set ON_ERROR_STOP true
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_app') AS no_bench_app \gset
\if :no_bench_app
CREATE ROLE bench_app LOGIN IN ROLE samegoal_app;
\endif

CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO bench_app;

-- Incompressible bytes and jsonb documents to draw from (as in setup.sql).
CREATE TABLE bench.blob_pool (size_class text, n int, data bytea, PRIMARY KEY (size_class, n));
INSERT INTO bench.blob_pool
SELECT c.size_class, n,
       (SELECT decode(string_agg(md5(c.size_class || ':' || n || ':' || k), ''), 'hex')
          FROM generate_series(1, c.bytes / 16) k)
  FROM (VALUES ('20k', 20480, 32), ('8k', 8192, 64)) AS c(size_class, bytes, pool),
       generate_series(0, c.pool - 1) n;
CREATE TABLE bench.content_pool (n int PRIMARY KEY, content jsonb);
INSERT INTO bench.content_pool
SELECT n, jsonb_build_object(
           'present_levels', 'Reading fluency and written expression are below grade level.',
           'goals', (SELECT jsonb_agg(jsonb_build_object(
                                'n', g, 'area', (ARRAY['reading', 'writing', 'math', 'behavior'])[1 + g % 4],
                                'text', md5('2k' || n || ':' || g) || md5(g || ':' || n)))
                       FROM generate_series(1, 20) g))
  FROM generate_series(0, 31) n;

CREATE FUNCTION bench.assert(ok boolean, what text) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'unexpected benchmark data: %', what;
    END IF;
END
$$;

-- load_state(state): the state's districts, users, students, documents and files.
CREATE PROCEDURE bench.load_state(st text, districts int, students int, docs int)
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO samegoal.districts (domain, name, city, state)
    SELECT 'd' || i || '.' || lower(st) || '.bench.example', 'District ' || i || ' of ' || st, 'Capital', st
      FROM generate_series(1, districts) i;
    INSERT INTO samegoal.users (district_id, username, email, is_admin)
    SELECT d.id, u, u || '@' || d.domain, u = 'admin'
      FROM samegoal.districts d, unnest(ARRAY['admin', 'teacher', 'staff3', 'staff4', 'staff5']) u
     WHERE d.state = st ORDER BY d.id, u;
    INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name)
    SELECT d.id, 'S-' || k, 'Student', 'Number ' || k
      FROM samegoal.districts d, generate_series(1, students) k
     WHERE d.state = st ORDER BY d.id, k;
    INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
    SELECT s.district_id, s.id, u.id, 'IEP', 'IEP ' || j, c.content || jsonb_build_object('document', j)
      FROM samegoal.districts d
      JOIN samegoal.students s ON s.district_id = d.id
      JOIN samegoal.users u ON u.district_id = d.id AND u.username = 'teacher',
           generate_series(1, docs) j
      JOIN bench.content_pool c ON c.n = j % 32
     WHERE d.state = st ORDER BY s.id, j;
    INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
    SELECT f.district_id, f.id, 'document-' || f.id || '.pdf', 'application/pdf', b.data
      FROM (SELECT doc.district_id, doc.id FROM samegoal.documents doc
              JOIN samegoal.districts d ON d.id = doc.district_id WHERE d.state = st) f
      JOIN bench.blob_pool b ON b.size_class = '8k' AND b.n = f.id % 64
     ORDER BY f.id;
END
$$;

-- Oregon: its districts, then the two parties of the measured transfer.
CALL bench.load_state('OR', :districts, :students, :docs);
INSERT INTO samegoal.districts (domain, name, city, state)
VALUES ('send.bench.example', 'Sending District', 'Salem', 'OR'),
       ('receive.bench.example', 'Receiving District', 'Eugene', 'OR');
INSERT INTO samegoal.users (district_id, username, email, is_admin)
SELECT d.id, u.username, u.username || '@' || d.domain, u.is_admin
  FROM samegoal.districts d, (VALUES ('admin', true), ('teacher', false)) AS u(username, is_admin)
 WHERE d.domain IN ('send.bench.example', 'receive.bench.example')
 ORDER BY d.id, u.username;
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name)
SELECT d.id, CASE d.domain WHEN 'send.bench.example' THEN 'NODES' ELSE 'R-NODES' END, 'Avery', 'Lopez'
  FROM samegoal.districts d WHERE d.domain IN ('send.bench.example', 'receive.bench.example')
 ORDER BY d.id;
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, content)
SELECT s.district_id, s.id, u.id, 'Progress Report', 'Progress report ' || j, c.content || jsonb_build_object('document', j)
  FROM samegoal.students s
  JOIN samegoal.users u ON u.district_id = s.district_id AND u.username = 'teacher',
       generate_series(1, :transfer_docs) j
  JOIN bench.content_pool c ON c.n = j % 32
 WHERE s.sis_student_id = 'NODES'
 ORDER BY j;
INSERT INTO samegoal.document_files (district_id, document_id, filename, content_type, data)
SELECT d.district_id, d.id, 'document-' || d.id || '.pdf', 'application/pdf', b.data
  FROM samegoal.documents d
  JOIN samegoal.students s ON s.id = d.student_id AND s.sis_student_id = 'NODES'
  JOIN bench.blob_pool b ON b.size_class = '20k' AND b.n = d.id % 32
 ORDER BY d.id;

-- The other states, after Oregon.
SELECT format('CALL bench.load_state(%L, %s, %s, %s)', st, :districts, :students, :docs)
  FROM unnest(ARRAY['TX', 'CA', 'IL', 'OH', 'NY', 'PA', 'MI', 'NE', 'MO', 'OK', 'MN', 'WI',
                    'IA', 'KS', 'NJ', 'AR', 'IN', 'GA', 'CO', 'WA', 'MT', 'ND', 'SD', 'KY',
                    'AL', 'MA', 'VA', 'NC', 'TN', 'ME', 'NH', 'VT', 'AZ', 'NM', 'UT', 'ID',
                    'WY', 'NV', 'LA', 'MS', 'SC', 'FL', 'MD', 'DE', 'CT', 'RI', 'WV', 'AK',
                    'HI']) WITH ORDINALITY AS o(st, n)
 WHERE n < :states
 ORDER BY n \gexec

-- The set the pgbench scripts transfer (transfer.sql and transfer_plain.sql of
-- test/bench/pgbench, as the main benchmark uses them).
CREATE TABLE bench.id_sets (name text PRIMARY KEY, ids bigint[] NOT NULL);
GRANT SELECT ON bench.id_sets TO bench_app;
INSERT INTO bench.id_sets
SELECT 'nodes', array_agg(d.id ORDER BY d.id)
  FROM samegoal.documents d JOIN samegoal.students s ON s.id = d.student_id
 WHERE s.sis_student_id = 'NODES';

SELECT bench.assert(cardinality(ids) = :transfer_docs, 'the transfer set') FROM bench.id_sets WHERE name = 'nodes';
SELECT bench.assert(count(DISTINCT state) = :states, 'states') FROM samegoal.districts;
SELECT bench.assert(count(*) = :states * :districts * :students * :docs + :transfer_docs, 'documents')
  FROM samegoal.documents;
