-- At most one live copy: a receiving student holds at most one live copy of any
-- original, whoever writes; restoring an older copy while another is live is
-- SG013 and restores nothing.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql
SELECT plan(17);
\ir ../fixtures/tap_share.sql

-- Maple sends documents 1 and 2 to Cedar's student C-2001: copies 7 and 8.
SET ROLE regress_sg_app;
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'acting as maple''s admin');
SELECT results_eq($$SELECT received_document_id FROM sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2001', 'cteacher')$$,
                  ARRAY[7, 8]::bigint[], 'copies 7 and 8');

-- Cedar deletes copy 7; Maple sends document 1 again: copy 9, the only live one.
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'acting as cedar''s admin');
SELECT is(sg_delete_documents(ARRAY[7]), 1, 'copy 7 deleted');
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'maple again');
SELECT results_eq($$SELECT received_document_id, copied FROM sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2001', 'cteacher')$$,
                  $$VALUES (9::bigint, true), (8::bigint, false)$$, 'document 1 copied again as 9; 8 is still live');

-- Restoring copy 7 now would make two live copies of document 1.
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'cedar again');
SELECT throws_ok('SELECT sg_restore_documents(ARRAY[7])', 'SG013',
                 'the student already holds a live copy of that original', 'restoring the older copy: SG013');
SELECT is(sg_delete_documents(ARRAY[8]), 1, 'copy 8 deleted');
SELECT throws_ok('SELECT sg_restore_documents(ARRAY[8, 7])', 'SG013', NULL,
                 'a batch with one restorable and one conflicting copy: SG013');
SELECT is((SELECT array_agg(id ORDER BY id) FROM documents WHERE deleted_at IS NULL AND source_document_id IS NOT NULL),
          ARRAY[9]::bigint[], '...and nothing was restored');
SELECT is(sg_delete_documents(ARRAY[9]), 1, 'copy 9 deleted');
SELECT throws_ok('SELECT sg_restore_documents(ARRAY[7, 9])', 'SG013', NULL,
                 'restoring two copies of one original at once: SG013');
SELECT is(sg_restore_documents(ARRAY[7, 8]), 2, 'once no other copy is live, the older copy is restored');
RESET ROLE;

-- The database refuses a second live copy to every writer, superusers included.
SELECT throws_ok($$INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, transfer_id, source_document_id)
                   VALUES (2, 3, 5, 'IEP', 'forged copy', 1, 1)$$,
                 '23505', NULL, 'a superuser''s INSERT of a second live copy: 23505');
SELECT throws_ok('UPDATE samegoal.documents SET deleted_at = NULL, deleted_by = NULL WHERE id = 9',
                 '23505', NULL, 'a superuser''s UPDATE that revives a second copy: 23505');
SELECT is((SELECT count(*)::int FROM samegoal.documents WHERE source_document_id = 1 AND deleted_at IS NULL), 1,
          'one live copy of document 1');

SELECT * FROM finish();
ROLLBACK;
