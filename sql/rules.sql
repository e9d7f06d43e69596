-- One rule, one answer: every entry point that applies a rule gives the same
-- answer, because each rule is written once (src/rules.c, src/args.c) and the
-- C and SQL functions all call it. The domain's blanks (a vertical tab, a form
-- feed), the login lookup (the username wins, an inactive user is skipped),
-- the setting rules SG001, SG002, SG009, SG010 (SQLSTATE, message, detail and
-- hint alike from a transfer, a request and the trigger on transfers), SG006
-- for documents, and the names of the SQLSTATEs and channels.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\i test/fixtures/roles.sql
\set ECHO all
-- district 4 birch (Oregon, transfers off), user 9, student 6, document 7;
-- in cedar, user 10's username is user 11's email
INSERT INTO samegoal.districts (domain, name, state, transfers_enabled)
VALUES ('birch.k12.example', 'Birch Creek School District', 'OR', false);
INSERT INTO samegoal.users (district_id, username, email, full_name, is_admin)
VALUES (4, 'badmin', 'admin@birch.k12.example', 'Bailey Admin', true),
       (2, 'shared', 'first@cedar.k12.example', 'Sam First', false),
       (2, 'second', 'Shared', 'Sky Second', false);
INSERT INTO samegoal.students (district_id, sis_student_id, first_name, last_name, birth_date)
VALUES (4, 'B-4001', 'Avery', 'Lopez', '2012-03-14');
INSERT INTO samegoal.documents (district_id, student_id, owner_id, doc_type, title)
VALUES (4, 6, 9, 'IEP', 'Birch IEP');

-- An error as one line: SQLSTATE, message, detail, hint.
CREATE SCHEMA regress_rules;
CREATE FUNCTION regress_rules.error_of(statement text)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || coalesce(' DETAIL: ' || NULLIF(detail, ''), '')
        || coalesce(' HINT: ' || NULLIF(hint, ''), '');
END
$$;
CREATE TABLE regress_rules.seen (rule text, entry text, answer text);
GRANT USAGE ON SCHEMA regress_rules TO regress_sg_app;
GRANT ALL ON regress_rules.seen TO regress_sg_app;
GRANT EXECUTE ON FUNCTION regress_rules.error_of(text) TO regress_sg_app;

-- The blank characters: a domain with a vertical tab (\x0B), a form feed, a
-- tab, a carriage return, a line feed around it is the same district to every
-- entry point.
SELECT samegoal.sg_district_by_domain(E'\x0B Cedar.K12.example\f'),
       samegoal.sg_district_by_domain(E'\t\r\ncedar.k12.example\n'),
       samegoal.sg_district_by_domain(E'cedar.k12.example\x01');
SELECT samegoal.sg_trim(E'\x0B\f \t\r\nx y\n\r\t \f\x0B'), samegoal.sg_trim(E'\x0B\f');
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as(E'\x0Bmaple.k12.example\f', 'madmin') AS acting_as;
SELECT domain FROM samegoal.sg_find_district(E'\fcedar.k12.example\x0B') LIMIT 1;
SELECT copied FROM samegoal.sg_transfer_documents(ARRAY[4], E'\x0B cedar.k12.example \f', 'C-2002', 'cteacher');
SELECT samegoal.sg_act_as(E'\f CEDAR.k12.example\x0B', 'cadmin') AS acting_as;
SELECT samegoal.sg_request_transfer(E'\x0Bmaple.k12.example\f', 'C-2001', 'cteacher') > 0 AS requested;
ROLLBACK;
-- Blank only: 22023 from the C and the SQL functions alike, the argument named.
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin') AS acting_as;
INSERT INTO regress_rules.seen
SELECT rule, entry, regexp_replace(answer, '^22023: [a-z_]+ must', '22023: (argument) must')
  FROM (VALUES
    ('blank', 'sg_request_transfer', regress_rules.error_of($$SELECT samegoal.sg_request_transfer(E'\x0B\f', 'C-2001', 'cteacher')$$)),
    ('blank', 'sg_transfer_documents', regress_rules.error_of($$SELECT samegoal.sg_transfer_documents(ARRAY[5], E'\x0B\f', 'M-1001', 'madmin')$$)),
    ('blank', 'sg_decline_transfer_request', regress_rules.error_of($$SELECT samegoal.sg_decline_transfer_request(1, E'\x0B\f')$$)),
    ('blank', 'sg_accept_transfer', regress_rules.error_of($$SELECT samegoal.sg_accept_transfer(1, E'\x0B\f')$$))) v(rule, entry, answer);
