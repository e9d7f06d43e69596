-- Transfer requests and the inbox: what each party sees (the requester, the
-- district asked, a third district, a session that is not acting), forbidden
-- writes, expiry, and the whole story from request to acknowledgement.
\set ON_ERROR_STOP true
\set QUIET true
BEGIN;
\ir ../fixtures/tap_setup.sql
SELECT plan(53);
\ir ../fixtures/tap_share.sql

-- A fourth district in Oregon, to be the third party.
INSERT INTO samegoal.districts (domain, name, state) VALUES ('birch.k12.example', 'Birch Creek School District', 'OR');
INSERT INTO samegoal.users (district_id, username, email, full_name, is_admin)
VALUES (4, 'badmin', 'admin@birch.k12.example', 'Bailey Admin', true);

-- What a leaky function in a caller's WHERE clause would see.
CREATE TEMP TABLE seen (note text);
CREATE FUNCTION pg_temp.peek(note text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS
$$BEGIN INSERT INTO pg_temp.seen VALUES (note); RETURN true; END$$;
GRANT ALL ON seen TO PUBLIC;

SELECT columns_are('samegoal', 'transfer_inbox',
    ARRAY['kind', 'id', 'at', 'from_district_domain', 'from_district_name', 'from_user_name', 'from_user_email',
          'student_first_name', 'student_last_name', 'student_birth_date', 'receiving_sis_student_id',
          'document_count', 'note', 'expires_at', 'sent_first_name', 'sent_last_name', 'sent_birth_date',
          'due_on', 'overdue'],
          'the inbox has exactly the contract''s columns');
SELECT is((SELECT array_agg(o ORDER BY o) FROM pg_class c, unnest(c.reloptions) o WHERE c.oid = 'samegoal.transfer_inbox'::regclass),
          ARRAY['security_barrier=true', 'security_invoker=true'], 'the inbox runs with its caller''s row-level security, behind a barrier');

SET ROLE regress_sg_app;
-- Cedar asks Maple for two students' documents.
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'acting as cedar''s admin');
SELECT is(sg_request_transfer('maple.k12.example', 'C-2001', 'cteacher', 'IEP and evaluation, please', 'M-1001'), 1::bigint, 'request 1');
SELECT is(sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin', 'Secret note for Maple'), 2::bigint, 'request 2');
SELECT is(sg_request_transfer('maple.k12.example', 'C-2001', 'cadmin', 'again'), 1::bigint, 'asking again returns the pending request');
SELECT is((SELECT count(*)::int FROM transfer_requests), 2, 'the requester sees its two requests');
SELECT is((SELECT count(*)::int FROM transfer_inbox), 0, '...which are not in its own inbox');

-- The district asked sees them in its inbox, with the requester's contact.
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'acting as maple''s admin');
SELECT is((SELECT count(*)::int FROM transfer_requests), 2, 'the district asked sees both requests');
SELECT results_eq($$SELECT kind, id, from_district_domain, from_district_name, from_user_name, from_user_email,
                          student_first_name, student_last_name, student_birth_date, receiving_sis_student_id,
                          document_count, note
                     FROM transfer_inbox$$,
                  $$VALUES ('request', 2::bigint, 'cedar.k12.example', 'Cedar Falls School District', 'Casey Admin',
                            'admin@cedar.k12.example', 'Jordan', 'Smith', '2011-11-30'::date, NULL::text, NULL::int,
                            'Secret note for Maple'),
                           ('request', 1::bigint, 'cedar.k12.example', 'Cedar Falls School District', 'Casey Admin',
                            'admin@cedar.k12.example', 'Avery', 'Lopez', '2012-03-14'::date, NULL::text, NULL::int,
                            'IEP and evaluation, please')$$,
                  'maple''s inbox: both requests, newest first, with the requester''s contact');
SELECT is((SELECT count(*)::int FROM transfer_inbox WHERE expires_at > now() + interval '29 days'), 2, 'each open for 30 days');
-- a teacher of the district asked sees the inbox too: it tells what needs attention
SELECT is(sg_act_as('maple.k12.example', 'mteacher'), 2::bigint, 'acting as maple''s teacher');
SELECT is((SELECT count(*)::int FROM transfer_inbox), 2, 'a teacher sees the district''s inbox');

-- A third district and a session that is not acting see nothing, even through
-- a function in their WHERE clause.
SELECT is(sg_act_as('birch.k12.example', 'badmin'), 9::bigint, 'acting as birch''s admin');
SELECT is((SELECT count(*)::int FROM transfer_requests), 0, 'a third district sees no request');
SELECT is((SELECT count(*)::int FROM transfer_inbox), 0, '...and an empty inbox');
SELECT is((SELECT count(*)::int FROM transfer_inbox WHERE pg_temp.peek(note)), 0, '...even through a leaky function');
SELECT is((SELECT count(*)::int FROM transfer_requests WHERE pg_temp.peek(note)), 0, '...on the table too');
SELECT is((SELECT count(*)::int FROM pg_temp.seen), 0, 'the leaky function saw no row');
SELECT throws_ok('SELECT * FROM sg_fulfill_transfer_request(1, ARRAY[6])', 'SG011', NULL, 'a third district cannot answer');
SELECT throws_ok('SELECT sg_decline_transfer_request(1, ''no'')', 'SG011', NULL, '...nor decline');
SELECT throws_ok('SELECT sg_cancel_transfer_request(1)', 'SG011', NULL, '...nor cancel');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM samegoal.transfer_inbox), 0, 'a superuser who is not acting sees an empty inbox');
SET ROLE regress_sg_app;
SELECT is((SELECT count(*)::int FROM transfer_requests) + (SELECT count(*)::int FROM transfer_inbox), 0,
          'a session that is not acting sees nothing');

