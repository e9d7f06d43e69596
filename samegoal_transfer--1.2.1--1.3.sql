\echo Use "ALTER EXTENSION samegoal_transfer UPDATE TO '1.3'" to load this file. \quit
-- samegoal_transfer 1.2.1 -> 1.3, written by hand: it must end in exactly the
-- catalog that samegoal_transfer--1.3.sql installs (test/checks/upgrade.sh).
-- Until 1.3 is released this script changes with src/sql.
-- Version 1.3, held arrivals: a transfer to a student who does not match the
-- sending one no longer fails (SG012) in the sender's transaction, where a
-- sender could probe another district's student one call at a time; its
-- copies arrive held, nothing the sender sees tells which, and the receiving
-- district accepts them onto the right student or returns them.

-- Built-in names resolve in pg_catalog alone, as in the install script.
-- ALTER EXTENSION restores search_path after.
SET LOCAL search_path = pg_catalog, pg_temp;

-- As in every update: a schema samegoal that a role other than a superuser
-- owns lets that role swap what the SECURITY DEFINER functions call.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_namespace n
                 JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
                WHERE n.nspname OPERATOR(pg_catalog.=) 'samegoal' AND NOT r.rolsuper) THEN
        RAISE EXCEPTION 'schema "samegoal" is owned by a role that is not a superuser'
            USING ERRCODE = '42501',
                  HINT = 'Drop the schema, or make a superuser its owner (ALTER SCHEMA samegoal OWNER TO ...), before installing the extension.';
    END IF;
END
$$;

-- One home per rule ------------------------------------------------------
-- The rules that C and SQL both apply, each written once in C and called by
-- the PL/pgSQL functions (src/rules.c, src/args.c): the blank characters and
-- text arguments (sg_require_text becomes the C of the C functions' own
-- check), the district of a domain, the user of a login, the setting rules
-- with the district rows locked in one order, SG006 for documents, and the
-- names of the SQLSTATEs and channels. The functions of 1.3 that use them
-- are written with them further below; those of earlier releases that do are
-- replaced here. (Ends at "End of one home per rule".)

-- The rules that C and SQL functions both apply, each written once in C
-- (src/rules.c, src/args.c) and called by the PL/pgSQL functions, so that
-- every entry point applies the same one: the blank characters and the text
-- arguments, the district of a domain, the user of a login, the setting rules
-- with the district rows locked in one order, SG006 for documents, and the
-- names of the SQLSTATEs and notification channels (src/samegoal.h).
CREATE FUNCTION samegoal.sg_trim(value text)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_trim';

COMMENT ON FUNCTION samegoal.sg_trim(text) IS
'Internal: the value without its surrounding blanks (space, tab, line feed, vertical tab, form feed, carriage return)';

CREATE OR REPLACE FUNCTION samegoal.sg_require_text(value text, argument_name text, max_length integer)
RETURNS text
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_require_text';

COMMENT ON FUNCTION samegoal.sg_require_text(text, text, integer) IS
'Internal: the value, or 22023 when it is NULL, blank or longer than max_length (when given)';

CREATE FUNCTION samegoal.sg_district_by_domain(domain text)
RETURNS bigint
LANGUAGE C STABLE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_district_by_domain';

COMMENT ON FUNCTION samegoal.sg_district_by_domain(text) IS
'Internal: the district with that domain, case-insensitively, its surrounding blanks ignored, or NULL';

CREATE FUNCTION samegoal.sg_user_by_login(district_id bigint, login text)
RETURNS bigint
LANGUAGE C STABLE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_user_by_login';

COMMENT ON FUNCTION samegoal.sg_user_by_login(bigint, text) IS
'Internal: the active user of that district whose username or email is that login, case-insensitively, the username winning, or NULL';

CREATE FUNCTION samegoal.sg_check_districts(sending_district_id bigint, receiving_district_id bigint,
                                            domain text, requesting boolean)
RETURNS void
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_check_districts';

COMMENT ON FUNCTION samegoal.sg_check_districts(bigint, bigint, text, boolean) IS
'Internal: lock both districts FOR SHARE in id order and check the setting rules in a request''s order (SG003, SG009, SG010, SG002, SG001) or a transfer''s (SG001, SG003, SG009, SG010, SG002); SG003 names the domain, and without one a missing district passes';

CREATE FUNCTION samegoal.sg_document_not_found()
RETURNS void
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_document_not_found_sql';

COMMENT ON FUNCTION samegoal.sg_document_not_found() IS
'Internal: error SG006, one message for every document that is not there to use';

CREATE FUNCTION samegoal.sg_sqlstate(name text)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_sqlstate';

COMMENT ON FUNCTION samegoal.sg_sqlstate(text) IS
'Internal: the SQLSTATE of that name (src/samegoal.h), such as not_found for SG006';

CREATE FUNCTION samegoal.sg_channel(name text)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_channel';

COMMENT ON FUNCTION samegoal.sg_channel(text) IS
'Internal: the notification channel of that name (src/samegoal.h): transfer or transfer_request';

CREATE OR REPLACE FUNCTION samegoal.sg_transfers_check_settings()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.initiated_at < transaction_timestamp() THEN
        RETURN NEW;
    END IF;
    PERFORM samegoal.sg_check_districts(NEW.sending_district_id, NEW.receiving_district_id, NULL, false);
    RETURN NEW;
END
$$;


