\echo Use "ALTER EXTENSION samegoal_transfer UPDATE TO '1.1'" to load this file. \quit
-- samegoal_transfer 1.0 -> 1.1, written by hand: it must end in exactly the
-- catalog that samegoal_transfer--1.1.sql installs (test/checks/upgrade.sh).

-- Built-in names resolve in pg_catalog alone, as in the install script: an
-- operator or function that another role created in public is never run by the
-- superuser who updates. ALTER EXTENSION restores search_path after.
SET LOCAL search_path = pg_catalog, pg_temp;

-- A schema samegoal that a role other than a superuser owns (created before the
-- extension was installed) lets that role swap what the SECURITY DEFINER
-- functions call: the update refuses to go on until a superuser owns it.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_namespace n
                 JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
                WHERE n.nspname = 'samegoal' AND NOT r.rolsuper) THEN
        RAISE EXCEPTION 'schema "samegoal" is owned by a role that is not a superuser'
            USING ERRCODE = '42501',
                  HINT = 'Drop the schema, or make a superuser its owner (ALTER SCHEMA samegoal OWNER TO ...), before installing the extension.';
    END IF;
END
$$;

-- One implementation of each check -------------------------------------------

-- The checks every function starts with, and the id arrays they take, for the
-- functions written in PL/pgSQL: the same C code the C functions run, so that
-- a rule and its message exist once (src/identity.c). They switch user and
-- search_path for their lookup, hence PARALLEL UNSAFE.
CREATE OR REPLACE FUNCTION samegoal.sg_require_admin()
RETURNS bigint
LANGUAGE C STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_require_admin';

COMMENT ON FUNCTION samegoal.sg_require_admin() IS
'Internal: the acting user''s id if that user is an active administrator, else error 42501';

CREATE FUNCTION samegoal.sg_require_user()
RETURNS bigint
LANGUAGE C STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_require_user';

COMMENT ON FUNCTION samegoal.sg_require_user() IS
'Internal: the acting user''s id if that user is active, else error 42501';

-- Not STRICT: a NULL array is an error (22023), not a NULL result.
CREATE FUNCTION samegoal.sg_distinct_ids(document_ids bigint[])
RETURNS bigint[]
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_distinct_ids';

COMMENT ON FUNCTION samegoal.sg_distinct_ids(bigint[]) IS
'Internal: the ids sorted, each once; 22023 when the array is NULL, empty or holds a NULL';

-- The wrong-student guard -----------------------------------------------------

-- A fifth argument: the 1.0 declaration goes, calls with four arguments keep
-- working through the default.
DROP FUNCTION samegoal.sg_transfer_documents(bigint[], text, text, text);
CREATE FUNCTION samegoal.sg_transfer_documents(
    document_ids bigint[],
    receiving_domain text,
    receiving_sis_student_id text,
    receiving_owner text,
    allow_mismatch boolean DEFAULT false)
RETURNS TABLE (transfer_id bigint, source_document_id bigint,
               received_document_id bigint, copied boolean)
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
AS 'MODULE_PATHNAME', 'sg_transfer_documents';

COMMENT ON FUNCTION samegoal.sg_transfer_documents(bigint[], text, text, text, boolean) IS
'Copy documents of one student of the acting admin''s district, with their files, to the student with that SIS Student ID in the district with that domain, owned there by the active user with that username or email; one row per distinct document: the transfer, the original, the copy, and whether it was copied now (false: the student already holds a live copy); unless allow_mismatch, the receiving student must match the sending student by birth date and last or first name (SG012)';

GRANT EXECUTE ON FUNCTION samegoal.sg_transfer_documents(bigint[], text, text, text, boolean) TO samegoal_app;

-- Installation, restores and replicas -----------------------------------------

-- Transfers made now are held to the setting rules; restored history is not.
ALTER TABLE samegoal.transfers ALTER COLUMN initiated_at SET DEFAULT clock_timestamp();
COMMENT ON COLUMN samegoal.transfers.initiated_at IS 'When the transfer was written; the setting rules apply to rows written with a time not earlier than their transaction''s start';