-- Maple, acting, sees through the leaky function only what its inbox shows.
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'maple again');
SELECT is((SELECT count(*)::int FROM transfer_inbox WHERE pg_temp.peek(note)), 2, 'two rows through the function');
SELECT is((SELECT array_agg(note ORDER BY note) FROM pg_temp.seen), ARRAY['IEP and evaluation, please', 'Secret note for Maple'],
          'the function saw the inbox''s rows only');

-- Forbidden writes, for the application and for superusers.
SELECT throws_ok($$INSERT INTO transfer_requests (requesting_district_id, sending_district_id, receiving_student_id,
                   receiving_owner_id, requested_by, requesting_district_domain, requesting_district_name,
                   student_first_name, student_last_name, expires_at) VALUES (2, 1, 3, 5, 4, 'x', 'x', 'x', 'x', now())$$,
                 '42501', NULL, 'the application cannot insert a request');
SELECT throws_ok('UPDATE transfer_requests SET status = ''declined''', '42501', NULL, '...nor update one');
SELECT throws_ok('DELETE FROM transfer_requests', '42501', NULL, '...nor delete one');
SELECT throws_ok('UPDATE transfers SET acknowledged_at = now()', '42501', NULL, '...nor acknowledge by hand');
RESET ROLE;
SELECT throws_ok('DELETE FROM samegoal.transfer_requests WHERE id = 1', '42501', 'transfer requests cannot be deleted',
                 'a superuser cannot delete a request');
SELECT throws_ok('TRUNCATE samegoal.transfer_requests', '42501', NULL, '...nor truncate them');
SET ROLE regress_sg_app;

-- Maple fulfils request 1 and declines request 2.
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'maple answers');
SELECT results_eq('SELECT source_document_id, received_document_id, copied FROM sg_fulfill_transfer_request(1, ARRAY[1, 2, 3])',
                  $$VALUES (1::bigint, 7::bigint, true), (2::bigint, 8::bigint, true), (3::bigint, 9::bigint, true)$$,
                  'request 1 fulfilled with three copies');
SELECT lives_ok('SELECT sg_decline_transfer_request(2, ''We hold no records for Jordan.'')', 'request 2 declined');
SELECT is((SELECT count(*)::int FROM transfer_inbox), 0, 'maple''s inbox is empty');

-- Cedar sees the answers and, in its inbox, who sent the documents.
SELECT is(sg_act_as('cedar.k12.example', 'cteacher'), 5::bigint, 'acting as cedar''s teacher, the owner of the copies');
SELECT results_eq('SELECT id, status, transfer_id, decline_reason FROM transfer_requests ORDER BY id',
                  $$VALUES (1::bigint, 'fulfilled', 1::bigint, NULL::text), (2::bigint, 'declined', NULL, 'We hold no records for Jordan.')$$,
                  'the requester sees both answers');
SELECT results_eq($$SELECT kind, id, from_district_domain, from_district_name, from_user_name, from_user_email,
                          student_first_name, student_last_name, student_birth_date, receiving_sis_student_id,
                          document_count, note, expires_at
                     FROM transfer_inbox$$,
                  $$VALUES ('transfer', 1::bigint, 'maple.k12.example', 'Maple Valley School District', 'Morgan Admin',
                            'admin@maple.k12.example', 'Avery', 'Lopez', '2012-03-14'::date, 'C-2001', 3, NULL::text,
                            NULL::timestamptz)$$,
                  'cedar''s inbox: the transfer, the sender''s name and email, its own student');
SELECT is((SELECT request_id FROM transfers WHERE id = 1), 1::bigint, 'the transfer names the request');
SELECT is((SELECT count(*)::int FROM districts), 1, 'the receiver still sees no row of the sending district');
SELECT lives_ok('SELECT sg_acknowledge_transfer(1)', 'the owner acknowledges');
SELECT is((SELECT count(*)::int FROM transfer_inbox), 0, 'cedar''s inbox is empty');
SELECT is((SELECT acknowledged_by FROM transfers WHERE id = 1), 5::bigint, 'acknowledged by the owner');

-- Expiry: an open request whose expires_at has passed leaves the inbox, can no
-- longer be answered, and a new request for the student may be made.
SELECT is(sg_act_as('cedar.k12.example', 'cadmin'), 4::bigint, 'cedar asks again');
SELECT is(sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin'), 3::bigint, 'request 3');
RESET ROLE;
SELECT lives_ok($$UPDATE samegoal.transfer_requests SET expires_at = now() - interval '1 minute' WHERE id = 3$$,
                'a superuser may correct a request''s expiry');
SET ROLE regress_sg_app;
SELECT is(sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin'), 4::bigint, 'an expired request does not stop a new one');
SELECT is(sg_act_as('maple.k12.example', 'madmin'), 1::bigint, 'maple');
SELECT is((SELECT array_agg(id) FROM transfer_inbox), ARRAY[4]::bigint[], 'the expired request left the inbox');
SELECT throws_ok('SELECT * FROM sg_fulfill_transfer_request(3, ARRAY[4], true)', 'SG011', NULL, 'an expired request cannot be fulfilled');

SELECT * FROM finish();
ROLLBACK;
