-- Held arrivals (1.3): a transfer to a student who does not match arrives
-- held; the sender's view of it is that of a live arrival; the application
-- of the receiving district neither sees nor changes held copies; its admins
-- see them and accept them (onto the named student, onto another SIS Student
-- ID, where a live copy is already there) or return them with a reason; the
-- errors of both functions in the contract's order; delete, restore and purge
-- refuse held ids; the sender's original deleted and purged leaves the held
-- copy as it is; the record allows each decision once.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql

CREATE TEMP TABLE t (name text PRIMARY KEY, id bigint);
-- The full error of a statement, or NULL when it succeeds.
CREATE FUNCTION pg_temp.full_error(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN format('%s|%s|%s', state, message, detail);
END
$$;
-- What the sender can read of a transfer: the columns that are not NULL.
CREATE FUNCTION pg_temp.set_columns(transfer_id bigint) RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(j.key ORDER BY j.key)
      FROM samegoal.transfers x, jsonb_each(to_jsonb(x)) j
     WHERE x.id = transfer_id AND j.value <> 'null'::jsonb
$$;

SELECT plan(70);
\ir ../fixtures/tap_share.sql
SET ROLE regress_sg_app;

-- The sender -------------------------------------------------------------------
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'Maple''s admin acts');
-- Avery Lopez's documents 1 and 2 to C-2002, Jordan Smith: held
INSERT INTO t SELECT 'held', min(transfer_id)
  FROM sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2002', 'cteacher');
-- document 3 to C-2001, Avery Lopez: live
INSERT INTO t SELECT 'live', min(transfer_id)
  FROM sg_transfer_documents(ARRAY[3], 'cedar.k12.example', 'C-2001', 'cteacher');
SELECT isnt((SELECT id FROM t WHERE name = 'held'), NULL, 'a mismatch is no error: the transfer is written');
SELECT is(pg_temp.set_columns((SELECT id FROM t WHERE name = 'held')),
          pg_temp.set_columns((SELECT id FROM t WHERE name = 'live')),
          'the sender reads the same columns of a held and a live transfer');
SELECT is((SELECT count(*) FROM transfers WHERE attached_student_id IS NOT NULL OR returned_at IS NOT NULL
                                              OR acknowledged_at IS NOT NULL), 0::bigint,
          'no decision, no acknowledgement on either');
SELECT results_eq($$SELECT source_document_id, received_document_id IS NOT NULL FROM transfer_documents
                     WHERE transfer_id = (SELECT id FROM t WHERE name = 'held') ORDER BY 1$$,
                  $$VALUES (1::bigint, true), (2::bigint, true)$$, 'the record names both copies, as for a live arrival');
SELECT is((SELECT count(*) FROM transfer_arrivals) + (SELECT count(*) FROM held_documents)
          + (SELECT count(*) FROM held_document_files), 0::bigint,
          'the sender reads no arrival row and no held copy');
SELECT is((SELECT count(*) FROM transfer_inbox), 0::bigint, 'nor anything in its inbox');
SELECT is(pg_temp.full_error($$SELECT sg_accept_transfer((SELECT id FROM t WHERE name = 'held'))$$),
          pg_temp.full_error($$SELECT sg_accept_transfer((SELECT id FROM t WHERE name = 'live'))$$),
          'accepting a held or a live transfer it sent: the same error');
SELECT matches(pg_temp.full_error($$SELECT sg_return_transfer((SELECT id FROM t WHERE name = 'held'), 'x')$$),
               '^SG006\|', 'returning its own transfer: SG006');
-- a repeat counts the held copies: not copied again, the copy named
SELECT results_eq($$SELECT transfer_id, copied FROM sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2002', 'cteacher')$$,
                  $$SELECT id, false FROM t WHERE name = 'held' UNION ALL SELECT id, false FROM t WHERE name = 'held'$$,
                  'a repeat transfer reports the held copies as it reports live ones');

-- The receiving district's application ------------------------------------------
SELECT is(sg_act_as('cedar.k12.example', 'cteacher'), 5::bigint, 'Cedar''s teacher, the owner, acts');
SELECT results_eq('SELECT id FROM documents ORDER BY id', $$VALUES (5::bigint), (9::bigint)$$,
                  'it sees its document and the live copy, not the held ones');
SELECT is((SELECT count(*) FROM documents WHERE transfer_id = (SELECT id FROM t WHERE name = 'held')), 0::bigint,
          'nor counts them');
SELECT is((SELECT count(*) FROM document_files), 1::bigint, 'nor their files');
SELECT is((SELECT count(*) FROM held_documents) + (SELECT count(*) FROM held_document_files), 0::bigint,
          'the held views show a teacher nothing');