CREATE OR REPLACE FUNCTION samegoal.sg_set_transfer_coordinator(name text, email text, phone text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_name text := NULLIF(samegoal.sg_trim(sg_set_transfer_coordinator.name), '');
    new_email text := NULLIF(samegoal.sg_trim(sg_set_transfer_coordinator.email), '');
    new_phone text := NULLIF(samegoal.sg_trim(sg_set_transfer_coordinator.phone), '');
BEGIN
    PERFORM samegoal.sg_require_admin();
    IF char_length(new_name) > 200 OR char_length(new_email) > 200 OR char_length(new_phone) > 200 THEN
        RAISE EXCEPTION 'a Transfer Coordinator contact field is longer than 200 characters'
            USING ERRCODE = '22023';
    END IF;
    UPDATE samegoal.districts
       SET coordinator_name = new_name,
           coordinator_email = new_email,
           coordinator_phone = new_phone
     WHERE id = samegoal.sg_current_district_id();
END
$$;


CREATE OR REPLACE FUNCTION samegoal.sg_lock_open_request(request_id bigint, answering boolean)
RETURNS samegoal.transfer_requests
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    request samegoal.transfer_requests;
BEGIN
    SELECT r.* INTO request
      FROM samegoal.transfer_requests r
     WHERE r.id = sg_lock_open_request.request_id
       AND samegoal.sg_current_district_id() = CASE WHEN answering THEN r.sending_district_id
                                                    ELSE r.requesting_district_id END
       FOR UPDATE;
    IF request.id IS NULL OR request.status <> 'pending' OR request.expires_at <= clock_timestamp() THEN
        RAISE EXCEPTION 'no open transfer request with that id'
            USING ERRCODE = samegoal.sg_sqlstate('request_not_open'),
                  DETAIL = CASE WHEN answering
                                THEN 'The request does not exist, was not addressed to this district, has expired, or was already answered or cancelled.'
                                ELSE 'The request does not exist, was not made by this district, has expired, or was already answered or cancelled.' END;
    END IF;
    RETURN request;
END
$$;


CREATE OR REPLACE FUNCTION samegoal.sg_notify_request(request_id bigint)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_notify(samegoal.sg_channel('transfer_request'),
                 json_build_object('request_id', r.id, 'requesting_district_id', r.requesting_district_id,
                                   'sending_district_id', r.sending_district_id)::text)
  FROM samegoal.transfer_requests r
 WHERE r.id = sg_notify_request.request_id
$$;


CREATE OR REPLACE FUNCTION samegoal.sg_close_request(request_id bigint, answering boolean, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin_id bigint := samegoal.sg_require_admin();
    request samegoal.transfer_requests;
BEGIN
    IF answering THEN
        PERFORM samegoal.sg_require_text(reason, 'reason', 1000);
    END IF;
    IF request_id IS NULL THEN
        RAISE EXCEPTION 'request_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    request := samegoal.sg_lock_open_request(request_id, answering);
    PERFORM samegoal.sg_set_request_status(request.id, CASE WHEN answering THEN 'declined' ELSE 'cancelled' END,
                                           admin_id, samegoal.sg_trim(reason), NULL);
END
$$;


-- End of one home per rule ------------------------------------------------

-- Requests on the clock ------------------------------------------------------

-- The new columns of transfer_requests; the requests made before the update
-- get their due date from when they were made (no closed days were known).
ALTER TABLE samegoal.transfer_requests
    ADD COLUMN due_on date,
    ADD COLUMN delay_reason text
        CONSTRAINT transfer_requests_delay_reason_length CHECK (char_length(delay_reason) <= 1000),
    ADD COLUMN delayed_until date,
    ADD COLUMN delayed_at timestamptz,
    ADD CONSTRAINT transfer_requests_delay_recorded
        CHECK ((delayed_at IS NULL) = (delayed_until IS NULL)
               AND (delayed_at IS NULL) = (delay_reason IS NULL));
COMMENT ON COLUMN samegoal.transfer_requests.due_on IS 'The date by which the district asked must answer: the request''s date plus the days of its state''s rule (state_transfer_rules), fixed when the request is made';
COMMENT ON COLUMN samegoal.transfer_requests.delay_reason IS 'The reason of the district asked''s latest notice of delay (sg_delay_transfer_request)';
COMMENT ON COLUMN samegoal.transfer_requests.delayed_until IS 'The date the latest notice of delay promises';
COMMENT ON COLUMN samegoal.transfer_requests.delayed_at IS 'When the latest notice of delay was given: in time when on or before due_on';

-- Requests on the clock (1.3; the rest in 57_request_clock.sql): the date of
-- a moment, and the one rule of lateness, which the inbox shows.

-- The database's time zone: its own setting (ALTER DATABASE ... SET TimeZone),
-- else the session's.
CREATE FUNCTION samegoal.sg_local_date(at timestamptz)
RETURNS date
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT (at AT TIME ZONE coalesce(
           (SELECT substr(c, strpos(c, '=') + 1)
              FROM pg_db_role_setting s, unnest(s.setconfig) c
             WHERE s.setdatabase = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
               AND s.setrole = 0 AND lower(split_part(c, '=', 1)) = 'timezone'
             LIMIT 1),
           current_setting('TimeZone')))::date
$$;

COMMENT ON FUNCTION samegoal.sg_local_date(timestamptz) IS
'Internal: the date of a moment in the database''s time zone (its TimeZone setting, else the session''s)';

-- The one rule of lateness: a pending request is overdue when today is after
-- its due date, or after the date of a notice of delay given in time (before
-- the due date had passed). A notice given late excuses nothing.
CREATE FUNCTION samegoal.sg_request_overdue(request samegoal.transfer_requests)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT request.status = 'pending'
   AND samegoal.sg_local_date(clock_timestamp()) >
       CASE WHEN request.delayed_at IS NOT NULL
                 AND samegoal.sg_local_date(request.delayed_at) <= request.due_on
            THEN request.delayed_until
            ELSE request.due_on END
$$;

COMMENT ON FUNCTION samegoal.sg_request_overdue(samegoal.transfer_requests) IS
'Whether a request is overdue now: pending, and today after its due date (or after the date of a notice of delay given in time); samegoal.sg_request_overdue(r) for a row r of transfer_requests';

CREATE TABLE samegoal.state_transfer_rules (
    state                   text PRIMARY KEY
                            CONSTRAINT state_transfer_rules_state_code CHECK (state ~ '^[A-Z]{2}$'),
    days                    integer NOT NULL CONSTRAINT state_transfer_rules_days_1_to_90 CHECK (days BETWEEN 1 AND 90),
    day_kind                text NOT NULL
                            CONSTRAINT state_transfer_rules_day_kind_known CHECK (day_kind IN ('calendar', 'working')),
    delay_notice_required   boolean NOT NULL DEFAULT false,
    citation                text
);

COMMENT ON TABLE samegoal.state_transfer_rules IS
'How many days a district asked for a student''s records has, per state; a state with no row gets 10 working days. Written by superusers, read by everyone';
COMMENT ON COLUMN samegoal.state_transfer_rules.day_kind IS 'calendar (every day counts) or working (Saturdays, Sundays and the sending district''s closed days do not)';
COMMENT ON COLUMN samegoal.state_transfer_rules.delay_notice_required IS 'The state requires a written notice of the reason and the date when the records will be late';
COMMENT ON COLUMN samegoal.state_transfer_rules.citation IS 'Where the rule comes from';

INSERT INTO samegoal.state_transfer_rules (state, days, day_kind, delay_notice_required, citation) VALUES
    ('TX', 10, 'working', false, '19 TAC 89.1050(h); Texas Education Code 25.002'),
    ('CA', 5, 'working', false, 'California Education Code 56325; 5 CCR 3024'),
    ('MT', 5, 'working', true, 'ARM 10.16.3320');

-- Every row is dumped; a restore into a database where the extension put the
-- shipped rows replaces them (the trigger below), so a superuser's change of a
-- shipped rule survives pg_dump and pg_restore.
SELECT pg_catalog.pg_extension_config_dump('samegoal.state_transfer_rules', '');
GRANT SELECT ON samegoal.state_transfer_rules TO PUBLIC;
-- Row-level security like every table of the extension: everyone reads every
-- rule; only superusers, who pass it, write.
ALTER TABLE samegoal.state_transfer_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.state_transfer_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY state_transfer_rules_read ON samegoal.state_transfer_rules FOR SELECT USING (true);

CREATE FUNCTION samegoal.sg_replace_state_rule()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE samegoal.state_transfer_rules r
       SET days = NEW.days, day_kind = NEW.day_kind,
           delay_notice_required = NEW.delay_notice_required, citation = NEW.citation
     WHERE r.state = NEW.state;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION samegoal.sg_replace_state_rule() IS
'Trigger: an inserted rule for a state that has one replaces it (pg_restore of the shipped rows)';

CREATE TRIGGER state_transfer_rules_replace
    BEFORE INSERT ON samegoal.state_transfer_rules
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_replace_state_rule();
ALTER TABLE samegoal.state_transfer_rules ENABLE ALWAYS TRIGGER state_transfer_rules_replace;

-- The days a district's offices are closed (holidays, breaks): its own rows
-- for everyone of the district to read, written by its admins.
CREATE TABLE samegoal.district_closed_days (
    district_id bigint NOT NULL DEFAULT samegoal.sg_current_district_id()
                REFERENCES samegoal.districts (id),
    day         date NOT NULL,
    note        text CONSTRAINT district_closed_days_note_length CHECK (char_length(note) <= 200),
    PRIMARY KEY (district_id, day)
);

COMMENT ON TABLE samegoal.district_closed_days IS
'Days a district''s offices are closed: not working days for the requests it is asked to answer';

ALTER TABLE samegoal.district_closed_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.district_closed_days FORCE ROW LEVEL SECURITY;
CREATE POLICY district_closed_days_read ON samegoal.district_closed_days FOR SELECT
    USING (district_id = (SELECT samegoal.sg_current_district_id()));
-- Writing takes an administrator (42501 otherwise, from sg_require_admin).
CREATE POLICY district_closed_days_insert ON samegoal.district_closed_days FOR INSERT
    WITH CHECK (district_id = (SELECT samegoal.sg_current_district_id())
                AND (SELECT samegoal.sg_require_admin()) IS NOT NULL);
CREATE POLICY district_closed_days_update ON samegoal.district_closed_days FOR UPDATE
    USING (district_id = (SELECT samegoal.sg_current_district_id())
           AND (SELECT samegoal.sg_require_admin()) IS NOT NULL);
CREATE POLICY district_closed_days_delete ON samegoal.district_closed_days FOR DELETE
    USING (district_id = (SELECT samegoal.sg_current_district_id())
           AND (SELECT samegoal.sg_require_admin()) IS NOT NULL);
ALTER TABLE samegoal.district_closed_days REPLICA IDENTITY USING INDEX district_closed_days_pkey;

GRANT SELECT, DELETE ON samegoal.district_closed_days TO samegoal_app;
GRANT INSERT (day, note), UPDATE (note) ON samegoal.district_closed_days TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.district_closed_days', '');

-- The due date of a request made at that moment of the district asked: the
-- state's rule (10 working days when it has none).
CREATE FUNCTION samegoal.sg_request_due_on(sending_district_id bigint, requested_at timestamptz)
RETURNS date
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    start date := samegoal.sg_local_date(requested_at);
    rule_days integer := 10;
    rule_kind text := 'working';
    due date;
BEGIN
    SELECT r.days, r.day_kind INTO rule_days, rule_kind
      FROM samegoal.districts d JOIN samegoal.state_transfer_rules r ON r.state = d.state
     WHERE d.id = sg_request_due_on.sending_district_id;
    IF NOT FOUND THEN
        rule_days := 10;
        rule_kind := 'working';
    END IF;
    IF rule_kind = 'calendar' THEN
        RETURN start + rule_days;
    END IF;
    -- The rule_days-th working day after the request's day; a district closed
    -- for years on end is looked at ten years ahead at most.
    SELECT g.day INTO due
      FROM (SELECT start + i AS day FROM generate_series(1, 3653) AS i) g
     WHERE extract(isodow FROM g.day) < 6
       AND NOT EXISTS (SELECT FROM samegoal.district_closed_days c
                        WHERE c.district_id = sg_request_due_on.sending_district_id AND c.day = g.day)
     ORDER BY g.day
    OFFSET rule_days - 1 LIMIT 1;
    RETURN coalesce(due, start + 3653);
END
$$;

COMMENT ON FUNCTION samegoal.sg_request_due_on(bigint, timestamptz) IS
'Internal: the due date of a request made at that moment of that district, by its state''s rule and its closed days';

-- The district asked: a notice that the records will be late, with the reason
-- and the date they will be sent; a later notice replaces it.
CREATE FUNCTION samegoal.sg_delay_transfer_request(request_id bigint, reason text, until date)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    request samegoal.transfer_requests;
BEGIN
    PERFORM samegoal.sg_require_admin();
    IF request_id IS NULL THEN
        RAISE EXCEPTION 'request_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    PERFORM samegoal.sg_require_text(reason, 'reason', 1000);
    IF until IS NULL THEN
        RAISE EXCEPTION 'until must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF until < samegoal.sg_local_date(clock_timestamp()) THEN
        RAISE EXCEPTION 'until must not be before today' USING ERRCODE = '22023';
    END IF;
    request := samegoal.sg_lock_open_request(request_id, true);
    UPDATE samegoal.transfer_requests r
       SET delay_reason = samegoal.sg_trim(reason), delayed_until = until, delayed_at = clock_timestamp()
     WHERE r.id = request.id;
    PERFORM pg_notify(samegoal.sg_channel('transfer_request'),
                      json_build_object('event', 'delayed', 'request_id', request.id,
                                        'requesting_district_id', request.requesting_district_id,
                                        'sending_district_id', request.sending_district_id)::text);
END
$$;

COMMENT ON FUNCTION samegoal.sg_delay_transfer_request(bigint, text, date) IS
'Admins of the district asked: give notice that a pending request will be answered late, with the reason and the date (a later notice replaces it)';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_delay_transfer_request(bigint, text, date),
    samegoal.sg_request_overdue(samegoal.transfer_requests),
    samegoal.sg_local_date(timestamptz)
TO samegoal_app;
-- The write policies of district_closed_days run it as the caller.
GRANT EXECUTE ON FUNCTION samegoal.sg_require_admin() TO samegoal_app;

UPDATE samegoal.transfer_requests r SET due_on = samegoal.sg_request_due_on(r.sending_district_id, r.requested_at);
ALTER TABLE samegoal.transfer_requests ALTER COLUMN due_on SET NOT NULL;

CREATE OR REPLACE FUNCTION samegoal.sg_request_transfer(
    sending_domain text,
    receiving_sis_student_id text,
    receiving_owner text,
    note text DEFAULT NULL,
    sending_sis_student_id text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin samegoal.users;
    requester samegoal.districts;
    asked samegoal.districts;
    asked_id bigint;
    student samegoal.students;
    owner_id bigint;
    existing bigint;
    new_id bigint;
    made_at timestamptz := clock_timestamp();
BEGIN
    SELECT u.* INTO admin FROM samegoal.users u WHERE u.id = samegoal.sg_require_admin();
    PERFORM samegoal.sg_require_text(sending_domain, 'sending_domain', NULL);
    PERFORM samegoal.sg_require_text(receiving_sis_student_id, 'receiving_sis_student_id', NULL);
    PERFORM samegoal.sg_require_text(receiving_owner, 'receiving_owner', NULL);
    IF char_length(note) > 1000 THEN
        RAISE EXCEPTION 'note must be at most 1000 characters long' USING ERRCODE = '22023';
    END IF;
    IF char_length(sending_sis_student_id) > 20 THEN
        RAISE EXCEPTION 'sending_sis_student_id must be at most 20 characters long' USING ERRCODE = '22023';
    END IF;

    -- The district asked by the domain rule of sg_act_as and a transfer; both
    -- district rows FOR SHARE in id order and the setting rules checked in a
    -- request's order (SG003, SG009, SG010, SG002, SG001), as a transfer locks
    -- and checks them (src/rules.c): a change of either setting waits for the
    -- request, or the request for it.
    asked_id := samegoal.sg_district_by_domain(sending_domain);
    PERFORM samegoal.sg_check_districts(asked_id, admin.district_id, sending_domain, true);
    SELECT d.* INTO requester FROM samegoal.districts d WHERE d.id = admin.district_id;
    SELECT d.* INTO asked FROM samegoal.districts d WHERE d.id = asked_id;

    -- The student FOR NO KEY UPDATE: two requests for one student take turns, and
    -- the second finds the first.
    SELECT s.* INTO student FROM samegoal.students s
     WHERE s.district_id = requester.id AND s.sis_student_id = receiving_sis_student_id
       FOR NO KEY UPDATE;
    IF student.id IS NULL THEN
        RAISE EXCEPTION 'no student with SIS Student ID "%" in this district', left(receiving_sis_student_id, 100)
            USING ERRCODE = samegoal.sg_sqlstate('no_such_student'), HINT = 'Add the student first.';
    END IF;
    -- The owner by the login rule of sg_act_as and a transfer.
    owner_id := samegoal.sg_user_by_login(requester.id, receiving_owner);
    IF owner_id IS NULL THEN
        RAISE EXCEPTION 'no active user with username or email "%" in this district', left(receiving_owner, 100)
            USING ERRCODE = samegoal.sg_sqlstate('no_such_user');
    END IF;

    SELECT r.id INTO existing FROM samegoal.transfer_requests r
     WHERE r.requesting_district_id = requester.id AND r.sending_district_id = asked.id
       AND r.receiving_student_id = student.id AND r.status = 'pending' AND r.expires_at > clock_timestamp()
     ORDER BY r.id
     LIMIT 1;
    IF existing IS NOT NULL THEN
        RETURN existing;
    END IF;

    INSERT INTO samegoal.transfer_requests
           (requesting_district_id, sending_district_id, receiving_student_id, receiving_owner_id,
            requested_by, requested_at, requesting_district_domain, requesting_district_name, requested_by_name,
            requested_by_email, student_first_name, student_last_name, student_birth_date,
            sending_sis_student_id, note, expires_at, due_on)
    VALUES (requester.id, asked.id, student.id, owner_id,
            admin.id, made_at, requester.domain, requester.name, admin.full_name,
            admin.email, student.first_name, student.last_name, student.birth_date,
            NULLIF(samegoal.sg_trim(sending_sis_student_id), ''),
            NULLIF(samegoal.sg_trim(note), ''), made_at + interval '30 days',
            samegoal.sg_request_due_on(asked.id, made_at))
    RETURNING id INTO new_id;

    PERFORM samegoal.sg_notify_request(new_id);
    RETURN new_id;
END
$$;

-- Version 1.3: the overdue requests per state and district asked, counts only.
CREATE FUNCTION samegoal.sg_overdue_requests()
RETURNS TABLE (state text, sending_district_domain text, overdue bigint, oldest_due_on date)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT d.state, d.domain, count(*), min(r.due_on)
  FROM samegoal.transfer_requests r
  JOIN samegoal.districts d ON d.id = r.sending_district_id
 WHERE r.status = 'pending'
   AND samegoal.sg_request_overdue(r)
   AND NOT EXISTS (SELECT FROM samegoal.node_states n
                    WHERE n.state = d.state AND n.status <> 'serving')
 GROUP BY d.state, d.domain
 ORDER BY d.state, d.domain
$$;

COMMENT ON FUNCTION samegoal.sg_overdue_requests() IS
'Reporting (superusers and samegoal_reporting): per state this node serves and district asked, how many pending requests are overdue and the oldest due date';


-- Held copies: a flag on the receiving district's rows only ------------------

ALTER TABLE samegoal.documents ADD COLUMN held boolean NOT NULL DEFAULT false;
ALTER TABLE samegoal.documents ADD UNIQUE (district_id, id, held);
COMMENT ON COLUMN samegoal.documents.held IS 'A received copy held for the receiving district''s decision (its students did not match): on no student''s documents for the application, seen by the district''s admins in held_documents until sg_accept_transfer or sg_return_transfer';

ALTER TABLE samegoal.document_files ADD COLUMN held boolean NOT NULL DEFAULT false;
ALTER TABLE samegoal.document_files DROP CONSTRAINT document_files_district_id_document_id_fkey;
ALTER TABLE samegoal.document_files
    ADD FOREIGN KEY (district_id, document_id, held) REFERENCES samegoal.documents (district_id, id, held)
        ON UPDATE CASCADE;
COMMENT ON COLUMN samegoal.document_files.held IS 'The file of a held copy (documents.held, which it follows): seen only in held_document_files';

ALTER POLICY documents_own ON samegoal.documents
    USING (district_id = (SELECT samegoal.sg_current_district_id()) AND NOT held);
ALTER POLICY document_files_own ON samegoal.document_files
    USING (district_id = (SELECT samegoal.sg_current_district_id()) AND NOT held);

-- Delete and restore: held ids are SG006, as unknown ones.
CREATE OR REPLACE FUNCTION samegoal.sg_change_deletion(document_ids bigint[], deleting boolean)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor samegoal.users;
    wanted bigint[];
    locked_count integer;
    others_count integer;
    changed integer;
    violated text;
BEGIN
    SELECT u.* INTO actor FROM samegoal.users u WHERE u.id = samegoal.sg_require_user();
    wanted := samegoal.sg_distinct_ids(document_ids);

    SELECT count(*), count(*) FILTER (WHERE l.owner_id <> actor.id)
      INTO locked_count, others_count
      FROM (SELECT d.owner_id FROM samegoal.documents d
             WHERE d.id = ANY (wanted) AND d.district_id = actor.district_id AND NOT d.held
             ORDER BY d.id
               FOR UPDATE) l;
    IF locked_count < cardinality(wanted) THEN
        PERFORM samegoal.sg_document_not_found();
    END IF;
    IF others_count > 0 AND NOT actor.is_admin THEN
        RAISE EXCEPTION 'permission denied: only the owner of a document or an administrator may delete or restore it'
            USING ERRCODE = '42501';
    END IF;

    IF NOT deleting THEN
        -- A transfer to the same student locks the student first; restoring
        -- locks it too, so that the two take turns and the transfer sees the
        -- restored copy rather than copying the original again.
        PERFORM FROM samegoal.students s
         WHERE s.district_id = actor.district_id
           AND s.id IN (SELECT d.student_id FROM samegoal.documents d
                         WHERE d.id = ANY (wanted) AND d.district_id = actor.district_id
                           AND d.source_document_id IS NOT NULL)
         ORDER BY s.id
           FOR NO KEY UPDATE;
    END IF;

    BEGIN
        UPDATE samegoal.documents d
           SET deleted_at = CASE WHEN deleting THEN now() END,
               deleted_by = CASE WHEN deleting THEN actor.id END
         WHERE d.id = ANY (wanted) AND d.district_id = actor.district_id AND NOT d.held
           AND (d.deleted_at IS NULL) = deleting;
        GET DIAGNOSTICS changed = ROW_COUNT;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
        IF violated <> 'documents_one_live_copy' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'the student already holds a live copy of that original'
            USING ERRCODE = samegoal.sg_sqlstate('live_copy_exists'),
                  DETAIL = 'A received copy cannot be restored while another copy of the same original is live on the same student.',
                  HINT = 'Delete the other copy first, or keep it.';
    END;
    RETURN changed;
END
$$;

-- The record: the receiving district's decision on a held arrival ------------

ALTER TABLE samegoal.transfers
    ADD COLUMN attached_student_id bigint,
    ADD COLUMN returned_at timestamptz,
    ADD COLUMN returned_by bigint,
    ADD COLUMN return_reason text
        CONSTRAINT transfers_return_reason_length CHECK (char_length(return_reason) <= 1000),
    ADD FOREIGN KEY (receiving_district_id, attached_student_id) REFERENCES samegoal.students (district_id, id),
    ADD FOREIGN KEY (receiving_district_id, returned_by) REFERENCES samegoal.users (district_id, id),
    ADD CONSTRAINT transfers_returned_at_by_and_reason_together
        CHECK ((returned_at IS NULL) = (returned_by IS NULL) AND (returned_at IS NULL) = (return_reason IS NULL)),
    ADD CONSTRAINT transfers_accepted_or_returned CHECK (attached_student_id IS NULL OR returned_at IS NULL);
COMMENT ON COLUMN samegoal.transfers.attached_student_id IS 'A held arrival accepted (sg_accept_transfer): the receiving district''s student its copies were accepted on, the named one or another; NULL otherwise';
COMMENT ON COLUMN samegoal.transfers.returned_at IS 'A held arrival returned (sg_return_transfer): when its copies were purged and the sender told; NULL otherwise';
COMMENT ON COLUMN samegoal.transfers.returned_by IS 'The receiving district''s admin who returned the transfer';
COMMENT ON COLUMN samegoal.transfers.return_reason IS 'Why the receiving district returned the transfer, for the sender (up to 1,000 characters)';

CREATE OR REPLACE FUNCTION samegoal.sg_transfer_record_kept()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'transfers' AND TG_OP = 'UPDATE' THEN
        IF to_jsonb(NEW) - '{acknowledged_at, acknowledged_by, acknowledged_verified, acknowledged_total, attached_student_id, returned_at, returned_by, return_reason}'::text[]
             = to_jsonb(OLD) - '{acknowledged_at, acknowledged_by, acknowledged_verified, acknowledged_total, attached_student_id, returned_at, returned_by, return_reason}'::text[]
           AND to_jsonb(NEW) <> to_jsonb(OLD)
           AND (OLD.acknowledged_at IS NULL
                OR (NEW.acknowledged_at, NEW.acknowledged_by, NEW.acknowledged_verified, NEW.acknowledged_total)
                   IS NOT DISTINCT FROM
                   (OLD.acknowledged_at, OLD.acknowledged_by, OLD.acknowledged_verified, OLD.acknowledged_total))
           AND (OLD.attached_student_id IS NULL OR NEW.attached_student_id IS NOT DISTINCT FROM OLD.attached_student_id)
           AND (OLD.returned_at IS NULL
                OR (NEW.returned_at, NEW.returned_by, NEW.return_reason)
                   IS NOT DISTINCT FROM (OLD.returned_at, OLD.returned_by, OLD.return_reason))
        THEN
            RETURN NEW;
        END IF;
    END IF;
    IF TG_TABLE_NAME = 'transfer_documents' AND TG_OP = 'UPDATE' THEN
        IF NEW.received_document_id IS NULL
           AND to_jsonb(NEW) - 'received_document_id' = to_jsonb(OLD) - 'received_document_id'
        THEN
            RETURN NEW;
        END IF;
    END IF;
    IF TG_TABLE_NAME = 'transfer_files' AND TG_OP = 'UPDATE' THEN
        IF NEW.received_file_id IS NULL
           AND to_jsonb(NEW) - 'received_file_id' = to_jsonb(OLD) - 'received_file_id'
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the transfer record cannot be changed or deleted'
        USING ERRCODE = '42501',
              DETAIL = 'Both districts keep the record of what was disclosed; only the link to a purged copy is cleared, and the receiver''s acknowledgement and decision on a held arrival set.';
END
$$;

COMMENT ON FUNCTION samegoal.sg_transfer_record_kept() IS
'Trigger: refuses UPDATE, DELETE and TRUNCATE of transfers, transfer_documents and transfer_files rows, except clearing the link to a purged copy and setting a transfer''s acknowledgement, and the acceptance or return of a held arrival, once';

COMMENT ON FUNCTION samegoal.sg_transfer_documents(bigint[], text, text, text, boolean) IS
'Copy documents of one student of the acting admin''s district, with their files, to the student with that SIS Student ID in the district with that domain, owned there by the active user with that username or email; one row per distinct document: the transfer, the original, the copy, and whether it was copied now (false: the student already holds a copy, live or held); unless allow_mismatch, copies to a student who does not match the sending student by birth date and last or first name arrive held for the receiving district''s decision, and nothing the sender sees tells which';

-- Arrivals, the held copies' views, accept and return (src/sql/52_held.sql) ---

-- The receiving district's side of each transfer made since 1.3.
CREATE TABLE samegoal.transfer_arrivals (
    transfer_id             bigint NOT NULL,
    receiving_district_id   bigint NOT NULL,
    held                    boolean NOT NULL,
    sent_first_name         text,
    sent_last_name          text,
    sent_birth_date         date,
    PRIMARY KEY (receiving_district_id, transfer_id),
    FOREIGN KEY (transfer_id, receiving_district_id) REFERENCES samegoal.transfers (id, receiving_district_id)
);

COMMENT ON TABLE samegoal.transfer_arrivals IS
'The receiving district''s side of each transfer made since version 1.3: whether its copies arrived held, and the sending student as sent; readable by the receiving district only, written by sg_transfer_documents for every transfer, held or live, alike';
COMMENT ON COLUMN samegoal.transfer_arrivals.held IS 'The copies arrived held: the students did not match and allow_mismatch was false';
COMMENT ON COLUMN samegoal.transfer_arrivals.sent_first_name IS 'The sending district''s student''s first name as sent; cleared when the transfer is returned';
COMMENT ON COLUMN samegoal.transfer_arrivals.sent_last_name IS 'The sending district''s student''s last name as sent; cleared when the transfer is returned';
COMMENT ON COLUMN samegoal.transfer_arrivals.sent_birth_date IS 'The sending district''s student''s birth date as sent; cleared when the transfer is returned';

ALTER TABLE samegoal.transfer_arrivals ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_arrivals FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_arrivals_receiving ON samegoal.transfer_arrivals FOR SELECT
    USING (receiving_district_id = (SELECT samegoal.sg_current_district_id()));

GRANT SELECT ON samegoal.transfer_arrivals TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_arrivals', '');

-- What the receiving district's active admins see of held copies: the
-- documents' columns and files as the owner reads them; nobody else sees a row.
-- security_barrier: the view's conditions are applied before any function in
-- the caller's WHERE sees a row.
CREATE VIEW samegoal.held_documents WITH (security_barrier = true) AS
SELECT d.id, d.district_id, d.student_id, d.owner_id, d.doc_type, d.title, d.content, d.created_at,
       d.deleted_at, d.deleted_by, d.transfer_id, d.source_document_id, d.held
  FROM samegoal.documents d
 WHERE d.held
   AND d.district_id = (SELECT u.district_id FROM samegoal.users u
                         WHERE u.id = samegoal.sg_current_user_id()
                           AND u.district_id = samegoal.sg_current_district_id()
                           AND u.is_admin AND u.is_active);

COMMENT ON VIEW samegoal.held_documents IS
'For the acting district''s active admins: received copies held for a decision (sg_accept_transfer, sg_return_transfer), with the columns of documents; others see no rows';

GRANT SELECT ON samegoal.held_documents TO samegoal_app;

-- The held arrival of the acting admin's district that awaits a decision,
-- locked FOR UPDATE so that decisions take turns: the second finds it decided.
-- SG006 for anything else, with one message: another district's transfer, an
-- unknown id, a live arrival, or one already accepted or returned.
CREATE FUNCTION samegoal.sg_lock_held_transfer(transfer_id bigint, district_id bigint)
RETURNS samegoal.transfers
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    transfer samegoal.transfers;
BEGIN
    SELECT t.* INTO transfer
      FROM samegoal.transfers t
     WHERE t.id = sg_lock_held_transfer.transfer_id
       AND t.receiving_district_id = sg_lock_held_transfer.district_id
       AND t.attached_student_id IS NULL AND t.returned_at IS NULL
       AND EXISTS (SELECT FROM samegoal.transfer_arrivals a
                    WHERE a.receiving_district_id = t.receiving_district_id
                      AND a.transfer_id = t.id AND a.held)
       FOR UPDATE OF t;
    IF transfer.id IS NULL THEN
        RAISE EXCEPTION 'no held transfer with that id' USING ERRCODE = samegoal.sg_sqlstate('not_found'),
            DETAIL = 'No transfer with that id was received held by this district and awaits a decision.';
    END IF;
    RETURN transfer;
END
$$;

COMMENT ON FUNCTION samegoal.sg_lock_held_transfer(bigint, bigint) IS
'Internal: lock the held arrival of that district that awaits a decision, or SG006';

-- Purge copies of the district as sg_purge_documents does: a tombstone each,
-- the record's link to the copy cleared, the files and the documents deleted.
CREATE FUNCTION samegoal.sg_purge_copies(document_ids bigint[], district_id bigint, purged_by bigint)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    purged integer;
BEGIN
    INSERT INTO samegoal.purged_documents (document_id, district_id, student_id, doc_type, purged_by)
    SELECT d.id, d.district_id, d.student_id, d.doc_type, sg_purge_copies.purged_by
      FROM samegoal.documents d
     WHERE d.id = ANY (document_ids) AND d.district_id = sg_purge_copies.district_id;
    UPDATE samegoal.transfer_documents t SET received_document_id = NULL
     WHERE t.received_document_id = ANY (document_ids) AND t.receiving_district_id = sg_purge_copies.district_id;
    DELETE FROM samegoal.files f
     WHERE f.document_id = ANY (document_ids) AND f.district_id = sg_purge_copies.district_id;
    DELETE FROM samegoal.documents d
     WHERE d.id = ANY (document_ids) AND d.district_id = sg_purge_copies.district_id;
    GET DIAGNOSTICS purged = ROW_COUNT;
    RETURN purged;
END
$$;

COMMENT ON FUNCTION samegoal.sg_purge_copies(bigint[], bigint, bigint) IS
'Internal: purge these documents of the district as sg_purge_documents does (tombstones, the record unlinked, files and documents deleted); returns how many';

-- Accept: the held copies become live on the student named at send time, or
-- on the district's student with that SIS Student ID. That student is locked
-- FOR NO KEY UPDATE, as transfers and restores lock it, so that the three take
-- turns; a copy of an original the student already holds (live, or held by
-- another transfer) is purged rather than attached again.
CREATE FUNCTION samegoal.sg_accept_transfer(transfer_id bigint, sis_student_id text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin samegoal.users;
    transfer samegoal.transfers;
    target bigint;
    copies bigint[];
    duplicates bigint[];
    accepted integer;
BEGIN
    SELECT u.* INTO admin FROM samegoal.users u WHERE u.id = samegoal.sg_require_admin();
    IF transfer_id IS NULL THEN
        RAISE EXCEPTION 'transfer_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    IF sis_student_id IS NOT NULL THEN
        PERFORM samegoal.sg_require_text(sis_student_id, 'sis_student_id', NULL);
    END IF;
    transfer := samegoal.sg_lock_held_transfer(transfer_id, admin.district_id);

    SELECT s.id INTO target FROM samegoal.students s
     WHERE s.district_id = admin.district_id
       AND CASE WHEN sg_accept_transfer.sis_student_id IS NULL THEN s.id = transfer.receiving_student_id
                ELSE s.sis_student_id = sg_accept_transfer.sis_student_id END
       FOR NO KEY UPDATE;
    IF target IS NULL THEN
        RAISE EXCEPTION 'no student with SIS Student ID "%" in this district', left(sis_student_id, 100)
            USING ERRCODE = samegoal.sg_sqlstate('no_such_student'), HINT = 'Add the student first.';
    END IF;

    copies := ARRAY(SELECT d.id FROM samegoal.documents d
                     WHERE d.district_id = admin.district_id AND d.transfer_id = transfer.id AND d.held
                     ORDER BY d.id
                       FOR UPDATE);
    duplicates := ARRAY(SELECT h.id FROM samegoal.documents h
                         WHERE h.id = ANY (copies) AND h.district_id = admin.district_id
                           AND EXISTS (SELECT FROM samegoal.documents c
                                        WHERE c.district_id = h.district_id AND c.student_id = target
                                          AND c.source_document_id = h.source_document_id
                                          AND c.deleted_at IS NULL AND c.id <> h.id)
                         ORDER BY h.id);
    PERFORM samegoal.sg_purge_copies(duplicates, admin.district_id, admin.id);

    BEGIN
        -- The files follow their documents (ON UPDATE CASCADE).
        UPDATE samegoal.documents d SET held = false, student_id = target
         WHERE d.id = ANY (copies) AND d.district_id = admin.district_id AND d.held;
        GET DIAGNOSTICS accepted = ROW_COUNT;
    EXCEPTION WHEN unique_violation THEN
        -- Only a snapshot older than the student's lock misses a live copy
        -- (REPEATABLE READ, SERIALIZABLE): retry, as on a concurrent update.
        RAISE EXCEPTION 'could not serialize access due to a concurrent change of the same student'
            USING ERRCODE = '40001', HINT = 'Retry the transaction.';
    END;

    UPDATE samegoal.transfers t
       SET attached_student_id = target,
           acknowledged_at = coalesce(t.acknowledged_at, clock_timestamp()),
           acknowledged_by = coalesce(t.acknowledged_by, admin.id),
           (acknowledged_verified, acknowledged_total) =
               (SELECT CASE WHEN t.acknowledged_at IS NULL THEN count(*) FILTER (WHERE v.verified)
                            ELSE t.acknowledged_verified END,
                       CASE WHEN t.acknowledged_at IS NULL THEN count(*) ELSE t.acknowledged_total END
                  FROM samegoal.sg_transfer_verification(transfer.id) v)
     WHERE t.id = transfer.id;
    RETURN accepted;
END
$$;

COMMENT ON FUNCTION samegoal.sg_accept_transfer(bigint, text) IS
'Admins of the receiving district: make the copies of a held arrival live on the student named at send time, or on this district''s student with that SIS Student ID; a copy of an original that student already holds is purged instead; acknowledges the transfer; returns how many copies became live';

-- Return: the held copies are purged, the record says when, by whom and why,
-- the sending student's names as sent are cleared, and the sender is told on
-- samegoal_transfer (ids only: any session may LISTEN on any channel).
CREATE FUNCTION samegoal.sg_return_transfer(transfer_id bigint, reason text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin samegoal.users;
    transfer samegoal.transfers;
    copies bigint[];
    purged integer;
BEGIN
    SELECT u.* INTO admin FROM samegoal.users u WHERE u.id = samegoal.sg_require_admin();
    IF transfer_id IS NULL THEN
        RAISE EXCEPTION 'transfer_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    PERFORM samegoal.sg_require_text(reason, 'reason', 1000);
    transfer := samegoal.sg_lock_held_transfer(transfer_id, admin.district_id);

    copies := ARRAY(SELECT d.id FROM samegoal.documents d
                     WHERE d.district_id = admin.district_id AND d.transfer_id = transfer.id AND d.held
                     ORDER BY d.id
                       FOR UPDATE);
    purged := samegoal.sg_purge_copies(copies, admin.district_id, admin.id);

    UPDATE samegoal.transfers t
       SET returned_at = clock_timestamp(), returned_by = admin.id,
           return_reason = samegoal.sg_trim(reason)
     WHERE t.id = transfer.id;
    UPDATE samegoal.transfer_arrivals a
       SET sent_first_name = NULL, sent_last_name = NULL, sent_birth_date = NULL
     WHERE a.receiving_district_id = admin.district_id AND a.transfer_id = transfer.id;
    PERFORM pg_notify(samegoal.sg_channel('transfer'),
                      json_build_object('event', 'returned', 'transfer_id', transfer.id)::text);
    RETURN purged;
END
$$;

COMMENT ON FUNCTION samegoal.sg_return_transfer(bigint, text) IS
'Admins of the receiving district: purge the copies of a held arrival (tombstones as sg_purge_documents writes them), record the return with its reason for both districts, and notify the sender on samegoal_transfer; returns how many copies were purged';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_accept_transfer(bigint, text),
    samegoal.sg_return_transfer(bigint, text)
TO samegoal_app;

REVOKE ALL ON FUNCTION
    samegoal.sg_lock_held_transfer(bigint, bigint),
    samegoal.sg_purge_copies(bigint[], bigint, bigint),
    samegoal.sg_accept_transfer(bigint, text),
    samegoal.sg_return_transfer(bigint, text)
FROM PUBLIC;

-- A node: the arrivals are tenant data ----------------------------------------

ALTER TABLE samegoal.transfer_arrivals REPLICA IDENTITY USING INDEX transfer_arrivals_pkey;

-- Files stored once, receipt verified -----------------------------------------

-- The SHA-256 of each document's content, of each file's bytes, and the
-- counts of an acknowledgement.
CREATE FUNCTION samegoal.sg_content_sha256(content jsonb)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
SET search_path = pg_catalog, pg_temp
AS $$SELECT pg_catalog.sha256(pg_catalog.convert_to(content::text, 'UTF8'))$$;

COMMENT ON FUNCTION samegoal.sg_content_sha256(jsonb) IS
'SHA-256 of a document''s content as UTF-8 text (documents.content_sha256, the transfer record)';
GRANT EXECUTE ON FUNCTION samegoal.sg_content_sha256(jsonb) TO samegoal_app;

ALTER TABLE samegoal.documents ADD COLUMN content_sha256 bytea;
UPDATE samegoal.documents d SET content_sha256 = samegoal.sg_content_sha256(d.content);
ALTER TABLE samegoal.documents ALTER COLUMN content_sha256 SET NOT NULL;
COMMENT ON COLUMN samegoal.documents.content_sha256 IS 'SHA-256 of content as UTF-8 text, computed by the database when the content is written (sg_hash_content); not writable by the application';

-- content_sha256 is computed by the database when the content is written.
-- An insert that gives it keeps it: only the owner and superusers may give it
-- (the application has no privilege on the column), and they give the hash of
-- the very content they write: a transfer its original's, a restore the one
-- dumped. Computing it again there would double a transfer's time.
CREATE FUNCTION samegoal.sg_hash_content()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.content_sha256 := samegoal.sg_content_sha256(NEW.content);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION samegoal.sg_hash_content() IS
'Trigger: sets documents.content_sha256 to the SHA-256 of the content written';

-- In every session_replication_role: a row written in replica mode without
-- the hash gets it too.
CREATE TRIGGER documents_hash_inserted
    BEFORE INSERT ON samegoal.documents
    FOR EACH ROW WHEN (NEW.content_sha256 IS NULL) EXECUTE FUNCTION samegoal.sg_hash_content();
CREATE TRIGGER documents_hash_updated
    BEFORE UPDATE OF content, content_sha256 ON samegoal.documents
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_hash_content();
ALTER TABLE samegoal.documents ENABLE ALWAYS TRIGGER documents_hash_inserted;
ALTER TABLE samegoal.documents ENABLE ALWAYS TRIGGER documents_hash_updated;


ALTER TABLE samegoal.transfers ADD COLUMN acknowledged_verified integer, ADD COLUMN acknowledged_total integer,
    ADD CONSTRAINT transfers_acknowledged_counts
        CHECK ((acknowledged_verified IS NULL) = (acknowledged_total IS NULL)
               AND (acknowledged_total IS NULL OR acknowledged_at IS NOT NULL)
               AND acknowledged_verified BETWEEN 0 AND acknowledged_total);
COMMENT ON COLUMN samegoal.transfers.acknowledged_verified IS 'At the acknowledgement: how many of the transfer''s document contents and files the receiving district held as sent (sg_verify_transfer); NULL for an acknowledgement before version 1.3';
COMMENT ON COLUMN samegoal.transfers.acknowledged_total IS 'At the acknowledgement: how many document contents and files the transfer sent';

-- Transfers made before 1.3 recorded no hash of what they sent: NULL.
ALTER TABLE samegoal.transfer_documents ADD COLUMN content_sha256 bytea;
COMMENT ON COLUMN samegoal.transfer_documents.content_sha256 IS 'SHA-256 of the content as sent (documents.content_sha256); NULL for a transfer made before version 1.3';

-- The files of 1.2 become files and their content: every file keeps its id, and
-- its bytes become content of its own district with the same id, hashed here.
-- Copies made by earlier transfers keep content of their own: nothing recorded
-- which file of the original each copy was. The table of 1.2 steps aside
-- first: files takes over its sequence, the view its name.
ALTER TABLE samegoal.document_files RENAME TO document_files_1_2;
ALTER SEQUENCE samegoal.document_files_id_seq RENAME TO document_files_1_2_id_seq;
CREATE TABLE samegoal.file_contents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the district whose upload made it: every file that refers to it is of
    -- that district's state (transfers stay inside a state), which is how a
    -- state's move finds its content (docs/scaling-out.md)
    district_id     bigint NOT NULL REFERENCES samegoal.districts (id),
    data            bytea NOT NULL,
    sha256          bytea NOT NULL GENERATED ALWAYS AS (pg_catalog.sha256(data)) STORED,
    byte_size       bigint NOT NULL GENERATED ALWAYS AS (pg_catalog.octet_length(data)) STORED,
    UNIQUE (district_id, id)
);

COMMENT ON TABLE samegoal.file_contents IS 'The bytes of files, each stored once: shared by a file and the copies transfers made of it, deleted with the last file that refers to it';
COMMENT ON COLUMN samegoal.file_contents.district_id IS 'The district whose upload stored these bytes; every file that refers to them is of its state';
COMMENT ON COLUMN samegoal.file_contents.sha256 IS 'SHA-256 of data, computed by the database when the bytes are stored';
COMMENT ON COLUMN samegoal.file_contents.byte_size IS 'The length of data in bytes';

-- The ids are those of document_files, from its sequence of 1.2, under its name:
-- a dump of an earlier version restores its files through the view and sets
-- that sequence.
CREATE TABLE samegoal.files (
    id              bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME samegoal.document_files_id_seq) PRIMARY KEY,
    district_id     bigint NOT NULL,
    document_id     bigint NOT NULL,
    filename        text NOT NULL CONSTRAINT files_filename_not_blank CHECK (btrim(filename) <> ''),
    content_type    text NOT NULL DEFAULT 'application/octet-stream',
    held            boolean NOT NULL DEFAULT false,
    content_id      bigint NOT NULL REFERENCES samegoal.file_contents (id),
    UNIQUE (district_id, id),
    -- a file is held exactly when its document is: accepting a held copy
    -- releases its files with it, and no file is added to a held copy
    FOREIGN KEY (district_id, document_id, held) REFERENCES samegoal.documents (district_id, id, held)
        ON UPDATE CASCADE
);
CREATE INDEX files_document_idx ON samegoal.files (district_id, document_id);
-- The last reference to a content (freeing it), and a district's reference to
-- one (file_contents' policy).
CREATE INDEX files_content_idx ON samegoal.files (content_id, district_id);

COMMENT ON TABLE samegoal.files IS 'Files attached to documents, one row per district''s file; the bytes are in file_contents; applications use the view document_files';
COMMENT ON COLUMN samegoal.files.held IS 'The file of a held copy (documents.held, which it follows): seen only in held_document_files';
COMMENT ON COLUMN samegoal.files.content_id IS 'The bytes: content of the district''s own, or for a received copy the content of the sender''s file';

ALTER TABLE samegoal.files ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.files FORCE ROW LEVEL SECURITY;
CREATE POLICY files_own ON samegoal.files
    USING (district_id = (SELECT samegoal.sg_current_district_id()) AND NOT held);

-- A district reads the content its own (unheld) files refer to, and no other.
ALTER TABLE samegoal.file_contents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.file_contents FORCE ROW LEVEL SECURITY;
CREATE POLICY file_contents_of_own_files ON samegoal.file_contents FOR SELECT
    USING (EXISTS (SELECT FROM samegoal.files f
                    WHERE f.content_id = file_contents.id
                      AND f.district_id = (SELECT samegoal.sg_current_district_id())
                      AND NOT f.held));

-- security_invoker: the caller's privileges and the tables' policies apply,
-- as they did to the table of 1.2.
CREATE VIEW samegoal.document_files WITH (security_invoker = true) AS
SELECT f.id, f.district_id, f.document_id, f.filename, f.content_type, c.data, f.held, c.sha256
  FROM samegoal.files f
  JOIN samegoal.file_contents c ON c.id = f.content_id;
ALTER VIEW samegoal.document_files ALTER COLUMN district_id SET DEFAULT samegoal.sg_current_district_id();
ALTER VIEW samegoal.document_files ALTER COLUMN content_type SET DEFAULT 'application/octet-stream';
ALTER VIEW samegoal.document_files ALTER COLUMN held SET DEFAULT false;

COMMENT ON VIEW samegoal.document_files IS 'Files attached to documents, with their bytes: insert, update and read them as a table; a district sees and writes its own';
COMMENT ON COLUMN samegoal.document_files.held IS 'The file of a held copy (documents.held, which it follows): seen only in held_document_files';
COMMENT ON COLUMN samegoal.document_files.sha256 IS 'SHA-256 of data, computed by the database; not writable';

-- Writes of document_files rows, as the caller: the row-level security of
-- files decides what the caller may write, the bytes become new content of
-- the file's district (src/files.c).
CREATE FUNCTION samegoal.sg_document_files_write()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'sg_document_files_write';

COMMENT ON FUNCTION samegoal.sg_document_files_write() IS
'Trigger: INSERT, UPDATE and DELETE of document_files rows, on files and file_contents: new bytes are always new content of the file''s district';

CREATE TRIGGER document_files_write
    INSTEAD OF INSERT OR UPDATE OR DELETE ON samegoal.document_files
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_document_files_write();

-- Content no file refers to any more is deleted, after the statement that
-- removed its last reference. A transfer takes a new reference only from a
-- live file of the sender, which it holds FOR SHARE until it commits: a
-- statement deleting that file waits for it, and one deleting another file
-- sees it and keeps the content. Two statements removing the last two
-- references concurrently take turns on the content row (FOR NO KEY UPDATE,
-- which a transfer's foreign key check does not wait for): the second then
-- sees the first's deletion, in READ COMMITTED by its next statement's
-- snapshot; under a transaction snapshot, by failing to lock the file the
-- other deleted (40001, to be retried) rather than keeping content nothing
-- refers to (only there are the other references locked: in READ COMMITTED
-- that would wait for a concurrent change of those files for nothing). The
-- foreign key from files stands behind all of it: no file refers to deleted
-- bytes.
CREATE FUNCTION samegoal.sg_free_contents()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    candidates bigint[];
BEGIN
    IF TG_OP = 'UPDATE' THEN
        candidates := ARRAY(SELECT DISTINCT o.content_id FROM old_files o
                             WHERE NOT EXISTS (SELECT FROM new_files n WHERE n.content_id = o.content_id));
    ELSE
        candidates := ARRAY(SELECT DISTINCT o.content_id FROM old_files o);
    END IF;
    IF cardinality(candidates) = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM FROM samegoal.file_contents c WHERE c.id = ANY (candidates) ORDER BY c.id FOR NO KEY UPDATE;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM FROM samegoal.files f WHERE f.content_id = ANY (candidates) FOR KEY SHARE;
    END IF;
    DELETE FROM samegoal.file_contents c
     WHERE c.id = ANY (candidates)
       AND NOT EXISTS (SELECT FROM samegoal.files f WHERE f.content_id = c.id);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION samegoal.sg_free_contents() IS
'Trigger: deletes the content that the statement''s deleted or changed files referred to and no file refers to any more';

CREATE TRIGGER files_free_deleted
    AFTER DELETE ON samegoal.files
    REFERENCING OLD TABLE AS old_files
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_free_contents();
CREATE TRIGGER files_free_replaced
    AFTER UPDATE ON samegoal.files
    REFERENCING OLD TABLE AS old_files NEW TABLE AS new_files
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_free_contents();

INSERT INTO samegoal.file_contents (id, district_id, data) OVERRIDING SYSTEM VALUE
SELECT f.id, f.district_id, f.data FROM samegoal.document_files_1_2 f ORDER BY f.id;
INSERT INTO samegoal.files (id, district_id, document_id, filename, content_type, held, content_id)
    OVERRIDING SYSTEM VALUE
SELECT f.id, f.district_id, f.document_id, f.filename, f.content_type, f.held, f.id
  FROM samegoal.document_files_1_2 f ORDER BY f.id;
SELECT pg_catalog.setval('samegoal.file_contents_id_seq', s.last_value, s.is_called),
       pg_catalog.setval('samegoal.document_files_id_seq', s.last_value, s.is_called)
  FROM samegoal.document_files_1_2_id_seq s;

CREATE OR REPLACE VIEW samegoal.purge_vacuum_status AS
WITH purges AS (
    SELECT max(purged_at) AS last_purge FROM samegoal.purged_documents
)
SELECT s.relid::regclass AS table_name,
       s.n_dead_tup AS dead_rows,
       GREATEST(s.last_vacuum, s.last_autovacuum) AS last_vacuum,
       p.last_purge,
       p.last_purge IS NOT NULL
           AND (GREATEST(s.last_vacuum, s.last_autovacuum) IS NULL
                OR GREATEST(s.last_vacuum, s.last_autovacuum) < p.last_purge) AS awaiting_vacuum
  FROM pg_catalog.pg_stat_all_tables s
 CROSS JOIN purges p
 WHERE s.relid IN (SELECT c.oid FROM pg_catalog.pg_class c
                    WHERE c.oid IN ('samegoal.documents'::regclass, 'samegoal.files'::regclass, 'samegoal.file_contents'::regclass)
                   UNION ALL
                   SELECT c.reltoastrelid FROM pg_catalog.pg_class c
                    WHERE c.oid IN ('samegoal.documents'::regclass, 'samegoal.files'::regclass, 'samegoal.file_contents'::regclass));

-- Out of the extension first, which takes them out of what pg_dump dumps.
ALTER EXTENSION samegoal_transfer DROP SEQUENCE samegoal.document_files_1_2_id_seq;
ALTER EXTENSION samegoal_transfer DROP TABLE samegoal.document_files_1_2;
DROP TABLE samegoal.document_files_1_2;

CREATE VIEW samegoal.held_document_files WITH (security_barrier = true) AS
SELECT f.id, f.district_id, f.document_id, f.filename, f.content_type, c.data, f.held, c.sha256
  FROM samegoal.files f
  JOIN samegoal.file_contents c ON c.id = f.content_id
 WHERE f.held
   AND f.district_id = (SELECT u.district_id FROM samegoal.users u
                         WHERE u.id = samegoal.sg_current_user_id()
                           AND u.district_id = samegoal.sg_current_district_id()
                           AND u.is_admin AND u.is_active);

COMMENT ON VIEW samegoal.held_document_files IS
'For the acting district''s active admins: the files of held copies, with the columns of document_files; others see no rows';

CREATE OR REPLACE VIEW samegoal.held_documents WITH (security_barrier = true) AS
SELECT d.id, d.district_id, d.student_id, d.owner_id, d.doc_type, d.title, d.content, d.created_at,
       d.deleted_at, d.deleted_by, d.transfer_id, d.source_document_id, d.held, d.content_sha256
  FROM samegoal.documents d
 WHERE d.held
   AND d.district_id = (SELECT u.district_id FROM samegoal.users u
                         WHERE u.id = samegoal.sg_current_user_id()
                           AND u.district_id = samegoal.sg_current_district_id()
                           AND u.is_admin AND u.is_active);

GRANT SELECT ON samegoal.document_files, samegoal.files, samegoal.file_contents TO samegoal_app;
GRANT INSERT (district_id, document_id, filename, content_type, data),
      UPDATE (document_id, filename, content_type, data)
    ON samegoal.document_files TO samegoal_app;
GRANT SELECT ON samegoal.held_document_files TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.file_contents', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.file_contents_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.files', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.document_files_id_seq', '');

-- A row of files, or of their content, never moves to another district.
CREATE TRIGGER files_district_kept BEFORE UPDATE OF district_id ON samegoal.files FOR EACH ROW
    WHEN ((NEW.district_id) IS DISTINCT FROM (OLD.district_id))
    EXECUTE FUNCTION samegoal.sg_refuse_change('a row of files cannot move to another district');
ALTER TABLE samegoal.files ENABLE ALWAYS TRIGGER files_district_kept;
CREATE TRIGGER file_contents_district_kept BEFORE UPDATE OF district_id ON samegoal.file_contents FOR EACH ROW
    WHEN ((NEW.district_id) IS DISTINCT FROM (OLD.district_id))
    EXECUTE FUNCTION samegoal.sg_refuse_change('a row of file_contents cannot move to another district');
ALTER TABLE samegoal.file_contents ENABLE ALWAYS TRIGGER file_contents_district_kept;

-- The manifest.
CREATE TABLE samegoal.transfer_files (
    transfer_id             bigint NOT NULL,
    source_file_id          bigint NOT NULL,
    received_file_id        bigint,
    filename                text NOT NULL,
    byte_size               bigint NOT NULL,
    sha256                  bytea NOT NULL,
    sending_district_id     bigint NOT NULL,
    receiving_district_id   bigint NOT NULL,
    source_document_id      bigint NOT NULL,
    PRIMARY KEY (transfer_id, source_file_id),
    FOREIGN KEY (transfer_id, sending_district_id, receiving_district_id)
        REFERENCES samegoal.transfers (id, sending_district_id, receiving_district_id),
    FOREIGN KEY (receiving_district_id, received_file_id) REFERENCES samegoal.files (district_id, id)
        ON DELETE SET NULL (received_file_id)
);
CREATE INDEX transfer_files_received_idx ON samegoal.transfer_files (receiving_district_id, received_file_id);

COMMENT ON TABLE samegoal.transfer_files IS 'The manifest: one row per file a transfer copied, with its name, size and SHA-256 as sent; part of the disclosure record';
COMMENT ON COLUMN samegoal.transfer_files.source_file_id IS 'The sending district''s file';
COMMENT ON COLUMN samegoal.transfer_files.received_file_id IS 'The receiving district''s copy of it; NULL once that copy is purged';
COMMENT ON COLUMN samegoal.transfer_files.sha256 IS 'SHA-256 of the bytes as sent';

ALTER TABLE samegoal.transfer_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_files FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_files_either_side ON samegoal.transfer_files FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));
GRANT SELECT ON samegoal.transfer_files TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_files', '');
CREATE TRIGGER transfer_files_kept
    BEFORE UPDATE OR DELETE ON samegoal.transfer_files
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfer_record_kept();
CREATE TRIGGER transfer_files_kept_truncate
    BEFORE TRUNCATE ON samegoal.transfer_files
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_transfer_record_kept();
ALTER TABLE samegoal.transfer_files ENABLE ALWAYS TRIGGER transfer_files_kept;
ALTER TABLE samegoal.transfer_files ENABLE ALWAYS TRIGGER transfer_files_kept_truncate;

-- A node: files, their content and the manifest are tenant data.
CREATE UNIQUE INDEX transfer_files_districts_key
    ON samegoal.transfer_files (transfer_id, source_file_id, sending_district_id, receiving_district_id);
ALTER TABLE samegoal.file_contents REPLICA IDENTITY USING INDEX file_contents_district_id_id_key;
ALTER TABLE samegoal.files REPLICA IDENTITY USING INDEX files_district_id_id_key;
ALTER TABLE samegoal.transfer_files REPLICA IDENTITY USING INDEX transfer_files_districts_key;

-- Receipt verified.
CREATE FUNCTION samegoal.sg_transfer_verification(transfer_id bigint)
RETURNS TABLE (received_document_id bigint, filename text, sent_sha256 bytea, held_sha256 bytea,
               verified boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT v.received_document_id, v.filename, v.sent_sha256, v.held_sha256,
       coalesce(v.sent_sha256 = v.held_sha256, false)
  FROM (SELECT t.received_document_id, NULL::text AS filename, t.content_sha256 AS sent_sha256,
               samegoal.sg_content_sha256(d.content) AS held_sha256,
               t.source_document_id, 0::bigint AS source_file_id
          FROM samegoal.transfer_documents t
          LEFT JOIN samegoal.documents d
                 ON d.district_id = t.receiving_district_id AND d.id = t.received_document_id
         WHERE t.transfer_id = sg_transfer_verification.transfer_id
        UNION ALL
        SELECT t.received_document_id, m.filename, m.sha256, sha256(c.data),
               m.source_document_id, m.source_file_id
          FROM samegoal.transfer_files m
          JOIN samegoal.transfer_documents t
            ON t.transfer_id = m.transfer_id AND t.source_document_id = m.source_document_id
          LEFT JOIN samegoal.files f ON f.district_id = m.receiving_district_id AND f.id = m.received_file_id
          LEFT JOIN samegoal.file_contents c ON c.id = f.content_id
         WHERE m.transfer_id = sg_transfer_verification.transfer_id) v
 ORDER BY v.source_document_id, v.source_file_id
$$;

COMMENT ON FUNCTION samegoal.sg_transfer_verification(bigint) IS
'Internal: a transfer''s contents and files as sent against what the receiving district holds now';

CREATE FUNCTION samegoal.sg_verify_transfer(transfer_id bigint)
RETURNS TABLE (received_document_id bigint, filename text, sent_sha256 bytea, held_sha256 bytea,
               verified boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    district bigint := (SELECT u.district_id FROM samegoal.users u WHERE u.id = samegoal.sg_require_user());
BEGIN
    PERFORM FROM samegoal.transfers t
     WHERE t.id = sg_verify_transfer.transfer_id AND t.receiving_district_id = district;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'transfer not found' USING ERRCODE = samegoal.sg_sqlstate('not_found'),
            DETAIL = 'No transfer with that id was received by this district.';
    END IF;
    RETURN QUERY SELECT * FROM samegoal.sg_transfer_verification(sg_verify_transfer.transfer_id);
END
$$;

COMMENT ON FUNCTION samegoal.sg_verify_transfer(bigint) IS
'The receiving district: each document content and file a transfer sent, its SHA-256 as sent and as held now, and whether they agree (a purged copy: held_sha256 NULL, not verified)';

GRANT EXECUTE ON FUNCTION samegoal.sg_verify_transfer(bigint) TO samegoal_app;

CREATE OR REPLACE FUNCTION samegoal.sg_acknowledge_transfer(transfer_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor samegoal.users;
    transfer samegoal.transfers;
BEGIN
    SELECT u.* INTO actor FROM samegoal.users u WHERE u.id = samegoal.sg_require_user();
    SELECT t.* INTO transfer FROM samegoal.transfers t
     WHERE t.id = sg_acknowledge_transfer.transfer_id AND t.receiving_district_id = actor.district_id
       FOR UPDATE;
    IF transfer.id IS NULL THEN
        RAISE EXCEPTION 'transfer not found' USING ERRCODE = samegoal.sg_sqlstate('not_found'),
            DETAIL = 'No transfer with that id was received by this district.';
    END IF;
    IF transfer.receiving_owner_id <> actor.id AND NOT actor.is_admin THEN
        RAISE EXCEPTION 'permission denied: only the owner of the copies or an administrator may acknowledge a transfer'
            USING ERRCODE = '42501';
    END IF;
    IF transfer.acknowledged_at IS NULL THEN
        -- As an X12 131 acknowledgement echoes what arrived: how much of what
        -- was sent the district holds as sent, now.
        UPDATE samegoal.transfers t
           SET acknowledged_at = clock_timestamp(), acknowledged_by = actor.id,
               (acknowledged_verified, acknowledged_total) =
                   (SELECT count(*) FILTER (WHERE v.verified), count(*)
                      FROM samegoal.sg_transfer_verification(transfer.id) v)
         WHERE t.id = transfer.id;
    END IF;
END
$$;

COMMENT ON FUNCTION samegoal.sg_acknowledge_transfer(bigint) IS
'The owner of the copies or an admin of the receiving district: mark a received transfer as reviewed (once), recording how many of its contents and files were held as sent (sg_verify_transfer)';

CREATE OR REPLACE FUNCTION samegoal.sg_state_summary()
RETURNS TABLE (state text, districts bigint, students bigint, documents bigint,
               file_bytes bigint, transfers bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT d.state,
       count(*),
       sum((SELECT count(*) FROM samegoal.students s WHERE s.district_id = d.id))::bigint,
       sum((SELECT count(*) FROM samegoal.documents o WHERE o.district_id = d.id))::bigint,
       sum((SELECT coalesce(sum(c.byte_size), 0) FROM samegoal.files f
              JOIN samegoal.file_contents c ON c.id = f.content_id
             WHERE f.district_id = d.id))::bigint,
       sum((SELECT count(*) FROM samegoal.transfers t WHERE t.sending_district_id = d.id))::bigint
  FROM samegoal.districts d
 WHERE NOT EXISTS (SELECT FROM samegoal.node_states n
                    WHERE n.state = d.state AND n.status <> 'serving')
 GROUP BY d.state
 ORDER BY d.state
$$;


-- The inbox: requests with their due dates, held arrivals with the sending
-- student as sent ------------------------------------------------------------

CREATE OR REPLACE VIEW samegoal.transfer_inbox WITH (security_invoker = true, security_barrier = true) AS
SELECT 'request'::text AS kind,
       r.id,
       r.requested_at AS at,
       r.requesting_district_domain AS from_district_domain,
       r.requesting_district_name AS from_district_name,
       r.requested_by_name AS from_user_name,
       r.requested_by_email AS from_user_email,
       r.student_first_name,
       r.student_last_name,
       r.student_birth_date,
       NULL::text AS receiving_sis_student_id,
       NULL::integer AS document_count,
       r.note,
       r.expires_at,
       NULL::text AS sent_first_name,
       NULL::text AS sent_last_name,
       NULL::date AS sent_birth_date,
       r.due_on,
       samegoal.sg_request_overdue(r) AS overdue
  FROM samegoal.transfer_requests r
 WHERE r.sending_district_id = samegoal.sg_current_district_id()
   AND r.status = 'pending' AND r.expires_at > (SELECT clock_timestamp())
UNION ALL
SELECT 'transfer'::text,
       t.id,
       t.initiated_at,
       t.sending_district_domain,
       t.sending_district_name,
       t.initiated_by_name,
       t.initiated_by_email,
       s.first_name,
       s.last_name,
       s.birth_date,
       s.sis_student_id,
       t.document_count,
       NULL::text,
       NULL::timestamptz,
       NULL::text,
       NULL::text,
       NULL::date,
       NULL::date,
       NULL::boolean
  FROM samegoal.transfers t
  JOIN samegoal.students s ON s.district_id = t.receiving_district_id AND s.id = t.receiving_student_id
 WHERE t.receiving_district_id = samegoal.sg_current_district_id()
   AND t.acknowledged_at IS NULL
   AND NOT EXISTS (SELECT FROM samegoal.transfer_arrivals a
                    WHERE a.receiving_district_id = t.receiving_district_id AND a.transfer_id = t.id AND a.held)
UNION ALL
SELECT 'held'::text,
       t.id,
       t.initiated_at,
       t.sending_district_domain,
       t.sending_district_name,
       t.initiated_by_name,
       t.initiated_by_email,
       s.first_name,
       s.last_name,
       s.birth_date,
       s.sis_student_id,
       t.document_count,
       NULL::text,
       NULL::timestamptz,
       a.sent_first_name,
       a.sent_last_name,
       a.sent_birth_date,
       NULL::date,
       NULL::boolean
  FROM samegoal.transfers t
  JOIN samegoal.transfer_arrivals a ON a.receiving_district_id = t.receiving_district_id AND a.transfer_id = t.id
  JOIN samegoal.students s ON s.district_id = t.receiving_district_id AND s.id = t.receiving_student_id
 WHERE t.receiving_district_id = samegoal.sg_current_district_id()
   AND a.held AND t.attached_student_id IS NULL AND t.returned_at IS NULL
 ORDER BY at DESC, kind, id DESC;

COMMENT ON VIEW samegoal.transfer_inbox IS
'For the acting district, newest first: pending requests addressed to it, received transfers not yet acknowledged, and held arrivals awaiting a decision (with the sending student as sent)';

-- Releasing a moved state deletes its closed days and arrivals too.
CREATE OR REPLACE FUNCTION samegoal.sg_release_state(state text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids bigint[];
    words text[];
    deleted bigint := 0;
    n bigint;
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied: only a superuser may release a state'
            USING ERRCODE = '42501';
    END IF;
    IF state IS NULL THEN
        RAISE EXCEPTION 'state must not be NULL' USING ERRCODE = '22023';
    END IF;
    PERFORM FROM samegoal.node_states s
     WHERE s.state = sg_release_state.state AND s.status = 'moved_out'
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'state % is not marked moved_out on this node', sg_release_state.state
            USING ERRCODE = samegoal.sg_sqlstate('served_elsewhere'),
                  HINT = 'Mark it with UPDATE samegoal.node_states SET status = ''moved_out'' once another node serves it and replication to that node has stopped.';
    END IF;

    -- Districts first, FOR UPDATE: no setting or directory change interleaves.
    ids := ARRAY(SELECT d.id FROM samegoal.districts d
                  WHERE d.state = sg_release_state.state ORDER BY d.id FOR UPDATE);
    words := ARRAY(SELECT DISTINCT w.word FROM samegoal.district_words w
                    WHERE w.state = sg_release_state.state);

    -- The files' content goes with them (files_free_deleted): every file that
    -- refers to it is of this state.
    deleted := deleted + (SELECT count(*) FROM samegoal.file_contents c WHERE c.district_id = ANY (ids));
    DELETE FROM samegoal.files f WHERE f.district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    deleted := deleted - (SELECT count(*) FROM samegoal.file_contents c WHERE c.district_id = ANY (ids));
    DELETE FROM samegoal.purged_documents p WHERE p.district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    -- Copies received from the same state: their transfer_documents rows get
    -- received_document_id NULL (ON DELETE SET NULL), which the record allows.
    DELETE FROM samegoal.documents d WHERE d.district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    DELETE FROM samegoal.transfer_arrivals a WHERE a.receiving_district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;

    ALTER TABLE samegoal.transfer_requests DISABLE TRIGGER transfer_requests_kept;
    ALTER TABLE samegoal.transfer_documents DISABLE TRIGGER transfer_documents_kept;
    ALTER TABLE samegoal.transfer_files DISABLE TRIGGER transfer_files_kept;
    ALTER TABLE samegoal.transfers DISABLE TRIGGER transfers_kept;
    DELETE FROM samegoal.transfer_requests r
     WHERE r.requesting_district_id = ANY (ids) OR r.sending_district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    DELETE FROM samegoal.transfer_files t
     WHERE t.sending_district_id = ANY (ids) OR t.receiving_district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    DELETE FROM samegoal.transfer_documents t
     WHERE t.sending_district_id = ANY (ids) OR t.receiving_district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    DELETE FROM samegoal.transfers t
     WHERE t.sending_district_id = ANY (ids) OR t.receiving_district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_kept;
    ALTER TABLE samegoal.transfer_documents ENABLE ALWAYS TRIGGER transfer_documents_kept;
    ALTER TABLE samegoal.transfer_requests ENABLE ALWAYS TRIGGER transfer_requests_kept;
    ALTER TABLE samegoal.transfer_files ENABLE ALWAYS TRIGGER transfer_files_kept;

    DELETE FROM samegoal.district_closed_days c WHERE c.district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    DELETE FROM samegoal.students s WHERE s.district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    DELETE FROM samegoal.users u WHERE u.district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    -- The directory's words and label trigrams go with their districts (ON
    -- DELETE CASCADE); the vocabulary keeps only words another district holds.
    DELETE FROM samegoal.districts d WHERE d.id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    DELETE FROM samegoal.directory_words v
     WHERE v.word = ANY (words)
       AND NOT EXISTS (SELECT FROM samegoal.district_words w WHERE w.word = v.word);
    RETURN deleted;
END
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal FROM PUBLIC;
GRANT EXECUTE ON FUNCTION samegoal.sg_overdue_requests() TO samegoal_reporting;
