-- Version 1.3, requests on the clock: the due date of a request by its state's
-- rule (calendar or working days, the sending district's closed days, weekends,
-- month and year ends, a leap day, the database's time zone), overdue by the
-- clock, the notice of delay, the closed days' security, the report. Dates are
-- set, never waited for.
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION samegoal_transfer CASCADE;
RESET client_min_messages;
\set ECHO none
\i test/fixtures/districts.sql
\i test/fixtures/roles.sql
\set ECHO all
SET TimeZone = 'America/Chicago';

-- The shipped rules; a state without one gets 10 working days.
SELECT state, days, day_kind, delay_notice_required, citation IS NOT NULL AS cited
  FROM samegoal.state_transfer_rules ORDER BY state;

-- The day arithmetic, one case a row: the rule of maple's state (Oregon), the
-- days maple is closed, when the request was made, and the due date expected.
CREATE TEMP TABLE due_cases (n int, rule_days int, rule_kind text, closed date[], made timestamptz, expected date);
INSERT INTO due_cases VALUES
    (1, 10, 'working', '{}', '2026-12-04 18:00 America/Chicago', '2026-12-18'),   -- Friday evening: counts from Monday
    (2, 5, 'working', '{}', '2026-12-05 10:00 America/Chicago', '2026-12-11'),    -- Saturday
    (3, 5, 'working', '{}', '2026-12-06 23:59 America/Chicago', '2026-12-11'),    -- Sunday night
    (4, 5, 'calendar', '{}', '2026-12-04 18:00 America/Chicago', '2026-12-09'),   -- calendar days count weekends
    (5, 3, 'working', '{}', '2026-04-30 09:00 America/Chicago', '2026-05-05'),    -- month end
    (6, 5, 'working', '{}', '2026-12-30 09:00 America/Chicago', '2027-01-06'),    -- year end
    (7, 5, 'working', '{2026-12-31,2027-01-01}', '2026-12-30 09:00 America/Chicago', '2027-01-08'),  -- closed for the holidays
    (8, 5, 'calendar', '{2026-12-31,2027-01-01}', '2026-12-30 09:00 America/Chicago', '2027-01-04'), -- calendar days ignore them
    (9, 1, 'calendar', '{}', '2028-02-28 09:00 America/Chicago', '2028-02-29'),   -- a leap day
    (10, 2, 'calendar', '{}', '2028-02-28 09:00 America/Chicago', '2028-03-01'),
    (11, 1, 'working', '{}', '2028-02-28 09:00 America/Chicago', '2028-02-29'),
    (12, 1, 'working', '{2028-02-29}', '2028-02-28 09:00 America/Chicago', '2028-03-01'),
    (13, 1, 'working', '{}', '2026-12-08 03:00+00', '2026-12-08'),                -- Monday evening in Chicago, Tuesday in UTC
    (14, 90, 'calendar', '{}', '2026-01-01 00:00 America/Chicago', '2026-04-01'),
    (15, 90, 'working', '{2026-01-19,2026-02-16,2026-05-25}', '2026-01-01 09:00 America/Chicago', '2026-05-11'),
    (16, NULL, NULL, '{}', '2026-12-04 18:00 America/Chicago', '2026-12-18');     -- no rule: 10 working days
CREATE TEMP TABLE due_results (n int, due date);
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM due_cases ORDER BY n LOOP
        DELETE FROM samegoal.state_transfer_rules WHERE state = 'OR';
        IF c.rule_days IS NOT NULL THEN
            INSERT INTO samegoal.state_transfer_rules (state, days, day_kind) VALUES ('OR', c.rule_days, c.rule_kind);
        END IF;
        DELETE FROM samegoal.district_closed_days WHERE district_id = 1;
        INSERT INTO samegoal.district_closed_days (district_id, day) SELECT 1, unnest(c.closed);
        INSERT INTO due_results VALUES (c.n, samegoal.sg_request_due_on(1, c.made));
    END LOOP;
END
$$;
SELECT c.n, c.rule_days, c.rule_kind, to_char(c.made, 'Dy YYYY-MM-DD HH24:MI') AS made_in_chicago,
       r.due, r.due = c.expected AS as_expected
  FROM due_cases c JOIN due_results r USING (n) ORDER BY c.n;

-- The database's own time zone wins over the session's: a request made on a
-- Monday evening in Chicago (Tuesday in UTC), 10 working days.
SET TimeZone = 'UTC';
SELECT samegoal.sg_request_due_on(1, '2026-12-08 03:00+00') AS due_in_the_sessions_zone;
SELECT format('ALTER DATABASE %I SET TimeZone = %L', current_database(), 'America/Chicago') \gexec
SELECT samegoal.sg_request_due_on(1, '2026-12-08 03:00+00') AS due_in_the_databases_zone;
SELECT format('ALTER DATABASE %I RESET TimeZone', current_database()) \gexec
SET TimeZone = 'America/Chicago';
DELETE FROM samegoal.state_transfer_rules WHERE state = 'OR';
DELETE FROM samegoal.district_closed_days;

-- The rules are the superusers': everyone reads them, nobody else writes them.
SET ROLE regress_sg_app;
SELECT count(*) AS rules_read FROM samegoal.state_transfer_rules;
INSERT INTO samegoal.state_transfer_rules VALUES ('OR', 1, 'calendar');
UPDATE samegoal.state_transfer_rules SET days = 1;
RESET ROLE;
-- A rule inserted for a state that has one replaces it (as pg_restore does).
INSERT INTO samegoal.state_transfer_rules VALUES ('TX', 12, 'working', false, 'changed');
SELECT state, days, citation FROM samegoal.state_transfer_rules WHERE state = 'TX';
UPDATE samegoal.state_transfer_rules SET days = 10, citation = '19 TAC 89.1050(h); Texas Education Code 25.002' WHERE state = 'TX';
INSERT INTO samegoal.state_transfer_rules VALUES ('TX', 0, 'working');
INSERT INTO samegoal.state_transfer_rules VALUES ('TX', 91, 'working');
INSERT INTO samegoal.state_transfer_rules VALUES ('TX', 10, 'school');
INSERT INTO samegoal.state_transfer_rules VALUES ('Tx', 10, 'working');

-- Closed days: a district's admins write its own; its users read them; other
-- districts see nothing.
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
INSERT INTO samegoal.district_closed_days (day, note) VALUES ('2026-12-24', 'Winter break'), ('2026-12-25', 'Winter break');
UPDATE samegoal.district_closed_days SET note = 'Christmas' WHERE day = '2026-12-25';
COMMIT;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SELECT district_id, day, note FROM samegoal.district_closed_days ORDER BY day;
SAVEPOINT s;
INSERT INTO samegoal.district_closed_days (day) VALUES ('2026-12-31');
ROLLBACK TO s;
DELETE FROM samegoal.district_closed_days;
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT count(*) AS maples_days_seen_by_cedar FROM samegoal.district_closed_days;
SAVEPOINT s;
INSERT INTO samegoal.district_closed_days (district_id, day) VALUES (1, '2026-12-31');
ROLLBACK TO s;
DELETE FROM samegoal.district_closed_days WHERE district_id = 1;
UPDATE samegoal.district_closed_days SET note = 'x' WHERE district_id = 1;
ROLLBACK;
RESET ROLE;
SELECT count(*) AS maples_days FROM samegoal.district_closed_days WHERE district_id = 1;
DELETE FROM samegoal.district_closed_days;

-- A request gets its due date when it is made: cedar asks maple (Oregon, no
-- rule: 10 working days from the day it is made).
\set notify_file `mktemp`
\setenv NOTIFY_FILE :notify_file
LISTEN samegoal_transfer_request;
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2001', 'cadmin') AS request_id;
SELECT samegoal.sg_request_transfer('maple.k12.example', 'C-2002', 'cadmin') AS request_id;
\o /dev/null
COMMIT;
\o
RESET ROLE;
SELECT id, due_on = samegoal.sg_request_due_on(sending_district_id, requested_at) AS due_by_the_rule,
       due_on > samegoal.sg_local_date(requested_at) AS due_later,
       delay_reason, delayed_until, delayed_at
  FROM samegoal.transfer_requests ORDER BY id;

-- Overdue flips when today passes the due date: set the dates, not the clock.
CREATE FUNCTION pg_temp.set_dates(id bigint, due_in integer) RETURNS void LANGUAGE sql AS $$
    UPDATE samegoal.transfer_requests r SET due_on = samegoal.sg_local_date(clock_timestamp()) + due_in
     WHERE r.id = set_dates.id $$;
CREATE FUNCTION pg_temp.overdue(id bigint) RETURNS boolean LANGUAGE sql AS $$
    SELECT samegoal.sg_request_overdue(r) FROM samegoal.transfer_requests r WHERE r.id = overdue.id $$;
SELECT pg_temp.set_dates(1, 1), pg_temp.overdue(1) AS due_tomorrow;
SELECT pg_temp.set_dates(1, 0), pg_temp.overdue(1) AS due_today;
SELECT pg_temp.set_dates(1, -1), pg_temp.overdue(1) AS due_yesterday;
SELECT pg_temp.set_dates(2, 3);

-- The inbox of the district asked shows both, with their due dates.
SET ROLE regress_sg_app;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SELECT kind, id, student_first_name, due_on - samegoal.sg_local_date(clock_timestamp()) AS due_in_days, overdue
  FROM samegoal.transfer_inbox ORDER BY id;
COMMIT;
-- The requester reads the same two facts of its own requests.
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cteacher');
SELECT r.id, r.due_on - samegoal.sg_local_date(clock_timestamp()) AS due_in_days,
       samegoal.sg_request_overdue(r) AS overdue
  FROM samegoal.transfer_requests r ORDER BY r.id;
COMMIT;
-- A third district sees nothing of them.
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
SELECT count(*) AS requests_seen FROM samegoal.transfer_requests;
SELECT count(*) AS inbox FROM samegoal.transfer_inbox;
COMMIT;

-- The notice of delay: who may, and every error in order (42501, then 22023,
-- then SG011).
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'mteacher');
SAVEPOINT s;
SELECT samegoal.sg_delay_transfer_request(2, 'records in storage', current_date + 5);
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SAVEPOINT s;
SELECT samegoal.sg_delay_transfer_request(NULL, 'records in storage', current_date + 5);
ROLLBACK TO s;
SELECT samegoal.sg_delay_transfer_request(2, NULL, current_date + 5);
ROLLBACK TO s;
SELECT samegoal.sg_delay_transfer_request(2, E' \t\n', current_date + 5);
ROLLBACK TO s;
SELECT samegoal.sg_delay_transfer_request(2, repeat('x', 1001), current_date + 5);
ROLLBACK TO s;
SELECT samegoal.sg_delay_transfer_request(2, 'records in storage', NULL);
ROLLBACK TO s;
SELECT samegoal.sg_delay_transfer_request(2, 'records in storage', samegoal.sg_local_date(clock_timestamp()) - 1);
ROLLBACK TO s;
SELECT samegoal.sg_delay_transfer_request(999, 'records in storage', current_date + 5);
ROLLBACK TO s;
COMMIT;
-- the requester cannot give it, nor a third district
BEGIN;
SELECT samegoal.sg_act_as('cedar.k12.example', 'cadmin');
SELECT samegoal.sg_delay_transfer_request(2, 'records in storage', current_date + 5);
ROLLBACK;
BEGIN;
SELECT samegoal.sg_act_as('pine.k12.example', 'padmin');
SELECT samegoal.sg_delay_transfer_request(2, 'records in storage', current_date + 5);
ROLLBACK;

