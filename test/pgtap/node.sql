-- Version 1.2, a node of a deployment split by state: every new function, its
-- privileges and error codes in the contract's order, the replica identities,
-- the fence in sg_act_as and the release of a moved state.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql
SELECT plan(69);
\ir ../fixtures/tap_share.sql
CREATE ROLE regress_sg_reporter LOGIN IN ROLE samegoal_reporting;

-- the objects and the role
SELECT has_function('samegoal', f, a, f) FROM (VALUES
    ('sg_configure_node', ARRAY['integer']), ('sg_node', ARRAY[]::text[]),
    ('sg_release_state', ARRAY['text']), ('sg_directory_export', ARRAY[]::text[]),
    ('sg_state_summary', ARRAY[]::text[])) t(f, a);
SELECT function_returns('samegoal', 'sg_release_state', ARRAY['text'], 'bigint');
SELECT columns_are('samegoal', 'node_states', ARRAY['state', 'status']);
SELECT col_is_pk('samegoal', 'node_states', 'state', 'node_states: one row per state');
SELECT has_role('samegoal_reporting');
SELECT ok(NOT rolcanlogin AND NOT rolsuper AND NOT rolbypassrls AND NOT rolcreaterole AND NOT rolcreatedb,
          'samegoal_reporting is NOLOGIN, no superuser, no BYPASSRLS')
  FROM pg_roles WHERE rolname = 'samegoal_reporting';
SELECT is_empty($$SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'samegoal_reporting'
                  UNION ALL SELECT p.proname FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = 'samegoal_reporting'$$,
                'samegoal_reporting owns nothing');
SELECT is(ARRAY(SELECT p.proname::text FROM pg_proc p
                 WHERE p.pronamespace = 'samegoal'::regnamespace
                   AND has_function_privilege('samegoal_reporting', p.oid, 'EXECUTE') ORDER BY 1),
          ARRAY['sg_directory_export', 'sg_node', 'sg_overdue_requests', 'sg_state_summary'],
          'samegoal_reporting may execute sg_node and the three reporting functions, nothing else');
SELECT is(ARRAY(SELECT c.relname::text FROM pg_class c
                 WHERE c.relnamespace = 'samegoal'::regnamespace AND c.relkind IN ('r', 'v')
                   AND has_table_privilege('samegoal_reporting', c.oid, 'SELECT') ORDER BY 1),
          ARRAY['state_transfer_rules']::text[], 'samegoal_reporting reads no table or view but the state rules, which everyone reads');
SELECT ok(has_function_privilege('samegoal_app', 'samegoal.sg_node()', 'EXECUTE'), 'samegoal_app may call sg_node');
SELECT ok(NOT has_function_privilege('samegoal_app', f, 'EXECUTE'), 'samegoal_app may not call ' || f)
  FROM unnest(ARRAY['samegoal.sg_configure_node(integer)', 'samegoal.sg_release_state(text)',
                    'samegoal.sg_directory_export()', 'samegoal.sg_state_summary()']) f;
SELECT ok(NOT has_table_privilege('samegoal_app', t, 'INSERT,UPDATE,DELETE,SELECT'), 'samegoal_app cannot touch ' || t)
  FROM unnest(ARRAY['samegoal.node_states', 'samegoal.node_config']) t;
SELECT ok((SELECT count(*) FROM pg_extension e, unnest(e.extconfig) c
            WHERE e.extname = 'samegoal_transfer'
              AND c IN ('samegoal.node_states'::regclass, 'samegoal.node_config'::regclass)) = 2,
          'node_states and node_config are dumped by pg_dump');

-- node ids
SELECT is(sg_node(), 0, 'node 0 until configured');
SET ROLE regress_sg_app;
SELECT is(sg_node(), 0, 'samegoal_app reads the node number');
SELECT throws_ok('SELECT samegoal.sg_configure_node(1)', '42501', NULL, 'samegoal_app cannot configure the node');
SET ROLE regress_sg_reporter;
SELECT is(sg_node(), 0, 'samegoal_reporting reads the node number');
SELECT throws_ok('SELECT samegoal.sg_configure_node(1)', '42501', NULL, 'samegoal_reporting cannot configure the node');
RESET ROLE;
SELECT throws_ok('SELECT samegoal.sg_configure_node(' || n || ')', '22023', NULL, 'node ' || n || ' is out of range')
  FROM unnest(ARRAY['NULL', '-1', '8192']) n;