CREATE OR REPLACE FUNCTION samegoal.sg_transfers_check_settings()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    district record;
    sending_state text;
    sending_enabled boolean;
    receiving_state text;
    receiving_enabled boolean;
BEGIN
    IF NEW.initiated_at < transaction_timestamp() THEN
        RETURN NEW;
    END IF;
    FOR district IN
        SELECT d.id, d.state, d.transfers_enabled
          FROM samegoal.districts d
         WHERE d.id IN (NEW.sending_district_id, NEW.receiving_district_id)
         ORDER BY d.id
           FOR SHARE
    LOOP
        IF district.id = NEW.sending_district_id THEN
            sending_state := district.state;
            sending_enabled := district.transfers_enabled;
        END IF;
        IF district.id = NEW.receiving_district_id THEN
            receiving_state := district.state;
            receiving_enabled := district.transfers_enabled;
        END IF;
    END LOOP;
    -- A missing district is left to the foreign keys.
    IF sending_state IS NULL OR receiving_state IS NULL THEN
        RETURN NEW;
    END IF;

    IF NOT sending_enabled THEN
        RAISE EXCEPTION 'district-to-district transfer is disabled in the sending district'
            USING ERRCODE = 'SG001';
    END IF;
    IF NEW.sending_district_id = NEW.receiving_district_id THEN
        RAISE EXCEPTION 'cannot transfer documents to the sending district itself'
            USING ERRCODE = 'SG009';
    END IF;
    IF sending_state <> receiving_state THEN
        RAISE EXCEPTION 'the receiving district is in another state'
            USING ERRCODE = 'SG010',
                  DETAIL = 'Documents can only be transferred between districts of the same state.';
    END IF;
    IF NOT receiving_enabled THEN
        RAISE EXCEPTION 'district-to-district transfer is disabled in the receiving district'
            USING ERRCODE = 'SG002';
    END IF;
    RETURN NEW;
END
$$;

-- The rules and the record are kept in every session_replication_role.
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_settings;
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_kept;
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_kept_truncate;
ALTER TABLE samegoal.transfer_documents ENABLE ALWAYS TRIGGER transfer_documents_kept;
ALTER TABLE samegoal.transfer_documents ENABLE ALWAYS TRIGGER transfer_documents_kept_truncate;

-- No row of tenant data moves to another district.
CREATE FUNCTION samegoal.sg_refuse_district_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'a row of % cannot move to another district', TG_TABLE_NAME
        USING ERRCODE = '42501';
END
$$;

COMMENT ON FUNCTION samegoal.sg_refuse_district_change() IS
'Trigger: refuses an UPDATE that changes the district of a row';

CREATE TRIGGER users_district_kept
    BEFORE UPDATE OF district_id ON samegoal.users
    FOR EACH ROW WHEN (NEW.district_id IS DISTINCT FROM OLD.district_id)
    EXECUTE FUNCTION samegoal.sg_refuse_district_change();
ALTER TABLE samegoal.users ENABLE ALWAYS TRIGGER users_district_kept;
CREATE TRIGGER students_district_kept
    BEFORE UPDATE OF district_id ON samegoal.students
    FOR EACH ROW WHEN (NEW.district_id IS DISTINCT FROM OLD.district_id)
    EXECUTE FUNCTION samegoal.sg_refuse_district_change();
ALTER TABLE samegoal.students ENABLE ALWAYS TRIGGER students_district_kept;
CREATE TRIGGER documents_district_kept
    BEFORE UPDATE OF district_id ON samegoal.documents
    FOR EACH ROW WHEN (NEW.district_id IS DISTINCT FROM OLD.district_id)
    EXECUTE FUNCTION samegoal.sg_refuse_district_change();
ALTER TABLE samegoal.documents ENABLE ALWAYS TRIGGER documents_district_kept;
CREATE TRIGGER document_files_district_kept
    BEFORE UPDATE OF district_id ON samegoal.document_files
    FOR EACH ROW WHEN (NEW.district_id IS DISTINCT FROM OLD.district_id)
    EXECUTE FUNCTION samegoal.sg_refuse_district_change();
