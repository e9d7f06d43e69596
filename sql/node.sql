-- Version 1.2, a node of a deployment split by state: node ids, the replica
-- identities under a publication filtered by district, the fence (SG014), the
-- release of a moved state, and national reporting with its role.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\i test/fixtures/roles.sql
\set ECHO all
CREATE ROLE regress_sg_reporter LOGIN IN ROLE samegoal_reporting;

-- The reporting role: like samegoal_app, NOLOGIN, owns nothing.
SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb
  FROM pg_roles WHERE rolname LIKE 'samegoal\_%' ORDER BY 1;

-- Node ids ------------------------------------------------------------------

-- Until configured: node 0, the sequences as created.
SELECT samegoal.sg_node();
SELECT count(*) AS default_sequences FROM pg_sequence
 WHERE seqrelid::regclass::text LIKE 'samegoal.%' AND seqmin = 1 AND seqmax = 9223372036854775807;
SET ROLE regress_sg_app;
SELECT samegoal.sg_node();
SELECT samegoal.sg_configure_node(1);
SET ROLE regress_sg_reporter;
SELECT samegoal.sg_node();
SELECT samegoal.sg_configure_node(1);
SET ROLE regress_sg_outsider;
SELECT samegoal.sg_node();
RESET ROLE;
-- even with EXECUTE, only a superuser
GRANT EXECUTE ON FUNCTION samegoal.sg_configure_node(integer) TO regress_sg_app;
SET ROLE regress_sg_app;
SELECT samegoal.sg_configure_node(1);
RESET ROLE;
REVOKE EXECUTE ON FUNCTION samegoal.sg_configure_node(integer) FROM regress_sg_app;
SELECT samegoal.sg_configure_node(NULL);
SELECT samegoal.sg_configure_node(-1);
SELECT samegoal.sg_configure_node(8192);

-- Node 2: every identity sequence of the extension, from 2 * 2^40 + 1 to 3 * 2^40 - 1.
SELECT samegoal.sg_configure_node(2);
SELECT samegoal.sg_node();
SELECT seqrelid::regclass AS sequence, seqmin, seqmax, seqstart, seqcycle FROM pg_sequence
 WHERE seqrelid::regclass::text LIKE 'samegoal.%' ORDER BY seqrelid::regclass::text;
INSERT INTO samegoal.districts (domain, name, city, state)
VALUES ('spruce.k12.example', 'Spruce School District', 'Boise', 'ID') RETURNING id;
INSERT INTO samegoal.users (district_id, username, is_admin)
VALUES (2199023255553, 'sadmin', true) RETURNING id;
-- configured again: a sequence already inside the range keeps its value
SELECT samegoal.sg_configure_node(2);
INSERT INTO samegoal.users (district_id, username)
VALUES (2199023255553, 'steacher') RETURNING id;
-- a node whose range lies below what the sequences handed out: 2200H, nothing changes
SELECT samegoal.sg_configure_node(1);
SELECT samegoal.sg_configure_node(0);
SELECT samegoal.sg_node(), (SELECT seqmin FROM pg_sequence WHERE seqrelid = 'samegoal.users_id_seq'::regclass);
-- a node above: every sequence starts at its first value
BEGIN;
SELECT samegoal.sg_configure_node(8191);
SELECT nextval('samegoal.students_id_seq') AS first_of_8191,
       (SELECT seqmax FROM pg_sequence WHERE seqrelid = 'samegoal.students_id_seq'::regclass) AS last_of_8191;
-- running out is an error, never a value of another node
SELECT setval('samegoal.students_id_seq', 9007199254740991);
SELECT nextval('samegoal.students_id_seq');
ROLLBACK;
-- nobody deletes the node number; only superusers write it
DELETE FROM samegoal.node_config;
SET ROLE regress_sg_app;
SELECT * FROM samegoal.node_config;
UPDATE samegoal.node_config SET node_no = 1;
RESET ROLE;
-- the sequences' current values are left alone by a restore of the row too
UPDATE samegoal.node_config SET node_no = 2;
SELECT last_value FROM samegoal.users_id_seq;

-- Replica identity -------------------------------------------------------------

-- Every table of tenant data: a unique, immediate, non-partial index on NOT NULL
-- columns that include its district column(s).
SELECT c.relname, c.relreplident, i.indexrelid::regclass AS index,
       i.indisunique AND i.indimmediate AND i.indpred IS NULL AS usable,
       ARRAY(SELECT a.attname FROM unnest(i.indkey) k JOIN pg_attribute a
               ON a.attrelid = c.oid AND a.attnum = k ORDER BY a.attnum) AS columns,
       (SELECT bool_and(a.attnotnull) FROM unnest(i.indkey) k JOIN pg_attribute a
               ON a.attrelid = c.oid AND a.attnum = k) AS not_null
  FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisreplident
 WHERE c.oid IN ('samegoal.districts'::regclass, 'samegoal.users'::regclass, 'samegoal.students'::regclass,
                 'samegoal.documents'::regclass, 'samegoal.files'::regclass, 'samegoal.file_contents'::regclass,
                 'samegoal.transfers'::regclass, 'samegoal.transfer_documents'::regclass,
                 'samegoal.transfer_files'::regclass,
                 'samegoal.purged_documents'::regclass, 'samegoal.transfer_requests'::regclass)
 ORDER BY c.oid;