SELECT lives_ok('SELECT samegoal.sg_configure_node(5)', 'a superuser configures node 5');
SELECT is(sg_node(), 5, 'sg_node() is 5');
SELECT is((SELECT count(*)::int FROM pg_sequence
            WHERE seqrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'samegoal'::regnamespace)
              AND (seqmin, seqmax, seqcycle) = (5 * 2^40 + 1, 6 * 2^40 - 1, false)), 8,
          'the eight identity sequences allocate from 5 * 2^40 + 1 to 6 * 2^40 - 1');
SELECT is((SELECT max(id) FROM samegoal.districts WHERE id < 5 * 2^40), 3::bigint, 'rows made before keep their ids');
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name) VALUES (1, 'M-5001', 'Ida', 'Node');
SELECT is((SELECT id FROM samegoal.students WHERE sis_student_id = 'M-5001'), (5 * 2^40 + 1)::bigint, 'new ids start at the node''s range');
SELECT throws_ok('SELECT samegoal.sg_configure_node(4)', '2200H', NULL, 'a node below the ids handed out: 2200H');
SELECT is(sg_node(), 5, '...and nothing changed');
SELECT lives_ok('SELECT samegoal.sg_configure_node(5)', 'the same node again');
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name) VALUES (1, 'M-5002', 'Ida', 'Node');
SELECT is((SELECT id FROM samegoal.students WHERE sis_student_id = 'M-5002'), (5 * 2^40 + 2)::bigint, 'a sequence inside the range keeps its value');
SELECT lives_ok($$SELECT setval('samegoal.users_id_seq', (6 * 2^40 - 1)::bigint)$$, 'the last id of node 5');
SELECT throws_ok($$SELECT nextval('samegoal.users_id_seq')$$, '2200H', NULL, 'running out is an error, never node 6''s id');
SELECT throws_ok('DELETE FROM samegoal.node_config', '42501', NULL, 'the node number is never deleted');

-- replica identity: every table of tenant data, through a unique index with its district
SELECT is(ARRAY(SELECT c.relname::text FROM pg_class c
                  JOIN pg_index i ON i.indrelid = c.oid AND i.indisreplident AND i.indisunique
                                 AND i.indimmediate AND i.indpred IS NULL
                 WHERE c.relreplident = 'i'
                   AND EXISTS (SELECT FROM unnest(i.indkey) k JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k
                                WHERE a.attname IN ('district_id', 'sending_district_id', 'requesting_district_id')
                                   OR (c.relname = 'districts' AND a.attname = 'id'))
                 ORDER BY c.relname::text COLLATE "C"),
          ARRAY['district_closed_days', 'districts', 'documents', 'file_contents', 'files', 'purged_documents', 'students',
                'transfer_documents', 'transfer_files', 'transfer_requests', 'transfers', 'users'],
          'every table of tenant data has a replica identity index with its district');

-- the fence
SET ROLE regress_sg_app;
SELECT throws_ok($$INSERT INTO samegoal.node_states VALUES ('OR', 'moved_out')$$, '42501', NULL, 'samegoal_app cannot write node_states');
RESET ROLE;
SELECT throws_ok($$INSERT INTO samegoal.node_states VALUES ('Or', 'moved_out')$$, '23514', NULL, 'states are two upper-case letters');
SELECT throws_ok($$INSERT INTO samegoal.node_states VALUES ('OR', 'leaving')$$, '23514', NULL, 'three statuses only');
INSERT INTO samegoal.node_states VALUES ('OR', 'serving');
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'serving: acting works');
UPDATE samegoal.node_states SET status = 'moved_out';
SELECT throws_ok($$SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')$$, 'SG014',
                 'this district is served by another node', 'moved_out: SG014');
SELECT throws_ok($$SELECT samegoal.sg_act_as('cedar.k12.example', 'no such login')$$, 'SG014', NULL,
                 'SG014 comes before the login is looked up');