SELECT entry, answer FROM regress_rules.seen WHERE rule = 'blank' ORDER BY entry;
COMMIT;

-- The login: a user's username wins over another user's email, whatever the
-- case; an inactive user is skipped, and the other one found.
RESET ROLE;
SELECT samegoal.sg_user_by_login(2, 'SHARED'), samegoal.sg_user_by_login(2, 'first@CEDAR.k12.example');
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'SHARED') AS acting_as;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting_as;
CREATE TEMP TABLE sent ON COMMIT DROP AS
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'Shared', allow_mismatch => true);
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin') AS acting_as;
SELECT d.owner_id AS copy_owner FROM samegoal.documents d JOIN sent s ON d.id = s.received_document_id;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'sHaReD') AS request_id \gset
SELECT r.receiving_owner_id AS request_owner FROM samegoal.transfer_requests r WHERE r.id = :request_id;
ROLLBACK;
RESET ROLE;
UPDATE samegoal.users SET is_active = false WHERE id = 10;
SELECT samegoal.sg_user_by_login(2, 'shared');
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'shared') AS acting_as;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting_as;
CREATE TEMP TABLE sent ON COMMIT DROP AS
SELECT * FROM samegoal.sg_transfer_documents(ARRAY[4], 'cedar.k12.example', 'C-2002', 'shared', allow_mismatch => true);
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin') AS acting_as;
SELECT d.owner_id AS copy_owner FROM samegoal.documents d JOIN sent s ON d.id = s.received_document_id;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'shared') AS request_id \gset
SELECT r.receiving_owner_id AS request_owner FROM samegoal.transfer_requests r WHERE r.id = :request_id;
ROLLBACK;
RESET ROLE;
UPDATE samegoal.users SET is_active = true WHERE id = 10;

-- The setting rules from a transfer (sender maple or birch), a request (the
-- requester cedar or birch asks) and the trigger on transfers (a superuser's
-- INSERT): each code one message, detail and hint.
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('birch.k12.example', 'badmin') AS acting_as;
INSERT INTO regress_rules.seen VALUES
    ('SG001', 'sg_transfer_documents', regress_rules.error_of($$SELECT samegoal.sg_transfer_documents(ARRAY[7], 'maple.k12.example', 'M-1001', 'madmin')$$)),
    ('SG002', 'sg_request_transfer', regress_rules.error_of($$SELECT samegoal.sg_request_transfer('maple.k12.example', 'B-4001', 'badmin')$$));
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting_as;
INSERT INTO regress_rules.seen VALUES
    ('SG002', 'sg_transfer_documents', regress_rules.error_of($$SELECT samegoal.sg_transfer_documents(ARRAY[1], 'birch.k12.example', 'B-4001', 'badmin')$$)),
    ('SG009', 'sg_transfer_documents', regress_rules.error_of($$SELECT samegoal.sg_transfer_documents(ARRAY[1], 'maple.k12.example', 'M-1001', 'madmin')$$)),
    ('SG010', 'sg_transfer_documents', regress_rules.error_of($$SELECT samegoal.sg_transfer_documents(ARRAY[1], 'pine.k12.example', 'P-3001', 'padmin')$$)),
    ('SG003', 'sg_transfer_documents', regress_rules.error_of($$SELECT samegoal.sg_transfer_documents(ARRAY[1], 'nowhere.example', 'P-3001', 'padmin')$$));
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin') AS acting_as;
INSERT INTO regress_rules.seen VALUES
    ('SG001', 'sg_request_transfer', regress_rules.error_of($$SELECT samegoal.sg_request_transfer('birch.k12.example', 'C-2001', 'cteacher')$$)),
    ('SG009', 'sg_request_transfer', regress_rules.error_of($$SELECT samegoal.sg_request_transfer('cedar.k12.example', 'C-2001', 'cteacher')$$)),
    ('SG010', 'sg_request_transfer', regress_rules.error_of($$SELECT samegoal.sg_request_transfer('pine.k12.example', 'C-2001', 'cteacher')$$)),
    ('SG003', 'sg_request_transfer', regress_rules.error_of($$SELECT samegoal.sg_request_transfer('nowhere.example', 'C-2001', 'cteacher')$$));