-- A publication of Oregon's districts (maple and cedar) carries updates and
-- deletes of every table: the application's transfers, deletes, restores,
-- purges, requests and acknowledgements all work while it exists.
SET client_min_messages = error;  -- (a warning when wal_level is not logical)
CREATE PUBLICATION regress_sg_oregon FOR TABLE
    samegoal.districts WHERE (id IN (1, 2)),
    samegoal.users WHERE (district_id IN (1, 2)),
    samegoal.students WHERE (district_id IN (1, 2)),
    samegoal.documents WHERE (district_id IN (1, 2)),
    samegoal.files WHERE (district_id IN (1, 2)),
    samegoal.file_contents WHERE (district_id IN (1, 2)),
    samegoal.transfers WHERE (sending_district_id IN (1, 2)),
    samegoal.transfer_documents WHERE (sending_district_id IN (1, 2)),
    samegoal.transfer_files WHERE (sending_district_id IN (1, 2)),
    samegoal.purged_documents WHERE (district_id IN (1, 2)),
    samegoal.transfer_requests WHERE (requesting_district_id IN (1, 2));
RESET client_min_messages;
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT count(*) FROM samegoal.sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2001', 'cadmin');
UPDATE samegoal.documents SET title = 'IEP 2025-2026 (amended)' WHERE id = 1;
UPDATE samegoal.document_files SET filename = 'iep-signed.pdf' WHERE id = 1;
UPDATE samegoal.students SET first_name = 'Avery J.' WHERE id = 1;
UPDATE samegoal.users SET full_name = 'Morgan A. Admin' WHERE id = 1;
SELECT samegoal.sg_set_transfers_enabled(true);
SELECT samegoal.sg_request_transfer('cedar.k12.example', 'M-1002', 'madmin') AS request_id \gset
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_acknowledge_transfer(t.id) FROM samegoal.transfers t;
SELECT samegoal.sg_decline_transfer_request(:request_id, 'No such student here');
SELECT samegoal.sg_delete_documents(ARRAY(SELECT id FROM samegoal.documents WHERE transfer_id IS NOT NULL));
SELECT samegoal.sg_restore_documents(ARRAY(SELECT id FROM samegoal.documents WHERE transfer_id IS NOT NULL));
SELECT samegoal.sg_delete_documents(ARRAY(SELECT id FROM samegoal.documents WHERE transfer_id IS NOT NULL));
SELECT samegoal.sg_purge_documents(ARRAY(SELECT id FROM samegoal.documents WHERE transfer_id IS NOT NULL));
COMMIT;
RESET ROLE;
-- without the district in its replica identity, the same update fails
BEGIN;
ALTER TABLE samegoal.files REPLICA IDENTITY DEFAULT;
UPDATE samegoal.document_files SET filename = 'iep.pdf' WHERE id = 1;
ROLLBACK;

-- Served states --------------------------------------------------------------

-- superusers only; two upper-case letters; three statuses
SET ROLE regress_sg_app;
INSERT INTO samegoal.node_states VALUES ('OR', 'moved_out');
SELECT * FROM samegoal.node_states;
RESET ROLE;
INSERT INTO samegoal.node_states VALUES ('or', 'moved_out');
INSERT INTO samegoal.node_states VALUES ('OR', 'gone');
-- no row, or serving: served
INSERT INTO samegoal.node_states VALUES ('OR', 'serving');
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
ROLLBACK;
RESET ROLE;
UPDATE samegoal.node_states SET status = 'moving_in';
-- 42501 and 25P01 first, then SG014 before the login is looked up
SET ROLE regress_sg_outsider;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
ROLLBACK;
SET ROLE regress_sg_app;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
BEGIN;
SELECT samegoal.sg_act_as(' MAPLE.k12.example ', 'madmin');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'nobody');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cteacher');
ROLLBACK;
-- other states are served; unknown domains stay 28000
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
SELECT samegoal.sg_act_as('birch.k12.example', 'madmin');
ROLLBACK;
RESET ROLE;
-- superusers are fenced too
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
ROLLBACK;

-- National reporting -----------------------------------------------------------