-- Given in time (request 2 is due in 3 days), until in a week: not overdue
-- after the due date while the notice's date has not passed; a later notice
-- replaces it; one notification each, ids only.
BEGIN;
SELECT samegoal.sg_act_as('maple.k12.example', 'madmin');
SELECT samegoal.sg_delay_transfer_request(2, 'first notice', samegoal.sg_local_date(clock_timestamp()) + 5);
SELECT samegoal.sg_delay_transfer_request(2, '  records in storage until the move is done  ', samegoal.sg_local_date(clock_timestamp()) + 7);
\o :notify_file
COMMIT;
\o
\! sed 's/PID [0-9]*/PID N/' "$NOTIFY_FILE"
RESET ROLE;
SELECT id, delay_reason, delayed_until - samegoal.sg_local_date(clock_timestamp()) AS delayed_for_days,
       delayed_at IS NOT NULL AS noticed FROM samegoal.transfer_requests WHERE id = 2;
-- (the notice moved to the day before the due date, which is moved into the past)
SELECT pg_temp.set_dates(2, -2);
UPDATE samegoal.transfer_requests SET delayed_at = delayed_at - interval '3 days' WHERE id = 2;
SELECT pg_temp.overdue(2) AS past_due_with_a_timely_notice;
UPDATE samegoal.transfer_requests SET delayed_until = samegoal.sg_local_date(clock_timestamp()) - 1 WHERE id = 2;
SELECT pg_temp.overdue(2) AS past_the_notices_date;
-- A notice given after the due date had passed excuses nothing.
UPDATE samegoal.transfer_requests
   SET delayed_until = samegoal.sg_local_date(clock_timestamp()) + 7,
       delayed_at = (samegoal.sg_local_date(clock_timestamp()) - 1)::timestamptz + interval '12 hours'
 WHERE id = 2;