ALTER TABLE samegoal.document_files ENABLE ALWAYS TRIGGER document_files_district_kept;
CREATE TRIGGER purged_documents_district_kept
    BEFORE UPDATE OF district_id ON samegoal.purged_documents
    FOR EACH ROW WHEN (NEW.district_id IS DISTINCT FROM OLD.district_id)
    EXECUTE FUNCTION samegoal.sg_refuse_district_change();
ALTER TABLE samegoal.purged_documents ENABLE ALWAYS TRIGGER purged_documents_district_kept;

-- Coordinator contact fields: 200 characters each.
CREATE OR REPLACE FUNCTION samegoal.sg_set_transfer_coordinator(name text, email text, phone text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_name text := NULLIF(btrim(sg_set_transfer_coordinator.name, E' \t\r\n\x0B\f'), '');
    new_email text := NULLIF(btrim(sg_set_transfer_coordinator.email, E' \t\r\n\x0B\f'), '');
    new_phone text := NULLIF(btrim(sg_set_transfer_coordinator.phone, E' \t\r\n\x0B\f'), '');
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

-- The record's indexes lead with a district, so that row-level security is an
-- index condition rather than a filter that EXPLAIN ANALYZE counts.
DROP INDEX samegoal.transfer_documents_received_idx;
DROP INDEX samegoal.transfer_documents_source_idx;
CREATE INDEX transfer_documents_received_idx ON samegoal.transfer_documents (receiving_district_id, received_document_id);
CREATE INDEX transfer_documents_source_idx ON samegoal.transfer_documents (sending_district_id, source_document_id);

-- At most one live copy ------------------------------------------------------

-- Under 1.0 a repeat transfer racing the restore of an older copy could leave a
-- student two live copies of one original. The update cannot choose which one
-- the district keeps: it stops and says which to delete.
DO $$
DECLARE
    duplicate record;
BEGIN
    SELECT d.district_id, d.student_id, d.source_document_id,
           string_agg(d.id::text, ', ' ORDER BY d.id) AS copies
      INTO duplicate
      FROM samegoal.documents d
     WHERE d.source_document_id IS NOT NULL AND d.deleted_at IS NULL
     GROUP BY d.district_id, d.student_id, d.source_document_id
    HAVING count(*) > 1
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'student % of district % holds more than one live copy of document %',
                        duplicate.student_id, duplicate.district_id, duplicate.source_document_id
            USING ERRCODE = '23505',
                  DETAIL = format('The live copies are documents %s.', duplicate.copies),
                  HINT = 'Delete all but one of them with samegoal.sg_delete_documents(), acting as an administrator of that district, then update again.';
    END IF;
END
$$;

DROP INDEX samegoal.documents_source_idx;
-- A student holds at most one live copy of any original, whoever writes: a
-- repeat transfer finds the live copy here and does not copy again, and the
-- restore of an older copy while another is live fails (SG013).
CREATE UNIQUE INDEX documents_one_live_copy ON samegoal.documents (district_id, student_id, source_document_id)
    WHERE source_document_id IS NOT NULL AND deleted_at IS NULL;

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
             WHERE d.id = ANY (wanted) AND d.district_id = actor.district_id
             ORDER BY d.id
               FOR UPDATE) l;
    IF locked_count < cardinality(wanted) THEN
        RAISE EXCEPTION 'document not found' USING ERRCODE = 'SG006',
            DETAIL = 'No document with that id exists in this district.';
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
         WHERE d.id = ANY (wanted) AND d.district_id = actor.district_id
           AND (d.deleted_at IS NULL) = deleting;
        GET DIAGNOSTICS changed = ROW_COUNT;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
        IF violated <> 'documents_one_live_copy' THEN
            RAISE;
        END IF;
        RAISE EXCEPTION 'the student already holds a live copy of that original'
            USING ERRCODE = 'SG013',
                  DETAIL = 'A received copy cannot be restored while another copy of the same original is live on the same student.',
                  HINT = 'Delete the other copy first, or keep it.';
    END;
    RETURN changed;
