-- Version 1.3: requests on the clock. IDEA (34 CFR 300.323(g)) wants records
-- obtained and sent promptly; states set the days. Each request gets its due
-- date when it is made (transfer_requests.due_on), from the rule of the state
-- and the sending district's closed days; the district asked may give a
-- notice of delay; a pending request past its date is overdue. Everything is
-- a comparison with the clock: no background worker.
--
-- Counting: the day a request is made is day 0; calendar days count every day
-- after it; working days skip Saturdays, Sundays and the days the sending
-- district recorded as closed. A request made on a Friday evening (or a
-- Saturday) is due, under a working-day rule, counting from Monday: the
-- request's day never counts, and no weekend day does. Dates are taken in the
-- database's time zone (ALTER DATABASE ... SET TimeZone; otherwise the
-- session's), so that a client's setting does not move them when the database
-- has one.

-- The date of a moment, and the one rule of lateness, which the inbox shows.

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