UPDATE documents SET title = 'changed' WHERE id IN (7, 8);
RESET ROLE;
SELECT is((SELECT count(*) FROM documents WHERE id IN (7, 8) AND title = 'changed'), 0::bigint,
          'an UPDATE of the application does not reach held copies');
SET ROLE regress_sg_app;
SELECT throws_ok($$INSERT INTO document_files (document_id, filename, data) VALUES (7, 'x.pdf', '\x00')$$, '23503', NULL,
                 'no file can be added to a held copy');
SELECT throws_ok('SELECT sg_delete_documents(ARRAY[7])', 'SG006', NULL, 'delete of a held id: SG006');
SELECT results_eq($$SELECT kind, student_first_name, student_last_name, receiving_sis_student_id, document_count,
                           sent_first_name, sent_last_name, sent_birth_date, expires_at
                      FROM transfer_inbox ORDER BY kind$$,
                  $$VALUES ('held', 'Jordan', 'Smith', 'C-2002', 2, 'Avery', 'Lopez', '2012-03-14'::date, NULL::timestamptz),
                           ('transfer', 'Avery', 'Lopez', 'C-2001', 1, NULL, NULL, NULL, NULL)$$,
                  'the inbox: the held arrival once, with the student as sent beside its own, never expiring; the live one as a transfer');
SELECT results_eq('SELECT transfer_id, held FROM transfer_arrivals ORDER BY transfer_id',
                  $$SELECT id, name = 'held' FROM t ORDER BY id$$, 'the receiving district reads which arrival is held');

-- The receiving district's admin -------------------------------------------------
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'Cedar''s admin acts');
SELECT results_eq('SELECT id, student_id, source_document_id, transfer_id, held FROM held_documents ORDER BY id',
                  $$SELECT v.*, (SELECT id FROM t WHERE name = 'held'), true
                      FROM (VALUES (7::bigint, 4::bigint, 1::bigint), (8, 4, 2)) v$$,
                  'held_documents: the held copies, on the student named');
SELECT is((SELECT count(*) FROM held_document_files), 3::bigint, 'held_document_files: their three files');
SELECT throws_ok('SELECT sg_restore_documents(ARRAY[7])', 'SG006', NULL, 'restore of a held id: SG006');
SELECT throws_ok('SELECT sg_purge_documents(ARRAY[7])', 'SG006', NULL, 'purge of a held id: SG006');
RESET ROLE;
SELECT ok((SELECT bool_and(c.content = o.content AND c.title = o.title AND NOT c.deleted_at IS NOT NULL)
             FROM documents c JOIN documents o ON o.id = c.source_document_id WHERE c.id IN (7, 8)),
          'the held copies are whole copies');
SELECT is((SELECT array_agg(f.data ORDER BY f.id) FROM document_files f WHERE f.document_id IN (7, 8)),
          (SELECT array_agg(f.data ORDER BY f.id) FROM document_files f WHERE f.document_id IN (1, 2)),
          'and so are their files, byte for byte, held with them');
SET ROLE regress_sg_app;

-- Errors, in order: 42501, 22023, SG006, SG004 --------------------------------
SELECT sg_act_as('cedar.k12.example', 'cteacher');
SELECT throws_ok('SELECT sg_accept_transfer(NULL)', '42501', NULL, 'accept, not an admin: 42501 first');
SELECT throws_ok('SELECT sg_return_transfer(NULL, NULL)', '42501', NULL, 'return, not an admin: 42501 first');
SELECT sg_act_as('cedar.k12.example', 'cadmin');
SELECT throws_ok('SELECT sg_accept_transfer(NULL)', '22023', NULL, 'accept of NULL: 22023');
SELECT throws_ok('SELECT sg_accept_transfer(NULL, ''C-9999'')', '22023', NULL, 'accept of NULL to an unknown student: 22023');
SELECT throws_ok($$SELECT sg_accept_transfer((SELECT id FROM t WHERE name = 'held'), ' ')$$, '22023', NULL,
                 'accept onto a blank SIS Student ID: 22023');
SELECT throws_ok('SELECT sg_return_transfer(NULL, ''x'')', '22023', NULL, 'return of NULL: 22023');
SELECT throws_ok('SELECT sg_return_transfer(99999, NULL)', '22023', NULL, 'return without a reason: 22023 before SG006');
SELECT throws_ok($$SELECT sg_return_transfer((SELECT id FROM t WHERE name = 'held'), E' \t\n')$$, '22023', NULL,
                 'return with a blank reason: 22023');
SELECT throws_ok($$SELECT sg_return_transfer((SELECT id FROM t WHERE name = 'held'), repeat('x', 1001))$$, '22023', NULL,
                 'return with a reason of 1,001 characters: 22023');