END
$$;

-- The disclosure record names the parties ------------------------------------

ALTER TABLE samegoal.transfers
    ADD COLUMN sending_district_domain text,
    ADD COLUMN sending_district_name text,
    ADD COLUMN receiving_district_domain text,
    ADD COLUMN receiving_district_name text,
    ADD COLUMN initiated_by_name text,
    ADD COLUMN initiated_by_email text,
    ADD COLUMN request_id bigint,
    ADD COLUMN acknowledged_at timestamptz,
    ADD COLUMN acknowledged_by bigint;
COMMENT ON COLUMN samegoal.transfers.sending_district_domain IS 'The sending district''s domain when the transfer was made, so that the receiver knows who sent it';
COMMENT ON COLUMN samegoal.transfers.sending_district_name IS 'The sending district''s name when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.receiving_district_domain IS 'The receiving district''s domain when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.receiving_district_name IS 'The receiving district''s name when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.initiated_by_name IS 'The sending admin''s full name when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.initiated_by_email IS 'The sending admin''s email when the transfer was made: how the receiver reaches the sender';
COMMENT ON COLUMN samegoal.transfers.request_id IS 'The transfer request this transfer fulfilled, if any';
COMMENT ON COLUMN samegoal.transfers.acknowledged_at IS 'When a user of the receiving district marked the transfer as reviewed (sg_acknowledge_transfer); NULL until then';
COMMENT ON COLUMN samegoal.transfers.acknowledged_by IS 'The receiving district''s user who acknowledged the transfer';

-- Transfers made under 1.0 get the parties as they are now. The record is
-- otherwise never changed: its trigger is off for this one statement.
ALTER TABLE samegoal.transfers DISABLE TRIGGER transfers_kept;
UPDATE samegoal.transfers t
   SET sending_district_domain = s.domain, sending_district_name = s.name,
       receiving_district_domain = r.domain, receiving_district_name = r.name,
       initiated_by_name = u.full_name, initiated_by_email = u.email
  FROM samegoal.districts s, samegoal.districts r, samegoal.users u
 WHERE s.id = t.sending_district_id AND r.id = t.receiving_district_id AND u.id = t.initiated_by;
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_kept;
ALTER TABLE samegoal.transfers
    ALTER COLUMN sending_district_domain SET NOT NULL,
    ALTER COLUMN sending_district_name SET NOT NULL,
    ALTER COLUMN receiving_district_domain SET NOT NULL,
    ALTER COLUMN receiving_district_name SET NOT NULL,
    ADD FOREIGN KEY (receiving_district_id, acknowledged_by) REFERENCES samegoal.users (district_id, id),
    ADD CONSTRAINT transfers_acknowledged_check CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL));

-- The record names both parties as they were when the transfer was made: the
-- receiving district sees no other row of the sending district, and learns from
-- these who sent its documents and how to reach them. A row that brings them
-- (a restore) keeps its own; one written without them (sg_transfer_documents, or
-- a restore of a dump made before version 1.1) gets them from the current rows.
CREATE FUNCTION samegoal.sg_transfers_fill_parties()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.sending_district_domain IS NULL OR NEW.sending_district_name IS NULL THEN
        SELECT d.domain, d.name INTO NEW.sending_district_domain, NEW.sending_district_name
          FROM samegoal.districts d WHERE d.id = NEW.sending_district_id;
    END IF;
    IF NEW.receiving_district_domain IS NULL OR NEW.receiving_district_name IS NULL THEN
        SELECT d.domain, d.name INTO NEW.receiving_district_domain, NEW.receiving_district_name
          FROM samegoal.districts d WHERE d.id = NEW.receiving_district_id;
    END IF;
    IF NEW.initiated_by_name IS NULL AND NEW.initiated_by_email IS NULL THEN
        SELECT u.full_name, u.email INTO NEW.initiated_by_name, NEW.initiated_by_email
          FROM samegoal.users u WHERE u.id = NEW.initiated_by AND u.district_id = NEW.sending_district_id;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION samegoal.sg_transfers_fill_parties() IS
