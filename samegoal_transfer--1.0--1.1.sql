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

-- As at the end of the install script: no function is PUBLIC's.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal FROM PUBLIC;