SELECT throws_ok($$SELECT sg_accept_transfer((SELECT id FROM t WHERE name = 'held'), 'C-9999')$$, 'SG004', NULL,
                 'accept onto an unknown SIS Student ID: SG004');
CREATE TEMP TABLE refusals AS
SELECT pg_temp.full_error($$SELECT sg_accept_transfer(99999)$$) AS error
UNION ALL SELECT pg_temp.full_error($$SELECT sg_accept_transfer(99999, 'C-9999')$$)
UNION ALL SELECT pg_temp.full_error($$SELECT sg_accept_transfer((SELECT id FROM t WHERE name = 'live'))$$)
UNION ALL SELECT pg_temp.full_error($$SELECT sg_return_transfer((SELECT id FROM t WHERE name = 'live'), 'x')$$);
SELECT sg_act_as('pine.k12.example', 'padmin');
INSERT INTO refusals SELECT pg_temp.full_error($$SELECT sg_accept_transfer((SELECT id FROM t WHERE name = 'held'))$$);
SELECT sg_act_as('cedar.k12.example', 'cadmin');
SELECT is((SELECT count(DISTINCT error) || ' ' || min(error) FROM refusals),
          '1 SG006|no held transfer with that id|No transfer with that id was received held by this district and awaits a decision.',
          'unknown, live, another district''s: one SG006');

-- Accept onto another SIS Student ID --------------------------------------------
SELECT is(sg_accept_transfer((SELECT id FROM t WHERE name = 'held'), 'C-2001'), 2,
          'accepted onto C-2001: two copies live');
SELECT results_eq('SELECT id, student_id, held FROM documents WHERE id IN (7, 8) ORDER BY id',
                  $$VALUES (7::bigint, 3::bigint, false), (8::bigint, 3::bigint, false)$$,
                  'on the student accepted, live, and the application sees them');
SELECT is((SELECT count(*) FROM document_files WHERE document_id IN (7, 8)), 3::bigint, 'their files with them');
SELECT is((SELECT count(*) FROM held_documents) + (SELECT count(*) FROM held_document_files), 0::bigint,
          'nothing held any more');
SELECT results_eq($$SELECT receiving_student_id, attached_student_id, acknowledged_by, returned_at FROM transfers
                     WHERE id = (SELECT id FROM t WHERE name = 'held')$$,
                  $$VALUES (4::bigint, 3::bigint, 4::bigint, NULL::timestamptz)$$,
                  'the record keeps the student named, gains the one accepted on, and is acknowledged');
SELECT is((SELECT count(*) FROM transfer_inbox WHERE kind = 'held'), 0::bigint, 'the inbox no longer lists it');
SELECT throws_ok($$SELECT sg_accept_transfer((SELECT id FROM t WHERE name = 'held'))$$, 'SG006', NULL,
                 'accepted once: a second accept is SG006');
SELECT throws_ok($$SELECT sg_return_transfer((SELECT id FROM t WHERE name = 'held'), 'x')$$, 'SG006', NULL,
                 '...and so is a return');
SELECT sg_act_as('maple.k12.example', 'madmin');
SELECT is((SELECT attached_student_id FROM transfers WHERE id = (SELECT id FROM t WHERE name = 'held')), 3::bigint,
          'the sender reads the decision after it');

-- Accept onto the named student; and onto one that holds a live copy --------------
INSERT INTO t SELECT 'named', min(transfer_id)
  FROM sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'cteacher');
INSERT INTO t SELECT 'duplicate', min(transfer_id)
  FROM sg_transfer_documents(ARRAY[1, 2], 'cedar.k12.example', 'C-2002', 'cteacher');
SELECT sg_act_as('cedar.k12.example', 'cadmin');
SELECT is(sg_accept_transfer((SELECT id FROM t WHERE name = 'named')), 1, 'accepted onto the named student');
SELECT results_eq($$SELECT student_id, held FROM documents WHERE transfer_id = (SELECT id FROM t WHERE name = 'named')$$,
                  $$VALUES (4::bigint, false)$$, 'live on C-2002');
SELECT is((SELECT count(*) FROM held_documents), 2::bigint, 'two copies of documents 1 and 2 held on C-2002');
CREATE TEMP TABLE dup AS SELECT id FROM held_documents;
SELECT is(sg_accept_transfer((SELECT id FROM t WHERE name = 'duplicate'), 'C-2001'), 0,
          'accepted onto C-2001, which holds live copies of both: none attached');
SELECT is((SELECT count(*) FROM documents WHERE id IN (SELECT id FROM dup)), 0::bigint, 'the held copies are purged');
SELECT results_eq('SELECT document_id, student_id, purged_by FROM purged_documents ORDER BY 1',
                  'SELECT id, 4::bigint, 4::bigint FROM dup ORDER BY 1', 'with a tombstone each');