'Trigger: names the districts and the sending admin on a new transfers row, as they are now, where the row does not bring them';

CREATE TRIGGER transfers_parties
    BEFORE INSERT ON samegoal.transfers
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfers_fill_parties();
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_parties;

CREATE OR REPLACE FUNCTION samegoal.sg_transfer_record_kept()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The receiving district acknowledges a transfer once.
    IF TG_TABLE_NAME = 'transfers' AND TG_OP = 'UPDATE' THEN
        IF OLD.acknowledged_at IS NULL AND NEW.acknowledged_at IS NOT NULL
           AND to_jsonb(NEW) - '{acknowledged_at, acknowledged_by}'::text[]
             = to_jsonb(OLD) - '{acknowledged_at, acknowledged_by}'::text[]
        THEN
            RETURN NEW;
        END IF;
    END IF;
    IF TG_TABLE_NAME = 'transfer_documents' AND TG_OP = 'UPDATE' THEN
        IF NEW.received_document_id IS NULL
           AND (NEW.transfer_id, NEW.sending_district_id, NEW.receiving_district_id,
                NEW.source_document_id)
               IS NOT DISTINCT FROM
               (OLD.transfer_id, OLD.sending_district_id, OLD.receiving_district_id,
                OLD.source_document_id)
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the transfer record cannot be changed or deleted'
        USING ERRCODE = '42501',
              DETAIL = 'Both districts keep the record of what was disclosed; only the link to a purged copy is cleared and the receiver''s acknowledgement set.';
END
$$;

COMMENT ON FUNCTION samegoal.sg_transfer_record_kept() IS
'Trigger: refuses UPDATE, DELETE and TRUNCATE of transfers and transfer_documents rows, except clearing transfer_documents.received_document_id when a copy is purged and setting a transfer''s acknowledgement once';

-- Transfer requests and the inbox (as in the install script) -----------------

-- Transfer requests: the receiving district asks another district of its state
-- for a student's documents, naming its own student and the owner of the
-- copies; the sending district fulfils the request with a transfer
-- (src/requests.c, through the transfer engine) or declines it. A request
-- expires 30 days after it is made: expiry is a comparison with now(), so no
-- background worker is needed. The inbox view lists what needs someone's
-- attention in the acting district.