SELECT is(sg_current_district_id(), 1::bigint, 'a refused sg_act_as leaves the identity as it was');
UPDATE samegoal.node_states SET status = 'moving_in';
SELECT throws_ok($$SELECT samegoal.sg_act_as('Cedar.K12.example ', 'cadmin')$$, 'SG014', NULL, 'moving_in: SG014');
SELECT is(sg_act_as('pine.k12.example', 'padmin'), 7::bigint, 'another state is served');
SET ROLE regress_sg_outsider;
SELECT throws_ok($$SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')$$, '42501', NULL, '42501 comes first');
RESET ROLE;

-- reporting
SET ROLE regress_sg_reporter;
SELECT is(ARRAY(SELECT domain FROM sg_directory_export()), ARRAY['pine.k12.example'], 'the export leaves out states not served');
SELECT results_eq('SELECT * FROM samegoal.sg_state_summary()',
                  $$VALUES ('WA'::text, 1::bigint, 1::bigint, 1::bigint, 0::bigint, 0::bigint)$$, 'the summary of the served states');
SELECT throws_ok('SELECT count(*) FROM samegoal.districts', '42501', NULL, 'samegoal_reporting reads no table');
SET ROLE regress_sg_app;
SELECT throws_ok('SELECT * FROM samegoal.sg_state_summary()', '42501', NULL, 'samegoal_app: no summary');
SELECT throws_ok('SELECT * FROM samegoal.sg_directory_export()', '42501', NULL, 'samegoal_app: no export');
RESET ROLE;
UPDATE samegoal.node_states SET status = 'serving';
SELECT results_eq('SELECT state, districts, students, documents, file_bytes, transfers FROM samegoal.sg_state_summary()',
                  $$VALUES ('OR'::text, 2::bigint, 6::bigint, 5::bigint, 33::bigint, 0::bigint),
                           ('WA', 1, 1, 1, 0, 0)$$, 'a superuser sees the summary: live and deleted documents, bytes of files');

-- the release
SELECT throws_ok($$SELECT samegoal.sg_release_state('OR')$$, 'SG014', NULL, 'a serving state is not released');
SELECT throws_ok($$SELECT samegoal.sg_release_state('NY')$$, 'SG014', NULL, 'a state without a row is not released');
SET ROLE regress_sg_app;
SELECT throws_ok($$SELECT samegoal.sg_release_state('OR')$$, '42501', NULL, 'samegoal_app cannot release a state');
RESET ROLE;
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'acting as maple''s admin');
SELECT is((SELECT count(*)::int FROM sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2001', 'cteacher')), 2, 'a transfer in Oregon');
SELECT lives_ok($$SELECT samegoal.sg_request_transfer('cedar.k12.example', 'M-1002', 'madmin')$$, 'a request in Oregon');
UPDATE samegoal.node_states SET status = 'moved_out';
SELECT (SELECT count(*) FROM samegoal.districts WHERE state = 'OR')
     + (SELECT count(*) FROM samegoal.users WHERE district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.students WHERE district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.documents WHERE district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.files WHERE district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.file_contents WHERE district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.transfer_files WHERE sending_district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.transfers WHERE sending_district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.transfer_documents WHERE sending_district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.purged_documents WHERE district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.transfer_requests WHERE requesting_district_id IN (1, 2))
     + (SELECT count(*) FROM samegoal.transfer_arrivals WHERE receiving_district_id IN (1, 2)) AS oregon_rows \gset
SELECT is(sg_release_state('OR'), :oregon_rows::bigint, 'the release counts every row of tenant data it deleted');
SELECT is((SELECT count(*)::int FROM samegoal.districts WHERE state = 'OR')
        + (SELECT count(*)::int FROM samegoal.transfers) + (SELECT count(*)::int FROM samegoal.transfer_requests)
        + (SELECT count(*)::int FROM samegoal.transfer_documents) + (SELECT count(*)::int FROM samegoal.transfer_files)
        + (SELECT count(*)::int FROM samegoal.documents WHERE district_id IN (1, 2))
        + (SELECT count(*)::int FROM samegoal.files WHERE district_id IN (1, 2))
        + (SELECT count(*)::int FROM samegoal.file_contents WHERE district_id IN (1, 2))
        + (SELECT count(*)::int FROM samegoal.district_words WHERE state = 'OR'), 0, 'nothing of Oregon is left');
SELECT throws_ok($$SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')$$, '28000', NULL, 'after the release: 28000');
SELECT throws_ok('TRUNCATE samegoal.transfer_requests', '42501', NULL, 'requests are refused TRUNCATE again');
SELECT is((SELECT count(*)::int FROM pg_trigger WHERE tgenabled = 'A'
            AND tgname IN ('transfers_kept', 'transfer_documents_kept', 'transfer_requests_kept')), 3,
          'the refusal triggers are enabled again');

SELECT * FROM finish();
ROLLBACK;