SELECT is((SELECT count(*) FROM transfer_documents
            WHERE transfer_id = (SELECT id FROM t WHERE name = 'duplicate') AND received_document_id IS NULL), 2::bigint,
          'and the record unlinked, as a purge does');
SELECT is((SELECT attached_student_id FROM transfers WHERE id = (SELECT id FROM t WHERE name = 'duplicate')), 3::bigint,
          'the transfer is decided all the same');

-- Return, with a reason ----------------------------------------------------------
SELECT sg_act_as('maple.k12.example', 'madmin');
INSERT INTO t SELECT 'returned', min(transfer_id)
  FROM sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2001', 'cteacher');
SELECT sg_act_as('cedar.k12.example', 'cadmin');
CREATE TEMP TABLE ret AS SELECT id FROM held_documents;
SELECT is(sg_return_transfer((SELECT id FROM t WHERE name = 'returned'), E'  Not our Avery Lopez: check the SIS ID\n'), 1,
          'returned: one copy purged');
SELECT is((SELECT count(*) FROM documents WHERE id IN (SELECT id FROM ret)) + (SELECT count(*) FROM held_documents),
          0::bigint, 'the copy is gone');
SELECT is((SELECT count(*) FROM purged_documents WHERE document_id IN (SELECT id FROM ret)), 1::bigint, 'a tombstone');
SELECT results_eq($$SELECT sent_first_name, sent_last_name, sent_birth_date, held FROM transfer_arrivals
                     WHERE transfer_id = (SELECT id FROM t WHERE name = 'returned')$$,
                  $$VALUES (NULL::text, NULL::text, NULL::date, true)$$, 'the student as sent is not kept');
SELECT is((SELECT count(*) FROM transfer_inbox WHERE id = (SELECT id FROM t WHERE name = 'returned')), 0::bigint,
          'nor listed');
SELECT sg_act_as('maple.k12.example', 'madmin');
SELECT results_eq($$SELECT returned_by, return_reason, returned_at IS NOT NULL, attached_student_id FROM transfers
                     WHERE id = (SELECT id FROM t WHERE name = 'returned')$$,
                  $$VALUES (4::bigint, 'Not our Avery Lopez: check the SIS ID', true, NULL::bigint)$$,
                  'the sender reads who returned it, when and why');
SELECT is((SELECT count(*)::int FROM sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2001', 'cteacher') WHERE copied), 1,
          'a returned transfer holds nothing: a new transfer copies again (held again: Blake Nguyen is not Avery Lopez)');

-- The sender's original deleted and purged: the held copy stays -------------------
INSERT INTO t SELECT 'orphan', min(transfer_id)
  FROM sg_transfer_documents(ARRAY[3], 'cedar.k12.example', 'C-2002', 'cteacher');
SELECT is(sg_delete_documents(ARRAY[3]), 1, 'the sender deletes its original');
SELECT is(sg_purge_documents(ARRAY[3]), 1, '...and purges it');
SELECT sg_act_as('cedar.k12.example', 'cadmin');
SELECT results_eq($$SELECT title, source_document_id FROM held_documents WHERE transfer_id = (SELECT id FROM t WHERE name = 'orphan')$$,
                  $$VALUES ('504 accommodations', 3::bigint)$$,
                  'the held copy is as it arrived');
SELECT is(sg_accept_transfer((SELECT id FROM t WHERE name = 'orphan')), 1, 'and can be accepted');

-- The record allows each decision once ------------------------------------------------
RESET ROLE;
SELECT throws_ok($$UPDATE samegoal.transfers SET attached_student_id = 4 WHERE id = (SELECT id FROM t WHERE name = 'held')$$,
                 '42501', NULL, 'an acceptance is not changed');
SELECT throws_ok($$UPDATE samegoal.transfers SET returned_at = now(), returned_by = 4, return_reason = 'x'
                    WHERE id = (SELECT id FROM t WHERE name = 'held')$$,
                 '23514', NULL, 'an accepted transfer is not also returned');
SELECT throws_ok($$UPDATE samegoal.transfers SET return_reason = 'other' WHERE id = (SELECT id FROM t WHERE name = 'returned')$$,
                 '42501', NULL, 'a return is not changed');
SELECT throws_ok($$UPDATE samegoal.transfers SET acknowledged_at = NULL, acknowledged_by = NULL
                    WHERE id = (SELECT id FROM t WHERE name = 'held')$$,
                 '42501', NULL, 'nor an acknowledgement cleared');

SELECT * FROM finish();
ROLLBACK;