CREATE TABLE samegoal.transfer_requests (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requesting_district_id      bigint NOT NULL REFERENCES samegoal.districts (id),
    sending_district_id         bigint NOT NULL REFERENCES samegoal.districts (id),
    receiving_student_id        bigint NOT NULL,
    receiving_owner_id          bigint NOT NULL,
    requested_by                bigint NOT NULL,
    requested_at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    requesting_district_domain  text NOT NULL,
    requesting_district_name    text NOT NULL,
    requested_by_name           text,
    requested_by_email          text,
    student_first_name          text NOT NULL,
    student_last_name           text NOT NULL,
    student_birth_date          date,
    sending_sis_student_id      text
                                CONSTRAINT transfer_requests_sending_sis_student_id_length
                                CHECK (char_length(sending_sis_student_id) <= 20),
    note                        text
                                CONSTRAINT transfer_requests_note_length CHECK (char_length(note) <= 1000),
    status                      text NOT NULL DEFAULT 'pending'
                                CONSTRAINT transfer_requests_status_known
                                CHECK (status IN ('pending', 'fulfilled', 'declined', 'cancelled')),
    status_changed_at           timestamptz,
    status_changed_by           bigint REFERENCES samegoal.users (id),
    decline_reason              text
                                CONSTRAINT transfer_requests_decline_reason_length
                                CHECK (char_length(decline_reason) <= 1000),
    transfer_id                 bigint,
    expires_at                  timestamptz NOT NULL,
    UNIQUE (id, sending_district_id, requesting_district_id),
    FOREIGN KEY (requesting_district_id, receiving_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (requesting_district_id, receiving_owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (requesting_district_id, requested_by) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (transfer_id, sending_district_id, requesting_district_id)
        REFERENCES samegoal.transfers (id, sending_district_id, receiving_district_id),
    CONSTRAINT transfer_requests_answer_recorded
        CHECK ((status = 'pending') = (status_changed_at IS NULL)
               AND (status = 'declined') = (decline_reason IS NOT NULL)
               AND (status = 'fulfilled' OR transfer_id IS NULL))
);
-- The inbox of the district asked, and the idempotent repeat of a request.
CREATE INDEX transfer_requests_sending_idx ON samegoal.transfer_requests (sending_district_id, expires_at)
    WHERE status = 'pending';
CREATE INDEX transfer_requests_requesting_idx
    ON samegoal.transfer_requests (requesting_district_id, receiving_student_id, sending_district_id);

COMMENT ON TABLE samegoal.transfer_requests IS
'Requests of a receiving district for a student''s documents, answered by the district asked; visible to both, never deleted';
COMMENT ON COLUMN samegoal.transfer_requests.requesting_district_id IS 'The district that asks and will receive the copies';
COMMENT ON COLUMN samegoal.transfer_requests.sending_district_id IS 'The district asked for the documents';
COMMENT ON COLUMN samegoal.transfer_requests.student_first_name IS 'The requesting district''s student as it was when the request was made, so that the district asked can find its own record';
COMMENT ON COLUMN samegoal.transfer_requests.sending_sis_student_id IS 'The student''s SIS Student ID in the district asked, when the requester knows it';
COMMENT ON COLUMN samegoal.transfer_requests.note IS 'The requester''s note to the district asked, up to 1,000 characters';
COMMENT ON COLUMN samegoal.transfer_requests.status IS 'pending, fulfilled, declined or cancelled; a pending request past expires_at is expired';
COMMENT ON COLUMN samegoal.transfer_requests.transfer_id IS 'The transfer that fulfilled the request; NULL when every document was already there';
COMMENT ON COLUMN samegoal.transfer_requests.expires_at IS 'requested_at plus 30 days: after it the request can no longer be answered or cancelled';

ALTER TABLE samegoal.transfer_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_requests_either_side ON samegoal.transfer_requests FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (requesting_district_id, sending_district_id));

-- The application reads requests through the policy and writes them only through
-- the functions below.
GRANT SELECT ON samegoal.transfer_requests TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_requests', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_requests_id_seq', '');

-- Like the disclosure record, a request is never deleted, by anyone.
CREATE FUNCTION samegoal.sg_transfer_requests_kept()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'transfer requests cannot be deleted'
        USING ERRCODE = '42501',
              DETAIL = 'Both districts keep the record of what was asked and how it was answered.';
END
$$;

COMMENT ON FUNCTION samegoal.sg_transfer_requests_kept() IS
'Trigger: refuses DELETE and TRUNCATE of transfer_requests rows';

CREATE TRIGGER transfer_requests_kept
    BEFORE DELETE ON samegoal.transfer_requests
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfer_requests_kept();
CREATE TRIGGER transfer_requests_kept_truncate
    BEFORE TRUNCATE ON samegoal.transfer_requests
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_transfer_requests_kept();
ALTER TABLE samegoal.transfer_requests ENABLE ALWAYS TRIGGER transfer_requests_kept;
ALTER TABLE samegoal.transfer_requests ENABLE ALWAYS TRIGGER transfer_requests_kept_truncate;

-- A text argument that must be given, not blank, and, when max_length is not
-- NULL, at most max_length characters long (22023).
CREATE FUNCTION samegoal.sg_require_text(value text, argument_name text, max_length integer)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be NULL', argument_name USING ERRCODE = '22023';
    END IF;
    IF btrim(value, E' \t\r\n\x0B\f') = '' THEN
        RAISE EXCEPTION '% must not be blank', argument_name USING ERRCODE = '22023';
    END IF;
    IF max_length IS NOT NULL AND char_length(value) > max_length THEN
        RAISE EXCEPTION '% must be at most % characters long', argument_name, max_length USING ERRCODE = '22023';
    END IF;
    RETURN value;
