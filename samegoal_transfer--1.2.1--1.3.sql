\echo Use "ALTER EXTENSION samegoal_transfer UPDATE TO '1.3'" to load this file. \quit
-- samegoal_transfer 1.2.1 -> 1.3, written by hand: it must end in exactly the
-- catalog that samegoal_transfer--1.3.sql installs (test/checks/upgrade.sh).
-- Until 1.3 is released this script changes with src/sql.

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
       SET delay_reason = btrim(reason, E' \t\r\n\x0B\f'), delayed_until = until, delayed_at = clock_timestamp()
     WHERE r.id = request.id;
    PERFORM pg_notify('samegoal_transfer_request',
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
    district samegoal.districts;
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

    -- Both district rows FOR SHARE in id order, as a transfer locks them: a
    -- change of either setting waits for the request, or the request for it.
    SELECT d.id INTO asked_id FROM samegoal.districts d
     WHERE lower(d.domain) = lower(btrim(sending_domain, E' \t\r\n\x0B\f'));
    FOR district IN
        SELECT d.* FROM samegoal.districts d
         WHERE d.id IN (admin.district_id, asked_id) ORDER BY d.id FOR SHARE
    LOOP
        IF district.id = admin.district_id THEN requester := district; END IF;
        IF district.id = asked_id THEN asked := district; END IF;
    END LOOP;

    IF asked.id IS NULL THEN
        RAISE EXCEPTION 'no district with domain "%"', left(sending_domain, 100)
            USING ERRCODE = 'SG003',
                  HINT = 'Check the domain with the other district, or search for it with samegoal.sg_find_district().';
    END IF;
    IF asked.id = requester.id THEN
        RAISE EXCEPTION 'cannot request documents from the requesting district itself' USING ERRCODE = 'SG009';
    END IF;
    IF asked.state <> requester.state THEN
        RAISE EXCEPTION 'the other district is in another state' USING ERRCODE = 'SG010',
            DETAIL = 'Documents can only be transferred between districts of the same state.';
    END IF;
    IF NOT requester.transfers_enabled THEN
        RAISE EXCEPTION 'district-to-district transfer is disabled in the requesting district' USING ERRCODE = 'SG002',
            HINT = 'An administrator of this district can enable it with samegoal.sg_set_transfers_enabled(true).';
    END IF;
    IF NOT asked.transfers_enabled THEN
        RAISE EXCEPTION 'district-to-district transfer is disabled in the other district' USING ERRCODE = 'SG001';
    END IF;

    -- The student FOR NO KEY UPDATE: two requests for one student take turns, and
    -- the second finds the first.
    SELECT s.* INTO student FROM samegoal.students s
     WHERE s.district_id = requester.id AND s.sis_student_id = receiving_sis_student_id
       FOR NO KEY UPDATE;
    IF student.id IS NULL THEN
        RAISE EXCEPTION 'no student with SIS Student ID "%" in this district', left(receiving_sis_student_id, 100)
            USING ERRCODE = 'SG004', HINT = 'Add the student first.';
    END IF;
    SELECT u.id INTO owner_id FROM samegoal.users u
     WHERE u.district_id = requester.id AND u.is_active
       AND (lower(u.username) = lower(receiving_owner) OR lower(u.email) = lower(receiving_owner))
     ORDER BY lower(u.username) = lower(receiving_owner) DESC
     LIMIT 1;
    IF owner_id IS NULL THEN
        RAISE EXCEPTION 'no active user with username or email "%" in this district', left(receiving_owner, 100)
            USING ERRCODE = 'SG005';
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
            NULLIF(btrim(sending_sis_student_id, E' \t\r\n\x0B\f'), ''),
            NULLIF(btrim(note, E' \t\r\n\x0B\f'), ''), made_at + interval '30 days',
            samegoal.sg_request_due_on(asked.id, made_at))
    RETURNING id INTO new_id;

    PERFORM samegoal.sg_notify_request(new_id);
    RETURN new_id;
END
$$;

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
       NULL::date,
       NULL::boolean
  FROM samegoal.transfers t
  JOIN samegoal.students s ON s.district_id = t.receiving_district_id AND s.id = t.receiving_student_id
 WHERE t.receiving_district_id = samegoal.sg_current_district_id()
   AND t.acknowledged_at IS NULL
 ORDER BY at DESC, kind, id DESC;

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

-- Releasing a moved state deletes its closed days too.
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
            USING ERRCODE = 'SG014',
                  HINT = 'Mark it with UPDATE samegoal.node_states SET status = ''moved_out'' once another node serves it and replication to that node has stopped.';
    END IF;

    -- Districts first, FOR UPDATE: no setting or directory change interleaves.
    ids := ARRAY(SELECT d.id FROM samegoal.districts d
                  WHERE d.state = sg_release_state.state ORDER BY d.id FOR UPDATE);
    words := ARRAY(SELECT DISTINCT w.word FROM samegoal.district_words w
                    WHERE w.state = sg_release_state.state);

    DELETE FROM samegoal.document_files f WHERE f.district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    DELETE FROM samegoal.purged_documents p WHERE p.district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;
    -- Copies received from the same state: their transfer_documents rows get
    -- received_document_id NULL (ON DELETE SET NULL), which the record allows.
    DELETE FROM samegoal.documents d WHERE d.district_id = ANY (ids);
    GET DIAGNOSTICS n = ROW_COUNT; deleted := deleted + n;

    ALTER TABLE samegoal.transfer_requests DISABLE TRIGGER transfer_requests_kept;
    ALTER TABLE samegoal.transfer_documents DISABLE TRIGGER transfer_documents_kept;
    ALTER TABLE samegoal.transfers DISABLE TRIGGER transfers_kept;
    DELETE FROM samegoal.transfer_requests r
     WHERE r.requesting_district_id = ANY (ids) OR r.sending_district_id = ANY (ids);
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
