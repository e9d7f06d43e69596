-- The wrong-student guard never reveals the receiving student: refusals that
-- differ in different fields (birth date only, names only, both) give one and
-- the same error, text, detail and hint. Since 1.3 only a request's fulfilment
-- refuses (SG012); sg_transfer_documents holds the copies instead (held.sql). And sg_act_as from a subtransaction
-- of a statement outside any transaction block: 25P01.
\set ON_ERROR_STOP true
\set QUIET true

-- Outside a transaction block, before this file's transaction: the extension
-- exists only inside that transaction, so sg_act_as's own C function is
-- declared here as a temporary function (the module's check of the block
-- comes before any lookup). Each statement below runs alone, in autocommit;
-- the PL/pgSQL EXCEPTION block is a subtransaction of it.
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.act_as(text, text) RETURNS bigint
LANGUAGE C AS '$libdir/samegoal_transfer', 'sg_act_as';
CREATE FUNCTION pg_temp.sqlstate_in_subtransaction(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN '00000';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
RESET client_min_messages;
SELECT pg_temp.sqlstate_in_subtransaction($$SELECT pg_temp.act_as('maple.k12.example', 'madmin')$$)
       AS autocommit_subtransaction \gset
SELECT pg_temp.sqlstate_in_subtransaction($$DO 'BEGIN PERFORM pg_temp.act_as(''maple.k12.example'', ''madmin''); END'$$)
       AS autocommit_nested_blocks \gset

BEGIN;
\ir ../fixtures/tap_setup.sql

-- Receiving students of Cedar that differ from Maple's Avery Lopez
-- (2012-03-14, documents 1-3) in one field or another.
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name, birth_date)
VALUES (2, 'C-DAY', 'Avery', 'Lopez', '2012-03-15'),
       (2, 'C-NAMES', 'Jordan', 'Smith', '2012-03-14'),
       (2, 'C-LAST', 'Jordan', 'Lopez-Smith', '2012-03-14'),
       (2, 'C-NOBIRTH', 'Blake', 'Nguyen', NULL),
       (2, 'C-EMPTY', '-', '''', '2012-03-14');

-- The full error of a statement, or NULL when it succeeds.
CREATE FUNCTION pg_temp.full_error(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN format('%s|%s|%s|%s', state, message, detail, hint);
END
$$;
CREATE TEMP TABLE refusals (label text PRIMARY KEY, error text);
GRANT ALL ON refusals TO PUBLIC;

SELECT plan(12);
\ir ../fixtures/tap_share.sql
SET ROLE regress_sg_app;

SELECT is(:'autocommit_subtransaction'::text, '25P01',
          'sg_act_as in an EXCEPTION block of a statement outside a transaction block: 25P01');
SELECT is(:'autocommit_nested_blocks'::text, '25P01', '...and two subtransactions deep: 25P01');
SELECT is(pg_temp.sqlstate_in_subtransaction($$SELECT samegoal.sg_act_as('maple.k12.example', 'madmin')$$), '00000',
          'the same inside a transaction block: accepted');
SELECT is(samegoal.sg_current_user_id(), 1::bigint, 'acting as Maple''s admin');

-- Cedar asks for each of its students; Maple answers with Avery Lopez's documents.
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin') AS cadmin \gset
INSERT INTO refusals
SELECT 'request ' || sis, samegoal.sg_request_transfer('maple.k12.example', sis, 'cteacher')::text
  FROM unnest(ARRAY['C-DAY', 'C-NAMES', 'C-LAST', 'C-2002', 'C-NOBIRTH', 'C-EMPTY', 'C-2001']) AS sis;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS madmin \gset
INSERT INTO refusals
SELECT label, pg_temp.full_error(format('SELECT * FROM samegoal.sg_fulfill_transfer_request(%s, %s)',
                                        (SELECT r.error FROM refusals r WHERE r.label = 'request ' || sis), ids))
  FROM (VALUES ('birth date only', 'ARRAY[1, 2]', 'C-DAY'),
               ('names only', 'ARRAY[1]', 'C-NAMES'),
               ('first name only', 'ARRAY[3]', 'C-LAST'),
               ('names and birth date', 'ARRAY[2, 3]', 'C-2002'),
               ('another sending student, no birth date there', 'ARRAY[1]', 'C-NOBIRTH'),
               ('names normalising to the empty string', 'ARRAY[1]', 'C-EMPTY'),
               ('another sending student', 'ARRAY[4]', 'C-2001')) AS c(label, ids, sis);
DELETE FROM refusals WHERE label LIKE 'request %';

SELECT is((SELECT count(*) FROM refusals WHERE error LIKE 'SG012|%'), 7::bigint, 'every one of them is refused with SG012 when it answers a request');
SELECT is((SELECT count(DISTINCT error) FROM refusals), 1::bigint,
          'with one and the same message, detail and hint whatever differs');
SELECT is((SELECT min(error) FROM refusals),
          'SG012|the receiving student does not match the student whose documents are sent|'
          'The students must have the same birth date, or one of them none, and the same last name or the same first name.|'
          'Check the SIS Student ID with the receiving district, or pass allow_mismatch => true when the difference is known (a changed name, a corrected birth date).',
          'the error is the fixed one');
SELECT ok((SELECT min(error) FROM refusals) !~* '(jordan|smith|lopez|avery|nguyen|blake|2011|2012|C-)',
          'it holds no name, birth date or SIS Student ID of either student');
SELECT is(pg_temp.full_error($$SELECT * FROM samegoal.sg_transfer_documents(ARRAY[1], 'cedar.k12.example', 'C-DAY', 'cteacher', true)$$),
          NULL, 'allow_mismatch => true sends to the student a day apart');
SELECT is((SELECT count(*) FROM samegoal.transfers), 1::bigint, 'the refusals wrote no transfer; the allowed one did');

-- A subtransaction inside this transaction block may act.
SELECT is(pg_temp.sqlstate_in_subtransaction($$SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin')$$), '00000',
          'sg_act_as in a subtransaction of a transaction block: accepted');
SELECT is(samegoal.sg_current_user_id(), 4::bigint,
          'the identity set in a subtransaction that ended without error stays');

SELECT * FROM finish();
ROLLBACK;