COMMIT;
RESET ROLE;
INSERT INTO regress_rules.seen VALUES
    ('SG001', 'INSERT INTO transfers', regress_rules.error_of($$INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id, receiving_student_id, receiving_owner_id, initiated_by, document_count) VALUES (4, 1, 6, 1, 1, 9, 1)$$)),
    ('SG002', 'INSERT INTO transfers', regress_rules.error_of($$INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id, receiving_student_id, receiving_owner_id, initiated_by, document_count) VALUES (1, 4, 1, 6, 9, 1, 1)$$)),
    ('SG009', 'INSERT INTO transfers', regress_rules.error_of($$INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id, receiving_student_id, receiving_owner_id, initiated_by, document_count) VALUES (1, 1, 1, 2, 2, 1, 1)$$)),
    ('SG010', 'INSERT INTO transfers', regress_rules.error_of($$INSERT INTO samegoal.transfers (sending_district_id, receiving_district_id, sending_student_id, receiving_student_id, receiving_owner_id, initiated_by, document_count) VALUES (1, 3, 1, 5, 8, 1, 1)$$));

-- SG006: a document that is not there, from every function that takes one.
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin') AS acting_as;
INSERT INTO regress_rules.seen VALUES
    ('SG006', 'sg_transfer_documents', regress_rules.error_of($$SELECT samegoal.sg_transfer_documents(ARRAY[1, 999], 'cedar.k12.example', 'C-2001', 'cteacher')$$)),
    ('SG006', 'sg_delete_documents', regress_rules.error_of($$SELECT samegoal.sg_delete_documents(ARRAY[1, 999])$$)),
    ('SG006', 'sg_restore_documents', regress_rules.error_of($$SELECT samegoal.sg_restore_documents(ARRAY[5])$$)),
    ('SG006', 'sg_purge_documents', regress_rules.error_of($$SELECT samegoal.sg_purge_documents(ARRAY[999])$$));
COMMIT;
RESET ROLE;

-- Every entry point got the rule's one answer.
SELECT rule, entry, left(answer, 5) AS sqlstate FROM regress_rules.seen ORDER BY rule, entry;
SELECT rule, count(DISTINCT answer) AS answers, min(answer) AS answer
  FROM regress_rules.seen GROUP BY rule ORDER BY rule;

-- The names of src/samegoal.h, for SQL; an unknown name is an error.
SELECT n, samegoal.sg_sqlstate(n)
  FROM unnest(ARRAY['sender_disabled', 'receiver_disabled', 'no_such_district', 'no_such_student',
                    'no_such_user', 'not_found', 'mixed_students', 'document_live', 'same_district',
                    'other_state', 'request_not_open', 'student_mismatch', 'live_copy_exists',
                    'served_elsewhere']) n;
SELECT samegoal.sg_channel('transfer'), samegoal.sg_channel('transfer_request');
SELECT samegoal.sg_sqlstate('no_such_code');
-- The functions that still spell an SG code or a channel themselves.
SELECT p.proname FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'samegoal'::regnamespace
   AND (p.prosrc ~ '''SG0[0-9][0-9]''' OR p.prosrc ~ 'pg_notify\(''')
 ORDER BY 1;

DROP SCHEMA regress_rules CASCADE;
DROP EXTENSION samegoal_transfer;
DROP EXTENSION pg_trgm;
DROP ROLE regress_sg_app;
DROP ROLE regress_sg_outsider;
