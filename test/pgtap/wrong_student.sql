-- The wrong-student story, end to end: Maple sends Avery Lopez's documents to
-- Cedar with a wrong SIS Student ID, sends them again with the right one, and
-- Cedar deletes and purges the copies that landed on the wrong student.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql
\ir ../fixtures/purge_walk.sql

CREATE TEMP TABLE maple_before AS
SELECT d.id, d.doc_type, d.title, d.content, d.deleted_at,
       (SELECT array_agg(f.data ORDER BY f.id) FROM samegoal.document_files f WHERE f.document_id = d.id) AS files
  FROM samegoal.documents d WHERE d.district_id = 1;
CREATE TEMP TABLE ids (name text PRIMARY KEY, value bigint[]);

SELECT plan(33);
\ir ../fixtures/tap_share.sql
GRANT SELECT ON maple_before TO PUBLIC;
SET ROLE regress_sg_app;

-- 1. the wrong transfer: C-2002 is Jordan Smith, not Avery Lopez. The
-- wrong-student guard would stop it (guard.sql); allow_mismatch, passed by
-- mistake, lets it through, and the clean-up below is what remains.
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'Maple''s admin acts');
INSERT INTO ids SELECT 'wrong', array_agg(received_document_id ORDER BY source_document_id)
  FROM sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2002', 'teacher@cedar.k12.example',
                             allow_mismatch => true);
SELECT is(cardinality((SELECT value FROM ids WHERE name = 'wrong')), 3, 'three copies on the wrong student');

-- 2. the redo with the right SIS Student ID copies again: another student
INSERT INTO ids SELECT 'right', array_agg(received_document_id ORDER BY source_document_id)
  FROM sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher')
 WHERE copied;
SELECT is(cardinality((SELECT value FROM ids WHERE name = 'right')), 3, 'three copies on the right student');
SELECT results_eq('SELECT receiving_student_id, document_count FROM transfers ORDER BY id',
                  $$VALUES (4::bigint, 3), (3::bigint, 3)$$, 'Maple sees both transfers in its record');

-- 3. Cedar sees both sets, deletes the wrong one, and purges it
SELECT is(sg_act_as('cedar.k12.example', 'cteacher'), 5::bigint, 'Cedar''s teacher, owner of the copies, acts');
SELECT results_eq($$SELECT s.sis_student_id, count(*)::int FROM documents d JOIN students s ON s.id = d.student_id
                     WHERE d.transfer_id IS NOT NULL GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('C-2001'::text, 3), ('C-2002', 3)$$, 'Cedar holds both sets of copies');
SELECT is(sg_delete_documents((SELECT value FROM ids WHERE name = 'wrong')), 3, 'the owner deletes the wrong copies');
SELECT throws_ok(format('SELECT sg_purge_documents(%L)', (SELECT value FROM ids WHERE name = 'wrong')),
                 '42501', NULL, 'the teacher may not purge');
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'Cedar''s admin acts');
SELECT throws_ok(format('SELECT sg_purge_documents(%L)', (SELECT value FROM ids WHERE name = 'right')),
                 'SG008', NULL, 'the right copies are live: SG008');
SELECT throws_ok(format('SELECT sg_purge_documents(%L)', (SELECT value FROM ids WHERE name = 'wrong') || ARRAY[1::bigint]),
                 'SG006', NULL, 'Maple''s original in the batch: SG006, nothing purged');
SELECT is((SELECT count(*)::int FROM documents WHERE deleted_at IS NOT NULL), 3, 'the failed purge left the deleted copies');
SELECT is(sg_purge_documents((SELECT value FROM ids WHERE name = 'wrong')), 3, 'the admin purges the wrong copies');

-- 4. what Cedar sees afterwards
SELECT is_empty(format('SELECT * FROM documents WHERE id = ANY (%L)', (SELECT value FROM ids WHERE name = 'wrong')),
                'the wrong copies are gone');
SELECT is((SELECT count(*)::int FROM document_files f JOIN documents d ON d.id = f.document_id WHERE d.transfer_id IS NOT NULL),
          3, 'only the right copies'' files remain');