-- Served states only: Oregon is moving in, so it is not reported here.
SELECT * FROM samegoal.sg_directory_export();
SELECT * FROM samegoal.sg_state_summary();
UPDATE samegoal.node_states SET status = 'serving';
SET ROLE regress_sg_reporter;
SELECT * FROM samegoal.sg_directory_export();
SELECT * FROM samegoal.sg_state_summary();
-- the reporting role reads nothing else
SELECT count(*) FROM samegoal.districts;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
ROLLBACK;
SET ROLE regress_sg_app;
SELECT * FROM samegoal.sg_directory_export();
SELECT * FROM samegoal.sg_state_summary();
SET ROLE regress_sg_outsider;
SELECT * FROM samegoal.sg_state_summary();
RESET ROLE;

-- Releasing a moved state --------------------------------------------------------

SET ROLE regress_sg_app;
SELECT samegoal.sg_release_state('OR');
RESET ROLE;
SELECT samegoal.sg_release_state(NULL);
-- only a state marked moved_out: not one without a row, serving or moving in
SELECT samegoal.sg_release_state('WA');
SELECT samegoal.sg_release_state('OR');
UPDATE samegoal.node_states SET status = 'moving_in';
SELECT samegoal.sg_release_state('OR');
UPDATE samegoal.node_states SET status = 'moved_out';
SELECT count(*) AS oregon_rows_before FROM (
    SELECT id FROM samegoal.districts WHERE id IN (1, 2)
    UNION ALL SELECT id FROM samegoal.users WHERE district_id IN (1, 2)
    UNION ALL SELECT id FROM samegoal.students WHERE district_id IN (1, 2)
    UNION ALL SELECT id FROM samegoal.documents WHERE district_id IN (1, 2)
    UNION ALL SELECT id FROM samegoal.files WHERE district_id IN (1, 2)
    UNION ALL SELECT id FROM samegoal.file_contents WHERE district_id IN (1, 2)
    UNION ALL SELECT transfer_id FROM samegoal.transfer_files WHERE sending_district_id IN (1, 2)
    UNION ALL SELECT id FROM samegoal.transfers WHERE sending_district_id IN (1, 2)
    UNION ALL SELECT transfer_id FROM samegoal.transfer_documents WHERE sending_district_id IN (1, 2)
    UNION ALL SELECT document_id FROM samegoal.purged_documents WHERE district_id IN (1, 2)
    UNION ALL SELECT id FROM samegoal.transfer_requests WHERE requesting_district_id IN (1, 2)) r;
-- (the publication of Oregon is still there: the release's deletes pass it too)
SELECT samegoal.sg_release_state('OR');
SELECT (SELECT count(*) FROM samegoal.districts WHERE state = 'OR') AS districts,
       (SELECT count(*) FROM samegoal.users WHERE district_id IN (1, 2)) AS users,
       (SELECT count(*) FROM samegoal.students WHERE district_id IN (1, 2)) AS students,
       (SELECT count(*) FROM samegoal.documents WHERE district_id IN (1, 2)) AS documents,
       (SELECT count(*) FROM samegoal.files WHERE district_id IN (1, 2)) AS files,
       (SELECT count(*) FROM samegoal.file_contents WHERE district_id IN (1, 2)) AS file_contents,
       (SELECT count(*) FROM samegoal.transfer_files) AS transfer_files,
       (SELECT count(*) FROM samegoal.transfers) AS transfers,
       (SELECT count(*) FROM samegoal.transfer_documents) AS transfer_documents,
       (SELECT count(*) FROM samegoal.purged_documents) AS purged,
       (SELECT count(*) FROM samegoal.transfer_requests) AS requests,
       (SELECT count(*) FROM samegoal.district_words WHERE state = 'OR') AS words,
       (SELECT count(*) FROM samegoal.district_label_trigrams WHERE state = 'OR') AS trigrams,
       (SELECT count(*) FROM samegoal.directory_words WHERE word IN ('maple', 'cedar', 'valley', 'falls')) AS vocabulary;
-- the words other districts hold stay
SELECT word FROM samegoal.directory_words WHERE word IN ('school', 'district', 'pine') ORDER BY 1;
-- the refusals are back on, for everyone
SELECT tgrelid::regclass, tgname, tgenabled FROM pg_trigger
 WHERE tgname IN ('transfers_kept', 'transfer_documents_kept', 'transfer_requests_kept') ORDER BY 2;
TRUNCATE samegoal.transfers CASCADE;
-- after the release the state's domains are unknown here
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
ROLLBACK;
RESET ROLE;
-- a second release finds nothing left
SELECT samegoal.sg_release_state('OR');

DROP PUBLICATION regress_sg_oregon;
DROP EXTENSION samegoal_transfer;
DROP EXTENSION pg_trgm;
DROP ROLE regress_sg_app;
DROP ROLE regress_sg_outsider;
DROP ROLE regress_sg_reporter;
