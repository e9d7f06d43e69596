-- sg_transfer_documents: every error and their order, argument edge cases,
-- copies, visibility from each district, repeats, atomicity, and the triggers
-- on samegoal.transfers and samegoal.transfer_documents.
\set ON_ERROR_STOP true
\set QUIET true
\pset format unaligned
\pset tuples_only true

BEGIN;
\ir ../fixtures/tap_setup.sql
SET LOCAL client_min_messages = warning;
SET search_path = public, pg_catalog;

-- document 7: a deleted document of Maple's student 1
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title, deleted_at, deleted_by)
VALUES (1, 1, 1, 'IEP', 'IEP 2023-2024', now(), 1);
-- user 9: a Cedar user whose email is another Cedar user's username
INSERT INTO samegoal.users (district_id, username, email) VALUES (2, 'ccounselor', 'cteacher');

CREATE TEMP TABLE originals AS
SELECT d.*, (SELECT array_agg(f ORDER BY f.id) FROM samegoal.document_files f
              WHERE f.document_id = d.id) AS files
  FROM samegoal.documents d;
GRANT SELECT ON originals TO regress_sg_app;

-- A transfer call, for throws_ok.
CREATE FUNCTION pg_temp.transfer_sql(ids text, domain text, sis text, owner text)
RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT * FROM samegoal.sg_transfer_documents(%s, %s, %s, %s)',
                  ids, coalesce(quote_literal(domain), 'NULL'),
                  coalesce(quote_literal(sis), 'NULL'), coalesce(quote_literal(owner), 'NULL'))
$$;

SELECT plan(83);

SET ROLE regress_sg_app;

-- 42501
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 '42501', NULL, 'not acting: 42501');
SELECT is(samegoal.sg_act_as('maple.k12.example', 'mteacher'), 2::bigint, 'acting as a Maple teacher');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 '42501', NULL, 'a teacher: 42501');
SELECT throws_ok(pg_temp.transfer_sql('NULL', NULL, NULL, NULL),
                 '42501', NULL, '42501 comes before 22023');

SELECT is(samegoal.sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'acting as the Maple admin');

-- 22023
SELECT throws_ok(pg_temp.transfer_sql('NULL', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 '22023', NULL, 'NULL document_ids: 22023');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[]::bigint[]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 '22023', NULL, 'empty document_ids: 22023');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1, NULL]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 '22023', NULL, 'a NULL document id: 22023');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', NULL, 'C-2001', 'cteacher'),
                 '22023', NULL, 'NULL receiving_domain: 22023');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', NULL, 'cteacher'),
                 '22023', NULL, 'NULL receiving_sis_student_id: 22023');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', NULL),
                 '22023', NULL, 'NULL receiving_owner: 22023');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', '   ', 'C-2001', 'cteacher'),
                 '22023', NULL, 'blank receiving_domain: 22023');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', '', 'cteacher'),
                 '22023', NULL, 'empty receiving_sis_student_id: 22023');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', E'\t\n '),
                 '22023', NULL, 'blank receiving_owner: 22023');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[999]', 'cedar.k12.example', 'C-2001', NULL),
                 '22023', NULL, '22023 comes before SG006');

-- SG006: one message for missing, deleted and other-district documents
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1, 999]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 'SG006', 'document not found', 'a missing document: SG006');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[7]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 'SG006', 'document not found', 'a deleted document: SG006');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1, 5]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 'SG006', 'document not found', 'another district''s document: SG006');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[-1, 0, 9223372036854775807]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 'SG006', 'document not found', 'ids that cannot exist: SG006');
SELECT throws_ok(pg_temp.transfer_sql('(SELECT array_agg(i) FROM generate_series(100001::bigint, 200000) i)',
                                      'cedar.k12.example', 'C-2001', 'cteacher'),
                 'SG006', 'document not found', '100,000 missing ids: SG006');

-- SG007
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1, 4]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 'SG007', NULL, 'documents of two students: SG007');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1, 4, 999]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 'SG006', NULL, 'SG006 comes before SG007');

-- SG001
SELECT lives_ok('SELECT samegoal.sg_set_transfers_enabled(false)', 'Maple disables transfers');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 'SG001', NULL, 'sending district disabled: SG001');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1, 4]', 'nowhere.example', 'C-2001', 'cteacher'),
                 'SG007', NULL, 'SG007 comes before SG001');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'nowhere.example', 'X', 'x'),
                 'SG001', NULL, 'SG001 comes before SG003');
