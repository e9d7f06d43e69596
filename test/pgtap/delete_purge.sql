-- Delete, restore and purge: who may, what changes, every error code.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql
\ir ../fixtures/purge_walk.sql
SELECT plan(55);
\ir ../fixtures/tap_share.sql
SET ROLE regress_sg_app;

-- not acting
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[1])', '42501', NULL, 'delete: not acting is 42501');
SELECT throws_ok('SELECT sg_restore_documents(ARRAY[1])', '42501', NULL, 'restore: not acting is 42501');
SELECT throws_ok('SELECT sg_purge_documents(ARRAY[1])', '42501', NULL, 'purge: not acting is 42501');

-- maple's teacher owns documents 1, 2 and 4; the admin owns 3
SELECT is(sg_act_as('maple.k12.example', 'mteacher'), 2::bigint, 'acting as maple''s teacher');
SELECT throws_ok('SELECT sg_delete_documents(NULL)', '22023', NULL, 'delete: NULL array');
SELECT throws_ok($$SELECT sg_delete_documents('{}')$$, '22023', NULL, 'delete: empty array');
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[1, NULL])', '22023', NULL, 'delete: NULL element');
SELECT throws_ok('SELECT sg_restore_documents(NULL)', '22023', NULL, 'restore: NULL array');
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[1, 999])', 'SG006', 'document not found', 'delete: a missing id');
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[1, 5])', 'SG006', 'document not found', 'delete: another district''s id reads the same');
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[-1, 9223372036854775807])', 'SG006', NULL, 'delete: negative and huge ids');
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[3])', '42501', NULL, 'a teacher may not delete another''s document');
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[1, 3])', '42501', NULL, '...nor in a batch with an own document');
SELECT is((SELECT count(*)::int FROM documents WHERE deleted_at IS NOT NULL), 0, 'refused calls changed nothing');
SELECT is(sg_delete_documents(ARRAY[1, 2, 1, 2]), 2, 'owner deletes two documents, duplicates collapsed');
SELECT row_eq('SELECT deleted_at IS NOT NULL, deleted_by FROM documents WHERE id = 1', ROW(true, 2::bigint), 'deleted_at and deleted_by set');
SELECT is(sg_delete_documents(ARRAY[1, 2]), 0, 'deleting again changes nothing');
SELECT is(sg_delete_documents(ARRAY[1, 4]), 1, 'only the live one counts');
SELECT is(sg_restore_documents(ARRAY[4, 4]), 1, 'restore one');
SELECT is(sg_restore_documents(ARRAY[4]), 0, 'restoring a live document changes nothing');
SELECT row_eq('SELECT deleted_at, deleted_by FROM documents WHERE id = 4', ROW(NULL::timestamptz, NULL::bigint), 'restored: deleted_at and deleted_by cleared');
SELECT throws_ok('SELECT sg_purge_documents(ARRAY[1])', '42501', NULL, 'a teacher may not purge');

-- the admin
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'acting as maple''s admin');
SELECT is(sg_delete_documents(ARRAY[3]), 1, 'an admin deletes a document owned by someone else');
SELECT throws_ok('SELECT sg_purge_documents(NULL)', '22023', NULL, 'purge: NULL array');
SELECT throws_ok($$SELECT sg_purge_documents('{}')$$, '22023', NULL, 'purge: empty array');
SELECT throws_ok('SELECT sg_purge_documents(ARRAY[NULL::bigint])', '22023', NULL, 'purge: NULL element');
SELECT throws_ok('SELECT sg_purge_documents(ARRAY[1, 4])', 'SG008', 'cannot purge a live document', 'purge: a live document in the batch');
SELECT throws_ok('SELECT sg_purge_documents(ARRAY[1, 999])', 'SG006', 'document not found', 'purge: a missing id in the batch');
SELECT throws_ok('SELECT sg_purge_documents(ARRAY[1, 5])', 'SG006', 'document not found', 'purge: another district''s id in the batch');
SELECT is((SELECT count(*)::int FROM documents), 4, 'refused purges removed nothing');
SELECT is((SELECT count(*)::int FROM document_files), 3, '...nor any file');
SELECT is_empty('SELECT * FROM purged_documents', '...nor wrote a tombstone');

SELECT is(sg_purge_documents(ARRAY[1, 3, 1]), 2, 'purge two deleted documents');
SELECT results_eq('SELECT id FROM documents ORDER BY id', ARRAY[2::bigint, 4], 'the purged documents are gone');
SELECT results_eq('SELECT document_id FROM document_files ORDER BY id', ARRAY[2::bigint], 'and their files');
SELECT results_eq($$SELECT document_id, district_id, student_id, doc_type, purged_by FROM purged_documents ORDER BY document_id$$,
                  $$VALUES (1::bigint, 1::bigint, 1::bigint, 'IEP'::text, 1::bigint), (3, 1, 1, '504 Plan', 1)$$,
                  'a tombstone for each');
SELECT is((SELECT count(*)::int FROM purged_documents WHERE purged_at IS NULL), 0, 'tombstones carry purged_at');
SELECT columns_are('samegoal', 'purged_documents', ARRAY['document_id', 'district_id', 'student_id', 'doc_type', 'purged_by', 'purged_at'],
                   'a tombstone has no title, content or file');
SELECT throws_ok('SELECT sg_restore_documents(ARRAY[1])', 'SG006', NULL, 'a purged document cannot be restored');
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[1])', 'SG006', NULL, 'nor deleted');
SELECT throws_ok('SELECT sg_purge_documents(ARRAY[1])', 'SG006', NULL, 'nor purged again');
SELECT is_empty('SELECT * FROM pg_temp.rows_referring_to(ARRAY[1, 3]::bigint[])', 'no row of any table refers to a purged id');

-- other districts see nothing of it and cannot touch it
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'acting as cedar''s admin');
SELECT is_empty('SELECT * FROM purged_documents', 'cedar sees no maple tombstone');
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[2])', 'SG006', NULL, 'cedar cannot delete maple''s document');
SELECT throws_ok('SELECT sg_restore_documents(ARRAY[2])', 'SG006', NULL, 'nor restore it');
SELECT throws_ok('SELECT sg_purge_documents(ARRAY[2])', 'SG006', 'document not found', 'nor purge it: the same error as a missing id');

-- the superuser's view: maple's other rows untouched
RESET ROLE;
SELECT is((SELECT count(*)::int FROM samegoal.documents WHERE district_id = 2), 1, 'cedar''s documents untouched');
SELECT is((SELECT deleted_at IS NOT NULL FROM samegoal.documents WHERE id = 2), true, 'maple''s other deleted document still there');
SELECT is((SELECT count(*)::int FROM samegoal.document_files WHERE district_id = 2), 1, 'cedar''s files untouched');
SELECT is((SELECT count(*)::int FROM samegoal.purged_documents), 2, 'two tombstones in all');

-- the DBA's view of tables awaiting VACUUM after a purge
SELECT has_view('samegoal', 'purge_vacuum_status', 'purge_vacuum_status exists');
SELECT is((SELECT bool_and(awaiting_vacuum) FROM samegoal.purge_vacuum_status), true,
          'the content tables await VACUUM after a purge');
SET ROLE regress_sg_app;
SELECT throws_ok('SELECT * FROM samegoal.purge_vacuum_status', '42501', NULL, 'the application cannot read it');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
