\echo Use "ALTER EXTENSION samegoal_transfer UPDATE TO '1.2.1'" to load this file. \quit
-- samegoal_transfer 1.2 -> 1.2.1, written by hand: it must end in exactly the
-- catalog that samegoal_transfer--1.2.1.sql installs (test/checks/upgrade.sh).
-- Version 1.2.1 fixes 1.2: the acting identity as of the latest committed
-- state and its cache signalled only by the changes that can matter, the
-- directory and the identity cache kept under logical replication, and
-- request expiry by the clock.

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

-- The cache of acting identities (src/identity_cache.c) ------------------------

-- A cached identity's own rows are checked on every use, and the fence is read
-- on every call: districts and node_states need no signal, and users only for
-- the changes that can give a login another user, as a row trigger that fires
-- in logical replication's apply too.
DROP TRIGGER districts_identity_changed ON samegoal.districts;
DROP TRIGGER node_states_identity_changed ON samegoal.node_states;
DROP TRIGGER users_identity_changed ON samegoal.users;
CREATE TRIGGER users_identity_changed
    BEFORE INSERT OR UPDATE OF username, is_active, district_id ON samegoal.users
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_identity_changed();
ALTER TABLE samegoal.users ENABLE ALWAYS TRIGGER users_identity_changed;

COMMENT ON FUNCTION samegoal.sg_identity_changed() IS
'Trigger: a user added, reactivated or renamed empties every session''s cache of acting identities';

-- The directory under logical replication ------------------------------------

-- The statement triggers fire for ordinary sessions; a row trigger does their
-- work under session_replication_role = replica.
ALTER TABLE samegoal.districts ENABLE TRIGGER districts_index_inserted;
ALTER TABLE samegoal.districts ENABLE TRIGGER districts_index_updated;
ALTER TABLE samegoal.districts ENABLE TRIGGER districts_index_deleted;

CREATE FUNCTION samegoal.sg_index_replicated_district()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.name, NEW.domain, NEW.state) IS NOT DISTINCT FROM (OLD.name, OLD.domain, OLD.state) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM samegoal.sg_index_districts(ARRAY[OLD.id]);
        PERFORM samegoal.sg_directory_states_changed(ARRAY[OLD.state]);
    ELSE
        PERFORM samegoal.sg_index_districts(ARRAY[NEW.id]);
        PERFORM samegoal.sg_directory_states_changed(
            CASE WHEN TG_OP = 'UPDATE' THEN ARRAY[OLD.state, NEW.state] ELSE ARRAY[NEW.state] END);
    END IF;
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION samegoal.sg_index_replicated_district() FROM PUBLIC;

COMMENT ON FUNCTION samegoal.sg_index_replicated_district() IS
'Trigger: under session_replication_role = replica (logical replication, replica-mode restores), keeps the directory''s tables for each district written';

CREATE TRIGGER districts_index_replicated
    AFTER INSERT OR UPDATE OR DELETE ON samegoal.districts
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_index_replicated_district();
ALTER TABLE samegoal.districts ENABLE REPLICA TRIGGER districts_index_replicated;

-- Requests expire by the clock, not by the transaction's start ---------------

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
            USING ERRCODE = 'SG011',
                  DETAIL = CASE WHEN answering
                                THEN 'The request does not exist, was not addressed to this district, has expired, or was already answered or cancelled.'
                                ELSE 'The request does not exist, was not made by this district, has expired, or was already answered or cancelled.' END;
    END IF;
    RETURN request;
END
$$;

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
            sending_sis_student_id, note, expires_at)
    VALUES (requester.id, asked.id, student.id, owner_id,
            admin.id, made_at, requester.domain, requester.name, admin.full_name,
            admin.email, student.first_name, student.last_name, student.birth_date,
            NULLIF(btrim(sending_sis_student_id, E' \t\r\n\x0B\f'), ''),
            NULLIF(btrim(note, E' \t\r\n\x0B\f'), ''), made_at + interval '30 days')
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
       r.expires_at
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
       NULL::timestamptz
  FROM samegoal.transfers t
  JOIN samegoal.students s ON s.district_id = t.receiving_district_id AND s.id = t.receiving_student_id
 WHERE t.receiving_district_id = samegoal.sg_current_district_id()
   AND t.acknowledged_at IS NULL
 ORDER BY at DESC, kind, id DESC;