SELECT lives_ok('SELECT samegoal.sg_set_transfers_enabled(true)', 'Maple enables transfers');

-- SG003, SG009, SG010
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'nowhere.example', 'C-2001', 'cteacher'),
                 'SG003', 'no district with domain "nowhere.example"', 'unknown domain: SG003');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', ' MAPLE.k12.example', 'M-1001', 'madmin'),
                 'SG009', NULL, 'own district: SG009');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'pine.k12.example', 'P-3001', 'padmin'),
                 'SG010', NULL, 'another state: SG010');

-- SG002 and the order of SG010, SG002, SG004
RESET ROLE;
UPDATE samegoal.districts SET transfers_enabled = false WHERE id IN (2, 3);
SET ROLE regress_sg_app;
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'pine.k12.example', 'nobody', 'nobody'),
                 'SG010', NULL, 'SG010 comes before SG002');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', 'cteacher'),
                 'SG002', NULL, 'receiving district disabled: SG002');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'nobody', 'nobody'),
                 'SG002', NULL, 'SG002 comes before SG004');
RESET ROLE;
UPDATE samegoal.districts SET transfers_enabled = true WHERE id IN (2, 3);
SET ROLE regress_sg_app;

-- SG004, SG005: they tell whether the student or user exists, nothing more
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-9999', 'cteacher'),
                 'SG004', 'no student with SIS Student ID "C-9999" in the receiving district',
                 'unknown SIS Student ID: SG004');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'c-2001', 'cteacher'),
                 'SG004', NULL, 'the SIS Student ID matches exactly: SG004');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'M-1001', 'cteacher'),
                 'SG004', NULL, 'a student of the sending district: SG004');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-9999', 'nobody'),
                 'SG004', NULL, 'SG004 comes before SG005');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', 'nobody'),
                 'SG005', 'no active user with username or email "nobody" in the receiving district',
                 'unknown owner: SG005');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', 'cformer'),
                 'SG005', 'no active user with username or email "cformer" in the receiving district',
                 'inactive owner: SG005, same message');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', 'madmin'),
                 'SG005', NULL, 'a user of the sending district: SG005');