END
$$;

COMMENT ON FUNCTION samegoal.sg_require_text(text, text, integer) IS
'Internal: the value, or 22023 when it is NULL, blank or longer than max_length (when given)';

-- The request the acting district may answer (the district asked, answering
-- = true) or withdraw (the requesting district), locked FOR UPDATE so that
-- answers take turns: SG011 unless it is pending and unexpired. Missing,
-- another district's, expired and answered requests are one error.
CREATE FUNCTION samegoal.sg_lock_open_request(request_id bigint, answering boolean)
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
    IF request.id IS NULL OR request.status <> 'pending' OR request.expires_at <= now() THEN
        RAISE EXCEPTION 'no open transfer request with that id'
            USING ERRCODE = 'SG011',
                  DETAIL = CASE WHEN answering
                                THEN 'The request does not exist, was not addressed to this district, has expired, or was already answered or cancelled.'
                                ELSE 'The request does not exist, was not made by this district, has expired, or was already answered or cancelled.' END;
    END IF;
    RETURN request;
END
$$;

COMMENT ON FUNCTION samegoal.sg_lock_open_request(bigint, boolean) IS
'Internal: lock the pending, unexpired request of the acting district (the district asked when answering, else the requester), or SG011';

CREATE FUNCTION samegoal.sg_request_transfer(
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
       AND r.receiving_student_id = student.id AND r.status = 'pending' AND r.expires_at > now()
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

    PERFORM pg_notify('samegoal_transfer_request',
                      json_build_object('request_id', new_id, 'requesting_district_id', requester.id,
                                        'sending_district_id', asked.id)::text);
    RETURN new_id;
END
$$;

COMMENT ON FUNCTION samegoal.sg_request_transfer(text, text, text, text, text) IS
'Admins: ask the district with that domain for the documents of this district''s student with that SIS Student ID, to be owned here by that user; returns the request id (the pending request''s, when one is open already)';

CREATE FUNCTION samegoal.sg_fulfill_transfer_request(
    request_id bigint,
    document_ids bigint[],
    allow_mismatch boolean DEFAULT false)
RETURNS TABLE (transfer_id bigint, source_document_id bigint,
               received_document_id bigint, copied boolean)
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
AS 'MODULE_PATHNAME', 'sg_fulfill_transfer_request';

COMMENT ON FUNCTION samegoal.sg_fulfill_transfer_request(bigint, bigint[], boolean) IS
'Admins of the district asked: answer a pending request with a transfer of documents of one student, exactly as sg_transfer_documents would send them to the requester''s student and owner; the request becomes fulfilled';

CREATE FUNCTION samegoal.sg_decline_transfer_request(request_id bigint, reason text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin_id bigint := samegoal.sg_require_admin();
    request samegoal.transfer_requests;
BEGIN
    PERFORM samegoal.sg_require_text(reason, 'reason', 1000);
    IF request_id IS NULL THEN
        RAISE EXCEPTION 'request_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    request := samegoal.sg_lock_open_request(request_id, true);
    UPDATE samegoal.transfer_requests r
       SET status = 'declined', status_changed_at = clock_timestamp(), status_changed_by = admin_id,
           decline_reason = btrim(reason, E' \t\r\n\x0B\f')
     WHERE r.id = request.id;
    PERFORM pg_notify('samegoal_transfer_request',
                      json_build_object('request_id', request.id, 'requesting_district_id', request.requesting_district_id,
                                        'sending_district_id', request.sending_district_id)::text);
END
$$;

COMMENT ON FUNCTION samegoal.sg_decline_transfer_request(bigint, text) IS
'Admins of the district asked: decline a pending request, with a reason the requester sees';

CREATE FUNCTION samegoal.sg_cancel_transfer_request(request_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin_id bigint := samegoal.sg_require_admin();
    request samegoal.transfer_requests;
BEGIN
    IF request_id IS NULL THEN
        RAISE EXCEPTION 'request_id must not be NULL' USING ERRCODE = '22023';
    END IF;
    request := samegoal.sg_lock_open_request(request_id, false);
    UPDATE samegoal.transfer_requests r
       SET status = 'cancelled', status_changed_at = clock_timestamp(), status_changed_by = admin_id
     WHERE r.id = request.id;
    PERFORM pg_notify('samegoal_transfer_request',
                      json_build_object('request_id', request.id, 'requesting_district_id', request.requesting_district_id,
                                        'sending_district_id', request.sending_district_id)::text);
END
$$;

COMMENT ON FUNCTION samegoal.sg_cancel_transfer_request(bigint) IS
'Admins of the requesting district: withdraw a pending request';

-- SG006 first, so that a user of a third district learns nothing of the
-- transfer; then 42501 for a user of the receiving district who neither owns the
-- copies nor is an admin.
CREATE FUNCTION samegoal.sg_acknowledge_transfer(transfer_id bigint)
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
        RAISE EXCEPTION 'transfer not found' USING ERRCODE = 'SG006',
            DETAIL = 'No transfer with that id was received by this district.';
    END IF;
    IF transfer.receiving_owner_id <> actor.id AND NOT actor.is_admin THEN
        RAISE EXCEPTION 'permission denied: only the owner of the copies or an administrator may acknowledge a transfer'
            USING ERRCODE = '42501';
    END IF;
    IF transfer.acknowledged_at IS NULL THEN
        UPDATE samegoal.transfers t
           SET acknowledged_at = clock_timestamp(), acknowledged_by = actor.id
         WHERE t.id = transfer.id;
    END IF;
END
$$;

COMMENT ON FUNCTION samegoal.sg_acknowledge_transfer(bigint) IS
'The owner of the copies or an admin of the receiving district: mark a received transfer as reviewed (once)';

-- The inbox: what needs someone's attention in the acting district, newest
-- first. security_invoker: the tables' row-level security applies to the
-- caller, so a session that is not acting sees nothing and nobody sees another
-- district's rows through the view; security_barrier: the view's own conditions
-- are applied before any function in the caller's WHERE sees a row.
CREATE VIEW samegoal.transfer_inbox WITH (security_invoker = true, security_barrier = true) AS
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
   AND r.status = 'pending' AND r.expires_at > now()
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

COMMENT ON VIEW samegoal.transfer_inbox IS
'For the acting district, newest first: pending requests addressed to it, and received transfers not yet acknowledged';

GRANT SELECT ON samegoal.transfer_inbox TO samegoal_app;
GRANT EXECUTE ON FUNCTION
    samegoal.sg_request_transfer(text, text, text, text, text),
    samegoal.sg_fulfill_transfer_request(bigint, bigint[], boolean),
    samegoal.sg_decline_transfer_request(bigint, text),
    samegoal.sg_cancel_transfer_request(bigint),
    samegoal.sg_acknowledge_transfer(bigint)
TO samegoal_app;

-- The directory reads a state's domain prefixes, with the names and ids that put
-- them in order, from the index alone.
DROP INDEX samegoal.districts_state_domain_idx;
CREATE INDEX districts_state_domain_idx ON samegoal.districts (state, (lower(domain) COLLATE "C"))
    INCLUDE (name, domain, id);

-- sg_act_as keeps the identities it looked up, per session, until users or
-- districts change: a statement trigger on each tells every session's cache (at
-- commit, or at once in the changing session); see src/identity_cache.c.
CREATE FUNCTION samegoal.sg_identity_changed()
RETURNS trigger
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_identity_changed';

COMMENT ON FUNCTION samegoal.sg_identity_changed() IS
'Trigger: after a statement that writes users or districts, empties every session''s cache of acting identities';

CREATE TRIGGER districts_identity_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON samegoal.districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_identity_changed();
ALTER TABLE samegoal.districts ENABLE ALWAYS TRIGGER districts_identity_changed;
CREATE TRIGGER users_identity_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON samegoal.users
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_identity_changed();
ALTER TABLE samegoal.users ENABLE ALWAYS TRIGGER users_identity_changed;

-- As at the end of the install script: no function is PUBLIC's.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal FROM PUBLIC;