SELECT results_eq('SELECT document_id, student_id, doc_type, purged_by FROM purged_documents ORDER BY document_id',
                  format($$SELECT unnest(%L::bigint[]), 4::bigint, unnest(ARRAY['IEP', 'Evaluation', '504 Plan']), 4::bigint$$,
                         (SELECT value FROM ids WHERE name = 'wrong')),
                  'a tombstone per purged copy: the wrong student, the type, who purged');
SELECT results_eq('SELECT transfer_id, source_document_id, received_document_id FROM transfer_documents ORDER BY 1, 2',
                  format($$SELECT * FROM (VALUES (1::bigint, 1::bigint, NULL::bigint), (1, 2, NULL), (1, 3, NULL)) v
                           UNION ALL SELECT 2::bigint, unnest(ARRAY[1::bigint, 2, 3]), unnest(%L::bigint[])$$,
                         (SELECT value FROM ids WHERE name = 'right')),
                  'the record keeps both transfers; the purged copies are unlinked');
SELECT results_eq('SELECT document_count FROM transfers ORDER BY id', ARRAY[3, 3], 'the transfer rows are kept as they were');
SELECT results_eq($$SELECT d.title, d.content, (SELECT array_agg(f.data ORDER BY f.id) FROM document_files f WHERE f.document_id = d.id)
                      FROM documents d WHERE d.id = ANY ((SELECT value FROM ids WHERE name = 'right')::bigint[]) ORDER BY d.source_document_id$$,
                  'SELECT title, content, files FROM maple_before WHERE id IN (1, 2, 3) ORDER BY id',
                  'the right copies match the originals, files byte for byte');
SELECT throws_ok(format('SELECT sg_restore_documents(%L)', (SELECT value FROM ids WHERE name = 'wrong')),
                 'SG006', NULL, 'a purged copy cannot be restored');
SELECT is_empty(format('SELECT * FROM pg_temp.rows_referring_to(%L)', (SELECT value FROM ids WHERE name = 'wrong')),
                'no row of any table refers to a purged copy except its tombstone');
SELECT throws_ok($$DELETE FROM transfers WHERE id = 1$$, '42501', NULL, 'Cedar cannot remove Maple''s record');
SELECT throws_ok($$DELETE FROM purged_documents$$, '42501', NULL, 'nor the tombstones');

-- 5. what Maple sees afterwards: its originals and its record untouched
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'Maple''s admin acts again');
SELECT results_eq($$SELECT d.id, d.doc_type, d.title, d.content, d.deleted_at,
                           (SELECT array_agg(f.data ORDER BY f.id) FROM document_files f WHERE f.document_id = d.id)
                      FROM documents d ORDER BY d.id$$,
                  'SELECT * FROM maple_before ORDER BY id', 'Maple''s originals and files are unchanged');
SELECT results_eq('SELECT id, receiving_student_id, document_count FROM transfers ORDER BY id',
                  $$VALUES (1::bigint, 4::bigint, 3), (2::bigint, 3::bigint, 3)$$, 'Maple''s record of both transfers is kept');
SELECT is((SELECT count(*)::int FROM transfer_documents), 6, 'six documents recorded as sent');
SELECT is_empty('SELECT * FROM purged_documents', 'Maple sees none of Cedar''s tombstones');
SELECT is_empty('SELECT * FROM documents WHERE transfer_id IS NOT NULL', 'nor any of Cedar''s copies');

-- 6. after the purge, sending to the wrong student again would copy again
SELECT results_eq($$SELECT count(*)::int FROM sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2002', 'cteacher', true) WHERE copied$$,
                  ARRAY[3], 'a new transfer to that student copies again after the purge');
SELECT results_eq($$SELECT count(*)::int FROM sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher') WHERE copied$$,
                  ARRAY[0], 'the right student still holds live copies: nothing copied');

-- 7. Pine, in another state, sees nothing of it
SELECT is(sg_act_as('pine.k12.example', 'padmin'), 7::bigint, 'Pine''s admin acts');
SELECT is((SELECT count(*)::int FROM transfers) + (SELECT count(*)::int FROM transfer_documents)
          + (SELECT count(*)::int FROM purged_documents), 0, 'Pine sees no transfer, record or tombstone');

SELECT * FROM finish();
ROLLBACK;