-- Hostile strings in every text argument
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', E'x''; DROP TABLE samegoal.documents; --\\%s%n', 'C-2001', 'cteacher'),
                 'SG003', NULL, 'quotes, backslashes and % in receiving_domain: SG003');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', repeat('%n\''', 350000), 'C-2001', 'cteacher'),
                 'SG003', NULL, 'a 1 MB receiving_domain: SG003');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', E'C-2001'' OR ''1''=''1', 'cteacher'),
                 'SG004', NULL, 'quotes in receiving_sis_student_id: SG004');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', repeat('é%s\', 350000), 'cteacher'),
                 'SG004', NULL, 'a 1 MB receiving_sis_student_id: SG004');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', E'%_\\'' OR 1=1 --'),
                 'SG005', NULL, 'LIKE wildcards, quotes, backslashes in receiving_owner: SG005');
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1]', 'cedar.k12.example', 'C-2001', repeat(E'\u00e9%', 350000)),
                 'SG005', NULL, 'a 1 MB receiving_owner: SG005');

-- Nothing was written by any of the failures.
RESET ROLE;
SELECT is((SELECT count(*) FROM samegoal.documents) + (SELECT count(*) FROM samegoal.transfers),
          7::bigint, 'no copy and no transfer after the failures');
SET ROLE regress_sg_app;

-- The transfer: duplicates collapsed, one row per document in source order;
-- the domain matches case-insensitively and without surrounding blanks; the
-- owner by username rather than another user's email.
SELECT results_eq(
    $$SELECT * FROM samegoal.sg_transfer_documents(ARRAY[2, 1, 2, 1], ' Cedar.K12.EXAMPLE ', 'C-2001', 'CTeacher')$$,
    $$VALUES (1::bigint, 1::bigint, 8::bigint, true), (1, 2, 9, true)$$,
    'two documents copied in one transfer');
SELECT results_eq(
    $$SELECT sending_district_id, receiving_district_id, sending_student_id, receiving_student_id,
             receiving_owner_id, initiated_by, document_count FROM samegoal.transfers$$,
    $$VALUES (1::bigint, 2::bigint, 1::bigint, 3::bigint, 5::bigint, 1::bigint, 2)$$,
    'one transfers row: the districts, students, owner, admin and count');
SELECT results_eq(
    $$SELECT transfer_id, source_document_id, received_document_id FROM samegoal.transfer_documents ORDER BY 2$$,
    $$VALUES (1::bigint, 1::bigint, 8::bigint), (1, 2, 9)$$,
    'one transfer_documents row per copy');

-- Repeats are idempotent.
SELECT results_eq(
    $$SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1, 2, 3], 'cedar.k12.example', 'C-2001', 'cteacher')$$,
    $$VALUES (1::bigint, 1::bigint, 8::bigint, false), (1, 2, 9, false), (2, 3, 10, true)$$,
    'a repeat copies only the new document');
SELECT results_eq(
    $$SELECT * FROM samegoal.sg_transfer_documents(
          (SELECT array_agg(1 + i % 3) FROM generate_series(1::bigint, 100000) i),
          'cedar.k12.example', 'C-2001', 'teacher@CEDAR.k12.example')$$,
    $$VALUES (1::bigint, 1::bigint, 8::bigint, false), (1, 2, 9, false), (2, 3, 10, false)$$,
    '100,000 ids collapse to three documents, none copied again');
SELECT is((SELECT count(*) FROM samegoal.transfers), 2::bigint, 'nothing copied: no transfers row');

-- Atomicity: a bad id anywhere leaves nothing.
SELECT throws_ok(pg_temp.transfer_sql('ARRAY[1, 2, 3, 7]', 'cedar.k12.example', 'C-2002', 'cteacher'),
                 'SG006', NULL, 'a deleted document in the batch: SG006');
SELECT is((SELECT count(*) FROM samegoal.documents WHERE student_id = 4), 0::bigint,
          'and no copy was made for anyone');

-- What Cedar sees: the copies, their files and the record.
SELECT is(samegoal.sg_act_as('cedar.k12.example', 'cteacher'), 5::bigint, 'acting as a Cedar teacher');
SELECT results_eq(
    $$SELECT id, district_id, student_id, owner_id, transfer_id, source_document_id
        FROM samegoal.documents WHERE transfer_id IS NOT NULL ORDER BY id$$,
    $$VALUES (8::bigint, 2::bigint, 3::bigint, 5::bigint, 1::bigint, 1::bigint),
             (9, 2, 3, 5, 1, 2), (10, 2, 3, 5, 2, 3)$$,
    'Cedar sees the copies on its student, owned by its user');
SELECT is((SELECT count(*) FROM samegoal.documents c JOIN originals o ON o.id = c.source_document_id
            WHERE (c.doc_type, c.title, c.content) IS NOT DISTINCT FROM (o.doc_type, o.title, o.content)),
          3::bigint, 'each copy has the original''s type, title and content');
SELECT results_eq(
    $$SELECT document_id, filename, content_type, data FROM samegoal.document_files
       WHERE document_id IN (8, 9, 10) ORDER BY id$$,
    $$SELECT CASE f.document_id WHEN 1 THEN 8::bigint ELSE 9 END, f.filename, f.content_type, f.data
        FROM originals o, unnest(o.files) f WHERE o.id IN (1, 2, 3) ORDER BY f.id$$,
    'Cedar sees the files, byte for byte');
SELECT is((SELECT count(*) FROM samegoal.transfers), 2::bigint, 'Cedar sees the transfers');
SELECT is((SELECT count(*) FROM samegoal.transfer_documents), 3::bigint, 'Cedar sees the transferred documents');

-- What Maple sees: the record, not the copies; its originals unchanged.
SELECT is(samegoal.sg_act_as('maple.k12.example', 'mteacher'), 2::bigint, 'acting as a Maple teacher');
SELECT is((SELECT count(*) FROM samegoal.documents WHERE transfer_id IS NOT NULL OR district_id <> 1),
          0::bigint, 'Maple does not see the copies');
SELECT is((SELECT count(*) FROM samegoal.transfers), 2::bigint, 'Maple sees the transfers');
SELECT is((SELECT count(*) FROM samegoal.transfer_documents), 3::bigint, 'Maple sees the transferred documents');
SELECT is((SELECT count(*) FROM samegoal.documents d JOIN originals o ON o.id = d.id
            WHERE ROW(d.*) IS NOT DISTINCT FROM ROW(o.id, o.district_id, o.student_id, o.owner_id, o.doc_type,
                   o.title, o.content, o.created_at, o.deleted_at, o.deleted_by, o.transfer_id,
                   o.source_document_id, o.held, o.content_sha256)
              AND o.files IS NOT DISTINCT FROM (SELECT array_agg(f ORDER BY f.id)
                                                  FROM samegoal.document_files f WHERE f.document_id = d.id)),
          5::bigint, 'Maple''s originals are unchanged');

-- What Pine sees: nothing.
SELECT is(samegoal.sg_act_as('pine.k12.example', 'padmin'), 7::bigint, 'acting as the Pine admin');
SELECT is((SELECT count(*) FROM samegoal.transfers) + (SELECT count(*) FROM samegoal.transfer_documents)
          + (SELECT count(*) FROM samegoal.documents WHERE transfer_id IS NOT NULL),
          0::bigint, 'Pine sees no transfer, record or copy');

-- The triggers, for a superuser writing samegoal.transfers directly.
RESET ROLE;
CREATE FUNCTION pg_temp.insert_transfer_sql(sending bigint, receiving bigint, sending_student bigint,
                                            receiving_student bigint, owner bigint, admin bigint)
RETURNS text LANGUAGE sql AS $$
    SELECT format('INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id,'
                  ' sending_student_id, receiving_student_id, receiving_owner_id, initiated_by,'
                  ' document_count) VALUES (%s, %s, %s, %s, %s, %s, 1)',
                  sending, receiving, sending_student, receiving_student, owner, admin)
$$;
SELECT lives_ok(pg_temp.insert_transfer_sql(1, 2, 1, 3, 5, 1), 'a superuser may insert a valid transfer');
SELECT throws_ok(pg_temp.insert_transfer_sql(1, 1, 1, 2, 2, 1), 'SG009', NULL, 'trigger: same district, SG009');
SELECT throws_ok(pg_temp.insert_transfer_sql(1, 3, 1, 5, 8, 1), 'SG010', NULL, 'trigger: another state, SG010');
UPDATE samegoal.districts SET transfers_enabled = false WHERE id = 2;
SELECT throws_ok(pg_temp.insert_transfer_sql(1, 2, 1, 3, 5, 1), 'SG002', NULL, 'trigger: receiver disabled, SG002');
SELECT throws_ok(pg_temp.insert_transfer_sql(2, 1, 3, 1, 2, 4), 'SG001', NULL, 'trigger: sender disabled, SG001');
SELECT throws_ok(pg_temp.insert_transfer_sql(2, 3, 3, 5, 8, 4), 'SG001', NULL, 'trigger: SG001 comes before SG010');
UPDATE samegoal.districts SET transfers_enabled = true WHERE id = 2;
UPDATE samegoal.districts SET transfers_enabled = false WHERE id = 3;
SELECT throws_ok(pg_temp.insert_transfer_sql(1, 3, 1, 5, 8, 1), 'SG010', NULL, 'trigger: SG010 comes before SG002');
UPDATE samegoal.districts SET transfers_enabled = true WHERE id = 3;

-- The disclosure record stays.
SELECT throws_ok('DELETE FROM samegoal.transfers WHERE id = 1', '42501', NULL, 'a transfer cannot be deleted');
SELECT throws_ok('UPDATE samegoal.transfers SET receiving_district_id = 1 WHERE id = 1', '42501', NULL,
                 'a transfer cannot be changed');
SELECT throws_ok('DELETE FROM samegoal.transfer_documents', '42501', NULL, 'a transferred document cannot be deleted');
SELECT throws_ok('UPDATE samegoal.transfer_documents SET received_document_id = 10 WHERE received_document_id = 8',
                 '42501', NULL, 'the link to a copy cannot be changed');
SELECT lives_ok('UPDATE samegoal.transfer_documents SET received_document_id = NULL WHERE received_document_id = 8',
                'the link to a copy can be cleared');

-- The app role cannot write the record at all.
SET ROLE regress_sg_app;
SELECT is(samegoal.sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'acting as the Cedar admin');
SELECT throws_ok('DELETE FROM samegoal.transfer_documents', '42501', NULL, 'the receiver cannot delete the record');
SELECT throws_ok('UPDATE samegoal.documents SET transfer_id = NULL, source_document_id = NULL WHERE id = 8',
                 '42501', NULL, 'the receiver cannot unlink a copy from its transfer');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