SELECT pg_temp.set_dates(2, -3), pg_temp.overdue(2) AS late_notice;
-- An answered request is never overdue.
UPDATE samegoal.transfer_requests SET status = 'declined', status_changed_at = clock_timestamp(), status_changed_by = 1, decline_reason = 'x' WHERE id = 2;
SELECT pg_temp.overdue(2) AS answered;
UPDATE samegoal.transfer_requests SET status = 'pending', status_changed_at = NULL, status_changed_by = NULL, decline_reason = NULL WHERE id = 2;

-- The report, for superusers and samegoal_reporting: counts, no student data.
SELECT state, sending_district_domain, overdue,
       oldest_due_on - samegoal.sg_local_date(clock_timestamp()) AS oldest_due_in_days
  FROM samegoal.sg_overdue_requests();
CREATE ROLE regress_sg_reader IN ROLE samegoal_reporting;
SET ROLE regress_sg_reader;
SELECT state, sending_district_domain, overdue, oldest_due_on IS NOT NULL AS dated FROM samegoal.sg_overdue_requests();
RESET ROLE;
SET ROLE regress_sg_app;
SELECT * FROM samegoal.sg_overdue_requests();
RESET ROLE;
-- a fenced state is another node's to report
INSERT INTO samegoal.node_states VALUES ('OR', 'moved_out');
SELECT count(*) AS rows_for_a_fenced_state FROM samegoal.sg_overdue_requests();
DELETE FROM samegoal.node_states;

UNLISTEN *;
\! rm -f "$NOTIFY_FILE"
DROP FUNCTION pg_temp.set_dates(bigint, integer), pg_temp.overdue(bigint);
DROP EXTENSION samegoal_transfer;
DROP EXTENSION pg_trgm;
DROP ROLE regress_sg_app, regress_sg_outsider, regress_sg_reader;
