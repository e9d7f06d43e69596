\echo Use "CREATE EXTENSION samegoal_transfer" to load this file. \quit

-- src/sql/00_schema.sql
-- Everything below resolves built-in names in pg_catalog alone, whatever the
-- installing session's search_path holds: in many databases any role may create
-- operators and functions in public, and an operator or function there that
-- matched an argument type more exactly would run as the installing superuser.
-- The extension's own objects are always named with their schema, pg_trgm's
-- through the schema it lives in. CREATE EXTENSION restores search_path after.
SET LOCAL search_path = pg_catalog, pg_temp;

-- The install script is these files in name order, one file per feature: its
-- tables, indexes, row-level security, grants, pg_dump registration, comments
-- and functions together.
--
-- A function is written in C (src/*.c) where it needs the acting identity's
-- internals, reads across districts as the tables' owner, or keeps prepared
-- plans for a hot path; otherwise in PL/pgSQL or SQL, SECURITY DEFINER with
-- search_path pinned to pg_catalog, pg_temp. Functions named sg_require_* and
-- sg_*_internal are helpers that only other functions of the extension call.
--
-- Row-level security, on every table of tenant data: a session acting as a user
-- of district D sees and changes only D's rows; a session that is not acting sees
-- nothing. Policies read the identity through a scalar subquery, so it is
-- evaluated once per query (an InitPlan), not once per row, and the comparison
-- stays usable as an index condition on district_id.

-- CREATE EXTENSION uses a schema samegoal that already exists. One owned by
-- another role would let that role swap, later, the objects that the extension's
-- SECURITY DEFINER functions call by name: refuse it.
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

-- The application role. Roles are cluster-wide, so it survives DROP EXTENSION and
-- is only created when missing; it owns nothing and gets only the grants below.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'samegoal_app') THEN
        CREATE ROLE samegoal_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA samegoal TO samegoal_app;

-- The trigger behind every refusal that holds for superusers too (a record
-- deleted, a row moved to another district): 42501 with the trigger's first
-- argument as the message and its second, if any, as the detail.
CREATE FUNCTION samegoal.sg_refuse_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_NARGS > 1 THEN
        RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = '42501', DETAIL = TG_ARGV[1];
    END IF;
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = '42501';
END
$$;

COMMENT ON FUNCTION samegoal.sg_refuse_change() IS
'Trigger: refuses the change with 42501, its message and detail given as the trigger''s arguments';

COMMENT ON SCHEMA samegoal IS 'SameGoal special-education documents and district-to-district transfer';

-- src/sql/10_identity.sql
-- Acting identity. Held in a superuser-only setting that only sg_act_as may assign,
-- transaction-locally; see src/identity.c.

CREATE FUNCTION samegoal.sg_act_as(domain text, login text)
RETURNS bigint
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_act_as';

COMMENT ON FUNCTION samegoal.sg_act_as(text, text) IS
'Act, until the end of the current transaction, as the active SameGoal user with this username or email in the district with this domain; returns the user id';

CREATE FUNCTION samegoal.sg_current_user_id()
RETURNS bigint
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_current_user_id';

COMMENT ON FUNCTION samegoal.sg_current_user_id() IS
'The acting SameGoal user id, or NULL when the session is not acting';

CREATE FUNCTION samegoal.sg_current_district_id()
RETURNS bigint
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_current_district_id';

COMMENT ON FUNCTION samegoal.sg_current_district_id() IS
'The acting district id, or NULL when the session is not acting';

-- sg_act_as keeps the identities it looked up, per session; a row trigger on
-- users tells every session's cache of a change that can give a login another
-- user (at commit, or at once in the changing session); see src/identity_cache.c.
CREATE FUNCTION samegoal.sg_identity_changed()
RETURNS trigger
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_identity_changed';

COMMENT ON FUNCTION samegoal.sg_identity_changed() IS
'Trigger: a user added, reactivated or renamed empties every session''s cache of acting identities';

-- The checks every function starts with, and the id arrays they take, for the
-- functions written in PL/pgSQL: the same C code the C functions run, so that
-- a rule and its message exist once (src/identity.c). They switch user and
-- search_path for their lookup, hence PARALLEL UNSAFE.
CREATE FUNCTION samegoal.sg_require_admin()
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

GRANT EXECUTE ON FUNCTION
    samegoal.sg_act_as(text, text),
    samegoal.sg_current_user_id(),
    samegoal.sg_current_district_id()
TO samegoal_app;

-- src/sql/20_districts.sql
-- Districts: one row per tenant, and an admin's settings for their own district.

CREATE TABLE samegoal.districts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain              text NOT NULL
                        CONSTRAINT districts_domain_trimmed_1_to_253_characters
                        CHECK (domain = btrim(domain) AND domain <> '' AND char_length(domain) <= 253),
    name                text NOT NULL CONSTRAINT districts_name_not_blank CHECK (btrim(name) <> ''),
    city                text,
    state               text NOT NULL CONSTRAINT districts_state_two_capital_letters CHECK (state ~ '^[A-Z]{2}$'),
    transfers_enabled   boolean NOT NULL DEFAULT true,
    coordinator_name    text,
    coordinator_email   text,
    coordinator_phone   text
);
CREATE UNIQUE INDEX districts_domain_key ON samegoal.districts (lower(domain));
-- A state's districts by name and domain, as the directory orders them, with their
-- ids: read from the index alone.
CREATE INDEX districts_state_name_idx ON samegoal.districts (state, name, domain) INCLUDE (id);

COMMENT ON TABLE samegoal.districts IS 'One row per tenant: a school district using SameGoal';
COMMENT ON COLUMN samegoal.districts.domain IS 'The district''s SameGoal domain, unique regardless of case';
COMMENT ON COLUMN samegoal.districts.state IS 'Two-letter state code; transfers only go between districts of one state';
COMMENT ON COLUMN samegoal.districts.transfers_enabled IS 'District-to-District Transfer setting: false refuses sending and receiving';
COMMENT ON COLUMN samegoal.districts.coordinator_name IS 'Transfer Coordinator shown to other districts'' admins by sg_find_district; NULL when not published';

ALTER TABLE samegoal.districts ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.districts FORCE ROW LEVEL SECURITY;
CREATE POLICY districts_own ON samegoal.districts
    USING (id = (SELECT samegoal.sg_current_district_id()));

GRANT SELECT ON samegoal.districts TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.districts', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.districts_id_seq', '');

CREATE FUNCTION samegoal.sg_set_transfers_enabled(enabled boolean)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM samegoal.sg_require_admin();
    IF enabled IS NULL THEN
        RAISE EXCEPTION 'enabled must not be NULL' USING ERRCODE = '22023';
    END IF;
    UPDATE samegoal.districts
       SET transfers_enabled = enabled
     WHERE id = samegoal.sg_current_district_id();
END
$$;

COMMENT ON FUNCTION samegoal.sg_set_transfers_enabled(boolean) IS
'Switch District-to-District Transfer on or off for the acting admin''s district';

-- Every admin of the state sees these fields in the directory: 200 characters
-- each, after trimming, is plenty for a name, an address or a number.
CREATE FUNCTION samegoal.sg_set_transfer_coordinator(name text, email text, phone text)
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

COMMENT ON FUNCTION samegoal.sg_set_transfer_coordinator(text, text, text) IS
'Publish (or, with NULL, clear) the Transfer Coordinator contact of the acting admin''s district';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_set_transfers_enabled(boolean),
    samegoal.sg_set_transfer_coordinator(text, text, text)
TO samegoal_app;

-- src/sql/30_people.sql
-- Users and students of each district.
--
-- Every row of tenant data carries district_id, and every reference to a
-- student, user or document is a composite key with district_id, so the database
-- itself refuses a row that points into another district, whoever writes it. Where a
-- composite key already ties district_id to a student or document, district_id
-- has no foreign key of its own to districts: it would check the same thing again
-- for every row written.

CREATE TABLE samegoal.users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id bigint NOT NULL DEFAULT samegoal.sg_current_district_id()
                REFERENCES samegoal.districts (id),
    username    text NOT NULL CONSTRAINT users_username_not_blank CHECK (btrim(username) <> ''),
    email       text CONSTRAINT users_email_not_blank CHECK (btrim(email) <> ''),
    full_name   text,
    is_admin    boolean NOT NULL DEFAULT false,
    is_active   boolean NOT NULL DEFAULT true,
    UNIQUE (district_id, id)
);
CREATE UNIQUE INDEX users_username_key ON samegoal.users (district_id, lower(username));
CREATE UNIQUE INDEX users_email_key ON samegoal.users (district_id, lower(email));

COMMENT ON TABLE samegoal.users IS 'SameGoal users of each district; username and email are unique per district regardless of case';
COMMENT ON COLUMN samegoal.users.is_admin IS 'Administrators may transfer, purge, search the directory and change district settings';
COMMENT ON COLUMN samegoal.users.is_active IS 'Inactive users cannot act nor receive transferred documents';

ALTER TABLE samegoal.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_own ON samegoal.users
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

CREATE TABLE samegoal.students (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id     bigint NOT NULL DEFAULT samegoal.sg_current_district_id()
                    REFERENCES samegoal.districts (id),
    sis_student_id  text NOT NULL
                    CONSTRAINT students_sis_student_id_1_to_20_characters
                    CHECK (char_length(sis_student_id) BETWEEN 1 AND 20 AND btrim(sis_student_id) <> ''),
    first_name      text NOT NULL,
    last_name       text NOT NULL,
    birth_date      date,
    UNIQUE (district_id, sis_student_id),
    UNIQUE (district_id, id)
);

COMMENT ON TABLE samegoal.students IS 'Students of each district, usually synced from the district''s SIS';
COMMENT ON COLUMN samegoal.students.sis_student_id IS 'The student''s id in the district''s SIS: 1 to 20 characters, unique per district';

ALTER TABLE samegoal.students ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.students FORCE ROW LEVEL SECURITY;
CREATE POLICY students_own ON samegoal.students
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

-- The sessions' caches of acting identities (src/identity_cache.c) follow the
-- changes that can give a login another user: a new or reactivated user, or a
-- changed username. A cached identity's own rows are checked on every use, so a
-- SIS sync that updates names or emails empties no cache. A row trigger, firing
-- always, so that logical replication's apply and replica-mode restores signal
-- too.
CREATE TRIGGER users_identity_changed
    BEFORE INSERT OR UPDATE OF username, is_active, district_id ON samegoal.users
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_identity_changed();
ALTER TABLE samegoal.users ENABLE ALWAYS TRIGGER users_identity_changed;

GRANT SELECT ON samegoal.users, samegoal.students TO samegoal_app;
GRANT INSERT (district_id, username, email, full_name, is_admin, is_active),
      UPDATE (username, email, full_name, is_admin, is_active)
    ON samegoal.users TO samegoal_app;
GRANT INSERT (district_id, sis_student_id, first_name, last_name, birth_date),
      UPDATE (sis_student_id, first_name, last_name, birth_date)
    ON samegoal.students TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.users', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.users_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.students', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.students_id_seq', '');

-- src/sql/40_documents.sql
-- Documents and their files, and deleting and restoring them.

CREATE TABLE samegoal.documents (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id         bigint NOT NULL DEFAULT samegoal.sg_current_district_id(),
    student_id          bigint NOT NULL,
    owner_id            bigint NOT NULL,
    doc_type            text NOT NULL CONSTRAINT documents_doc_type_not_blank CHECK (btrim(doc_type) <> ''),
    title               text NOT NULL,
    content             jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    deleted_by          bigint,
    transfer_id         bigint,
    source_document_id  bigint,
    UNIQUE (district_id, id),
    -- lets the transfer record reference a copy together with its provenance
    UNIQUE (district_id, id, transfer_id, source_document_id),
    FOREIGN KEY (district_id, student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (district_id, owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (district_id, deleted_by) REFERENCES samegoal.users (district_id, id),
    CONSTRAINT documents_deleted_by_only_when_deleted CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL),
    CONSTRAINT documents_copy_names_transfer_and_source CHECK ((transfer_id IS NULL) = (source_document_id IS NULL))
);
CREATE INDEX documents_student_idx ON samegoal.documents (district_id, student_id);
CREATE INDEX documents_owner_idx ON samegoal.documents (district_id, owner_id);
CREATE INDEX documents_transfer_idx ON samegoal.documents (transfer_id) WHERE transfer_id IS NOT NULL;
-- A student holds at most one live copy of any original, whoever writes: a
-- repeat transfer finds the live copy here and does not copy again, and the
-- restore of an older copy while another is live fails (SG013).
CREATE UNIQUE INDEX documents_one_live_copy ON samegoal.documents (district_id, student_id, source_document_id)
    WHERE source_document_id IS NOT NULL AND deleted_at IS NULL;

COMMENT ON TABLE samegoal.documents IS 'Special-education documents (IEPs, evaluations, 504 plans), one student and one owner each';
COMMENT ON COLUMN samegoal.documents.doc_type IS 'The kind of document, as the district names it: IEP, Evaluation, 504 Plan, ...';
COMMENT ON COLUMN samegoal.documents.content IS 'The document''s structured content (goals, services, scores...), copied as is by a transfer';
COMMENT ON COLUMN samegoal.documents.deleted_at IS 'When the document was deleted (sg_delete_documents); NULL while live';
COMMENT ON COLUMN samegoal.documents.deleted_by IS 'The user who deleted the document';
COMMENT ON COLUMN samegoal.documents.transfer_id IS 'On a received copy: the transfer that delivered it';
COMMENT ON COLUMN samegoal.documents.source_document_id IS 'On a received copy: the id of the sending district''s original';

ALTER TABLE samegoal.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.documents FORCE ROW LEVEL SECURITY;
CREATE POLICY documents_own ON samegoal.documents
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

CREATE TABLE samegoal.document_files (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id     bigint NOT NULL DEFAULT samegoal.sg_current_district_id(),
    document_id     bigint NOT NULL,
    filename        text NOT NULL CONSTRAINT document_files_filename_not_blank CHECK (btrim(filename) <> ''),
    content_type    text NOT NULL DEFAULT 'application/octet-stream',
    data            bytea NOT NULL,
    FOREIGN KEY (district_id, document_id) REFERENCES samegoal.documents (district_id, id)
);
CREATE INDEX document_files_document_idx ON samegoal.document_files (district_id, document_id);

COMMENT ON TABLE samegoal.document_files IS 'Files attached to documents, stored byte for byte';

ALTER TABLE samegoal.document_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.document_files FORCE ROW LEVEL SECURITY;
CREATE POLICY document_files_own ON samegoal.document_files
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

-- The application writes documents and files of its own district, but never the
-- provenance and deletion columns: those go through the functions.
GRANT SELECT ON samegoal.documents, samegoal.document_files TO samegoal_app;
GRANT INSERT (district_id, student_id, owner_id, doc_type, title, content, created_at),
      UPDATE (student_id, owner_id, doc_type, title, content)
    ON samegoal.documents TO samegoal_app;
GRANT INSERT (district_id, document_id, filename, content_type, data),
      UPDATE (document_id, filename, content_type, data)
    ON samegoal.document_files TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.documents', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.documents_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.document_files', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.document_files_id_seq', '');

-- Delete (deleting = true) or restore documents of the acting district: lock them,
-- check that the acting user may, and change those not yet in the wanted state.
-- Missing and other-district ids are one error (SG006).
CREATE FUNCTION samegoal.sg_change_deletion(document_ids bigint[], deleting boolean)
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

COMMENT ON FUNCTION samegoal.sg_change_deletion(bigint[], boolean) IS
'Internal: delete or restore documents of the acting district that the acting user may change; returns how many changed';

CREATE FUNCTION samegoal.sg_delete_documents(document_ids bigint[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'SELECT samegoal.sg_change_deletion(document_ids, true)';

CREATE FUNCTION samegoal.sg_restore_documents(document_ids bigint[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'SELECT samegoal.sg_change_deletion(document_ids, false)';

COMMENT ON FUNCTION samegoal.sg_delete_documents(bigint[]) IS
'Delete documents of the acting district (the owner or an admin may); returns how many were live';
COMMENT ON FUNCTION samegoal.sg_restore_documents(bigint[]) IS
'Restore deleted documents of the acting district (the owner or an admin may); returns how many were deleted';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_delete_documents(bigint[]),
    samegoal.sg_restore_documents(bigint[])
TO samegoal_app;

-- src/sql/50_transfer.sql
-- District-to-District Transfer: the function (src/transfer.c) and the triggers
-- that keep every transfers row within the setting rules and the disclosure
-- record intact.

CREATE TABLE samegoal.transfers (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sending_district_id     bigint NOT NULL REFERENCES samegoal.districts (id),
    receiving_district_id   bigint NOT NULL REFERENCES samegoal.districts (id),
    sending_student_id      bigint NOT NULL,
    receiving_student_id    bigint NOT NULL,
    receiving_owner_id      bigint NOT NULL,
    initiated_by            bigint NOT NULL,
    initiated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    document_count          integer NOT NULL CONSTRAINT transfers_document_count_positive CHECK (document_count > 0),
    sending_district_domain     text NOT NULL,
    sending_district_name       text NOT NULL,
    receiving_district_domain   text NOT NULL,
    receiving_district_name     text NOT NULL,
    initiated_by_name           text,
    initiated_by_email          text,
    request_id                  bigint,
    acknowledged_at             timestamptz,
    acknowledged_by             bigint,
    UNIQUE (id, sending_district_id, receiving_district_id),
    UNIQUE (id, receiving_district_id),
    FOREIGN KEY (sending_district_id, sending_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (receiving_district_id, receiving_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (receiving_district_id, receiving_owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (sending_district_id, initiated_by) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (receiving_district_id, acknowledged_by) REFERENCES samegoal.users (district_id, id),
    CONSTRAINT transfers_acknowledged_at_and_by_together CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);
CREATE INDEX transfers_sending_idx ON samegoal.transfers (sending_district_id, sending_student_id);
CREATE INDEX transfers_receiving_idx ON samegoal.transfers (receiving_district_id, receiving_student_id);

COMMENT ON TABLE samegoal.transfers IS 'The disclosure record: one row per district-to-district transfer, visible to both districts and kept whatever the receiver does with its copies';
COMMENT ON COLUMN samegoal.transfers.initiated_at IS 'When the transfer was written; the setting rules apply to rows written with a time not earlier than their transaction''s start';
COMMENT ON COLUMN samegoal.transfers.initiated_by IS 'The sending district''s admin who made the transfer';
COMMENT ON COLUMN samegoal.transfers.document_count IS 'How many documents the transfer copied';
COMMENT ON COLUMN samegoal.transfers.sending_district_domain IS 'The sending district''s domain when the transfer was made, so that the receiver knows who sent it';
COMMENT ON COLUMN samegoal.transfers.sending_district_name IS 'The sending district''s name when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.receiving_district_domain IS 'The receiving district''s domain when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.receiving_district_name IS 'The receiving district''s name when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.initiated_by_name IS 'The sending admin''s full name when the transfer was made';
COMMENT ON COLUMN samegoal.transfers.initiated_by_email IS 'The sending admin''s email when the transfer was made: how the receiver reaches the sender';
COMMENT ON COLUMN samegoal.transfers.request_id IS 'The transfer request this transfer fulfilled, if any';
COMMENT ON COLUMN samegoal.transfers.acknowledged_at IS 'When a user of the receiving district marked the transfer as reviewed (sg_acknowledge_transfer); NULL until then';
COMMENT ON COLUMN samegoal.transfers.acknowledged_by IS 'The receiving district''s user who acknowledged the transfer';

-- received copies point back to the transfer that delivered them
ALTER TABLE samegoal.documents
    ADD FOREIGN KEY (transfer_id, district_id) REFERENCES samegoal.transfers (id, receiving_district_id);

CREATE TABLE samegoal.transfer_documents (
    transfer_id             bigint NOT NULL,
    sending_district_id     bigint NOT NULL,
    receiving_district_id   bigint NOT NULL,
    source_document_id      bigint NOT NULL,
    received_document_id    bigint,
    PRIMARY KEY (transfer_id, source_document_id),
    FOREIGN KEY (transfer_id, sending_district_id, receiving_district_id)
        REFERENCES samegoal.transfers (id, sending_district_id, receiving_district_id),
    FOREIGN KEY (receiving_district_id, received_document_id, transfer_id, source_document_id)
        REFERENCES samegoal.documents (district_id, id, transfer_id, source_document_id)
        ON DELETE SET NULL (received_document_id)
);
-- Both lead with a district, so that a lookup by document id reads only the
-- acting district's side of the record: row-level security then becomes an index
-- condition rather than a filter whose removed rows EXPLAIN ANALYZE would count.
CREATE INDEX transfer_documents_received_idx ON samegoal.transfer_documents (receiving_district_id, received_document_id);
CREATE INDEX transfer_documents_source_idx ON samegoal.transfer_documents (sending_district_id, source_document_id);

COMMENT ON TABLE samegoal.transfer_documents IS 'One row per document a transfer copied: the original and its copy';
COMMENT ON COLUMN samegoal.transfer_documents.source_document_id IS 'The sending district''s original; kept as the record of what was disclosed';
COMMENT ON COLUMN samegoal.transfer_documents.received_document_id IS 'The receiving district''s copy; NULL once that copy is purged';

ALTER TABLE samegoal.transfers ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfers FORCE ROW LEVEL SECURITY;
CREATE POLICY transfers_either_side ON samegoal.transfers FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));

ALTER TABLE samegoal.transfer_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_documents_either_side ON samegoal.transfer_documents FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));

GRANT SELECT ON samegoal.transfers, samegoal.transfer_documents TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfers', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfers_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('samegoal.transfer_documents', '');

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

-- The setting rules, for every writer of samegoal.transfers, superusers
-- included: SG001, SG009, SG010 and SG002, in the order sg_transfer_documents
-- checks them. Both district rows are locked FOR SHARE in id order, as
-- sg_transfer_documents locks them, so a change of either setting (an UPDATE
-- of the district row) waits for the transfer to end, or the transfer for it.
--
-- They apply to transfers made now. A row whose initiated_at is earlier than the
-- writing transaction's start records a transfer that was checked when it was
-- made: pg_restore, or a replica applying history, writes it whatever the
-- districts' settings have become since. The trigger fires in every
-- session_replication_role, so replica mode is no way around the rules.
CREATE FUNCTION samegoal.sg_transfers_check_settings()
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

COMMENT ON FUNCTION samegoal.sg_transfers_check_settings() IS
'Trigger: refuses a transfers row whose districts have disabled District-to-District Transfer (SG001, SG002), are one district (SG009) or are in different states (SG010)';

CREATE TRIGGER transfers_settings
    BEFORE INSERT OR UPDATE ON samegoal.transfers
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfers_check_settings();
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_settings;

-- The disclosure record stays as written: a transfers row is never changed,
-- deleted or truncated, nor a transfer_documents row, except that received_document_id
-- becomes NULL when the receiving district purges its copy.
CREATE FUNCTION samegoal.sg_transfer_record_kept()
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

-- In every session_replication_role too: replica mode deletes no record.
CREATE TRIGGER transfers_kept
    BEFORE UPDATE OR DELETE ON samegoal.transfers
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfer_record_kept();

CREATE TRIGGER transfer_documents_kept
    BEFORE UPDATE OR DELETE ON samegoal.transfer_documents
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_transfer_record_kept();

CREATE TRIGGER transfers_kept_truncate
    BEFORE TRUNCATE ON samegoal.transfers
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_transfer_record_kept();

CREATE TRIGGER transfer_documents_kept_truncate
    BEFORE TRUNCATE ON samegoal.transfer_documents
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_transfer_record_kept();

ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_kept;
ALTER TABLE samegoal.transfers ENABLE ALWAYS TRIGGER transfers_kept_truncate;
ALTER TABLE samegoal.transfer_documents ENABLE ALWAYS TRIGGER transfer_documents_kept;
ALTER TABLE samegoal.transfer_documents ENABLE ALWAYS TRIGGER transfer_documents_kept_truncate;

GRANT EXECUTE ON FUNCTION samegoal.sg_transfer_documents(bigint[], text, text, text, boolean) TO samegoal_app;

-- src/sql/55_requests.sql
-- Transfer requests: the receiving district asks another district of its state
-- for a student's documents, naming its own student and the owner of the
-- copies; the sending district fulfils the request with a transfer
-- (src/requests.c, through the transfer engine) or declines it. A request
-- expires 30 days after it is made: expiry is a comparison with the clock
-- (clock_timestamp(), not the transaction's start), so no background worker is
-- needed. The inbox view lists what needs someone's attention in the acting
-- district.

CREATE TABLE samegoal.transfer_requests (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requesting_district_id      bigint NOT NULL REFERENCES samegoal.districts (id),
    sending_district_id         bigint NOT NULL,
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
    FOREIGN KEY (sending_district_id) REFERENCES samegoal.districts (id),
    FOREIGN KEY (requesting_district_id, receiving_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (requesting_district_id, receiving_owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (requesting_district_id, requested_by) REFERENCES samegoal.users (district_id, id),
    -- transfers.request_id points back without a foreign key: a cycle of keys
    -- would leave pg_dump no order to restore the two tables in.
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
CREATE TRIGGER transfer_requests_kept
    BEFORE DELETE ON samegoal.transfer_requests
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_refuse_change(
        'transfer requests cannot be deleted',
        'Both districts keep the record of what was asked and how it was answered.');
CREATE TRIGGER transfer_requests_kept_truncate
    BEFORE TRUNCATE ON samegoal.transfer_requests
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_refuse_change(
        'transfer requests cannot be deleted',
        'Both districts keep the record of what was asked and how it was answered.');
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

COMMENT ON FUNCTION samegoal.sg_lock_open_request(bigint, boolean) IS
'Internal: lock the pending, unexpired request of the acting district (the district asked when answering, else the requester), or SG011';

-- A notification on samegoal_transfer_request after commit, for a new request
-- and for every answer: ids only, as any session may LISTEN on any channel.
CREATE FUNCTION samegoal.sg_notify_request(request_id bigint)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_notify('samegoal_transfer_request',
                 json_build_object('request_id', r.id, 'requesting_district_id', r.requesting_district_id,
                                   'sending_district_id', r.sending_district_id)::text)
  FROM samegoal.transfer_requests r
 WHERE r.id = sg_notify_request.request_id
$$;

COMMENT ON FUNCTION samegoal.sg_notify_request(bigint) IS
'Internal: notify samegoal_transfer_request of a new or answered request, with its ids';

-- Every answer to a request goes through here: fulfilled (with the transfer
-- that copied, if any), declined (with the reason) or cancelled.
CREATE FUNCTION samegoal.sg_set_request_status(request_id bigint, new_status text, changed_by bigint,
                                               reason text, transfer_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE samegoal.transfer_requests r
       SET status = new_status, status_changed_at = clock_timestamp(), status_changed_by = changed_by,
           decline_reason = reason, transfer_id = sg_set_request_status.transfer_id
     WHERE r.id = sg_set_request_status.request_id;
    PERFORM samegoal.sg_notify_request(request_id);
END
$$;

COMMENT ON FUNCTION samegoal.sg_set_request_status(bigint, text, bigint, text, bigint) IS
'Internal: record the answer to a request and notify both districts';

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

-- Decline (the district asked) or cancel (the requester): lock the open request
-- of the acting district (SG011 otherwise) and close it.
CREATE FUNCTION samegoal.sg_close_request(request_id bigint, answering boolean, reason text)
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
                                           admin_id, btrim(reason, E' \t\r\n\x0B\f'), NULL);
END
$$;

COMMENT ON FUNCTION samegoal.sg_close_request(bigint, boolean, text) IS
'Internal: decline (answering) or cancel an open request of the acting district';

CREATE FUNCTION samegoal.sg_decline_transfer_request(request_id bigint, reason text)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'SELECT samegoal.sg_close_request(request_id, true, reason)';

COMMENT ON FUNCTION samegoal.sg_decline_transfer_request(bigint, text) IS
'Admins of the district asked: decline a pending request, with a reason the requester sees';

CREATE FUNCTION samegoal.sg_cancel_transfer_request(request_id bigint)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'SELECT samegoal.sg_close_request(request_id, false, NULL)';

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

-- src/sql/60_directory.sql
-- The district directory an administrator searches when choosing the receiving
-- district; see src/directory.c.

-- Trigram indexes serve sg_find_district's substring matches of domain and name.
-- Districts change rarely, so the indexes take new entries at once (fastupdate
-- off) rather than in a pending list that every search would have to read.
-- pg_trgm is installed in whatever schema was current, so its operator class is
-- named through the schema it actually lives in.
DO $$
DECLARE
    trgm name;
BEGIN
    SELECT n.nspname INTO STRICT trgm
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    EXECUTE pg_catalog.format(
        'CREATE INDEX districts_domain_trgm_idx ON samegoal.districts USING gin (lower(domain) %I.gin_trgm_ops) WITH (fastupdate = off)',
        trgm);
    EXECUTE pg_catalog.format(
        'CREATE INDEX districts_name_trgm_idx ON samegoal.districts USING gin (lower(name) %I.gin_trgm_ops) WITH (fastupdate = off)',
        trgm);
END
$$;

-- The substring statement ANDs the trigram indexes with a state's districts, read
-- from the smallest index that holds them.
CREATE INDEX districts_state_idx ON samegoal.districts (state);

-- The first two ranks, exact domain and domain prefix, are one range of this
-- index: the domains of a state from the search on, in bytewise order, with the
-- names and ids that put them in order read from the index alone.
CREATE INDEX districts_state_domain_idx ON samegoal.districts (state, (lower(domain) COLLATE "C"))
    INCLUDE (name, domain, id);

-- The words of district names, which serve the word-prefix rank and typo
-- tolerance: sg_directory_words splits a name as sg_find_district splits a search.
CREATE FUNCTION samegoal.sg_directory_words(name text)
RETURNS text[]
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_directory_words';

COMMENT ON FUNCTION samegoal.sg_directory_words(text) IS
'The distinct words of a district name, lower-cased and sorted: runs of letters and digits';

-- Every word of every district's name, by state: a district is found by a word
-- of its name without reading the other districts of its state. Words compare
-- bytewise, so that the words starting with a prefix are one range of the index.
CREATE TABLE samegoal.district_words (
    state       text NOT NULL,
    word        text COLLATE "C" NOT NULL,
    district_id bigint NOT NULL REFERENCES samegoal.districts (id) ON DELETE CASCADE,
    PRIMARY KEY (state, word, district_id)
);
CREATE INDEX district_words_district_idx ON samegoal.district_words (district_id);

COMMENT ON TABLE samegoal.district_words IS
'Internal to sg_find_district: the words of each district''s name, kept by triggers on districts';

-- The trigrams (pg_trgm's show_trgm) of the first label of every district's
-- domain, by state: the candidates for a domain like the search are the
-- districts sharing enough of its trigrams, counted among the state's districts
-- only. A trigram index on the labels would read, for trigrams that many domains
-- share ("isd", "sd "), the entries of every state.
CREATE TABLE samegoal.district_label_trigrams (
    state       text NOT NULL,
    trigram     text COLLATE "C" NOT NULL,
    district_id bigint NOT NULL REFERENCES samegoal.districts (id) ON DELETE CASCADE,
    PRIMARY KEY (state, trigram, district_id)
);
CREATE INDEX district_label_trigrams_district_idx ON samegoal.district_label_trigrams (district_id);

COMMENT ON TABLE samegoal.district_label_trigrams IS
'Internal to sg_find_district: the trigrams of the first label of each district''s domain, kept by triggers on districts';

-- The vocabulary: every word that is or was in a district name, once, against
-- which the words of a search are corrected for typos. A word no name holds any
-- more only costs a lookup that finds no district, so words are never removed.
CREATE TABLE samegoal.directory_words (
    word text PRIMARY KEY
);

COMMENT ON TABLE samegoal.directory_words IS
'Internal to sg_find_district: the words of district names, against which search words are corrected for typos';

-- The version of each state's directory: every statement that changes which
-- districts a state holds, or their names or domains, raises it in its own
-- transaction (sg_directory_states_changed). A session keeps a large state's
-- directory in memory and uses it while the row it sees, by xmin and version, is
-- the row it read it under: a row version no other change can have.
CREATE TABLE samegoal.directory_states (
    state   text PRIMARY KEY,
    version bigint NOT NULL
);

COMMENT ON TABLE samegoal.directory_states IS
'Internal to sg_find_district: a version of each state''s directory, raised by triggers on districts';

DO $$
DECLARE
    trgm name;
BEGIN
    SELECT n.nspname INTO STRICT trgm
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    EXECUTE pg_catalog.format(
        'CREATE INDEX directory_words_trgm_idx ON samegoal.directory_words USING gin (word %I.gin_trgm_ops) WITH (fastupdate = off)',
        trgm);
END
$$;

-- These tables hold nothing but what districts hold, and nobody but their owner
-- has any privilege on them; the policies let the owner in.
ALTER TABLE samegoal.district_label_trigrams ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.district_label_trigrams FORCE ROW LEVEL SECURITY;
CREATE POLICY district_label_trigrams_owner ON samegoal.district_label_trigrams USING (true) WITH CHECK (true);
ALTER TABLE samegoal.district_words ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.district_words FORCE ROW LEVEL SECURITY;
CREATE POLICY district_words_owner ON samegoal.district_words USING (true) WITH CHECK (true);
ALTER TABLE samegoal.directory_words ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.directory_words FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_words_owner ON samegoal.directory_words USING (true) WITH CHECK (true);
ALTER TABLE samegoal.directory_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.directory_states FORCE ROW LEVEL SECURITY;
CREATE POLICY directory_states_owner ON samegoal.directory_states USING (true) WITH CHECK (true);

-- Raise the version of the given states' directories, in a fixed order, so that
-- concurrent writers of districts wait for one another rather than deadlock.
CREATE FUNCTION samegoal.sg_directory_states_changed(states text[])
RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO samegoal.directory_states AS s (state, version)
    SELECT DISTINCT c.state, 1 FROM unnest(states) AS c(state)
     WHERE c.state IS NOT NULL
     ORDER BY 1
    ON CONFLICT (state) DO UPDATE SET version = s.version + 1;
$$;

COMMENT ON FUNCTION samegoal.sg_directory_states_changed(text[]) IS
'Internal: raise the version of the given states'' directories';

-- The words and label trigrams of the given districts (all of them for NULL),
-- read again from districts: the one place that fills the directory's tables.
-- pg_trgm may have moved since installation, so its schema is looked up here.
CREATE FUNCTION samegoal.sg_index_districts(ids bigint[])
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    trgm name;
BEGIN
    DELETE FROM samegoal.district_words w WHERE ids IS NULL OR w.district_id = ANY (ids);
    INSERT INTO samegoal.district_words (state, word, district_id)
    SELECT d.state, w.word, d.id
      FROM samegoal.districts d,
           unnest(samegoal.sg_directory_words(d.name)) AS w(word)
     WHERE ids IS NULL OR d.id = ANY (ids);

    -- In a fixed order, so that concurrent writers of new words wait for one
    -- another rather than deadlock.
    INSERT INTO samegoal.directory_words (word)
    SELECT w.word
      FROM samegoal.districts d,
           unnest(samegoal.sg_directory_words(d.name)) AS w(word)
     WHERE ids IS NULL OR d.id = ANY (ids)
     GROUP BY w.word
     ORDER BY w.word COLLATE "C"
    ON CONFLICT (word) DO NOTHING;

    SELECT n.nspname INTO STRICT trgm
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    DELETE FROM samegoal.district_label_trigrams t WHERE ids IS NULL OR t.district_id = ANY (ids);
    EXECUTE format(
        'INSERT INTO samegoal.district_label_trigrams (state, trigram, district_id)
         SELECT d.state, t.trigram, d.id
           FROM samegoal.districts d,
                unnest(%I.show_trgm(split_part(lower(d.domain), ''.'', 1))) AS t(trigram)
          WHERE $1 IS NULL OR d.id = ANY ($1)',
        trgm) USING ids;
END
$$;

COMMENT ON FUNCTION samegoal.sg_index_districts(bigint[]) IS
'Internal: fill the directory''s tables of words and trigrams for the given districts (all for NULL)';

-- The triggers keep these tables, whoever writes districts (as their owner).
-- They are derived from districts, so pg_dump leaves them out and the triggers
-- fill them again as the districts are restored. Statement triggers, with
-- transition tables, do it for ordinary sessions; deleted districts take their
-- rows along through the foreign keys. Under session_replication_role =
-- replica (logical replication's apply, which fires row triggers only, and a
-- restore that uses that mode) a row trigger does it instead, below.
CREATE FUNCTION samegoal.sg_index_inserted_districts()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM samegoal.sg_index_districts(ARRAY(SELECT d.id FROM inserted_districts d));
    PERFORM samegoal.sg_directory_states_changed(ARRAY(SELECT d.state FROM inserted_districts d));
    RETURN NULL;
END
$$;

-- Only districts whose name, domain or state changed: settings changes update
-- districts too, and touch none of these.
CREATE FUNCTION samegoal.sg_index_updated_districts()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed bigint[] := ARRAY(SELECT n.id FROM updated_districts n JOIN old_districts o ON o.id = n.id
                               WHERE (n.name, n.domain, n.state) IS DISTINCT FROM (o.name, o.domain, o.state));
BEGIN
    IF cardinality(changed) > 0 THEN
        PERFORM samegoal.sg_index_districts(changed);
        PERFORM samegoal.sg_directory_states_changed(
            ARRAY(SELECT o.state FROM old_districts o WHERE o.id = ANY (changed)
                  UNION SELECT n.state FROM updated_districts n WHERE n.id = ANY (changed)));
    END IF;
    RETURN NULL;
END
$$;

-- Deleted districts take their words and trigrams along (ON DELETE CASCADE);
-- their states' versions are raised. TRUNCATE forgets every version: a session
-- uses its copy of a state's directory only while the state's row exists.
CREATE FUNCTION samegoal.sg_index_deleted_districts()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM samegoal.directory_states;
    ELSE
        PERFORM samegoal.sg_directory_states_changed(ARRAY(SELECT d.state FROM deleted_districts d));
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION samegoal.sg_index_inserted_districts() IS
'Trigger: adds the words and label trigrams of inserted districts to the directory''s tables';
COMMENT ON FUNCTION samegoal.sg_index_updated_districts() IS
'Trigger: replaces the words and label trigrams of districts whose name, domain or state changed';
COMMENT ON FUNCTION samegoal.sg_index_deleted_districts() IS
'Trigger: raises the directory version of the states of deleted districts (forgets every version on TRUNCATE)';

CREATE TRIGGER districts_index_inserted
    AFTER INSERT ON samegoal.districts
    REFERENCING NEW TABLE AS inserted_districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_inserted_districts();

CREATE TRIGGER districts_index_updated
    AFTER UPDATE ON samegoal.districts
    REFERENCING OLD TABLE AS old_districts NEW TABLE AS updated_districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_updated_districts();

CREATE TRIGGER districts_index_deleted
    AFTER DELETE ON samegoal.districts
    REFERENCING OLD TABLE AS deleted_districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_deleted_districts();

CREATE TRIGGER districts_index_truncated
    AFTER TRUNCATE ON samegoal.districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_deleted_districts();
ALTER TABLE samegoal.districts ENABLE ALWAYS TRIGGER districts_index_truncated;

-- Under session_replication_role = replica, one district at a time: a state
-- moving to this node by logical replication (src/sql/85_node.sql) arrives
-- with its directory, and a district renamed on the old node during the move
-- is found here by its new name. Foreign keys do not cascade in that mode, so
-- a deleted district's words go here too.
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

COMMENT ON FUNCTION samegoal.sg_index_replicated_district() IS
'Trigger: under session_replication_role = replica (logical replication, replica-mode restores), keeps the directory''s tables for each district written';

CREATE TRIGGER districts_index_replicated
    AFTER INSERT OR UPDATE OR DELETE ON samegoal.districts
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_index_replicated_district();
ALTER TABLE samegoal.districts ENABLE REPLICA TRIGGER districts_index_replicated;

-- Fills the directory's tables again from districts, for when the triggers were
-- bypassed: a data-only pg_restore with --disable-triggers, or districts written
-- while their triggers were disabled. Superusers only.
CREATE FUNCTION samegoal.sg_rebuild_directory()
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Districts written meanwhile would be missed.
    LOCK TABLE samegoal.districts IN SHARE MODE;
    PERFORM samegoal.sg_index_districts(NULL);
    DELETE FROM samegoal.directory_states;
    PERFORM samegoal.sg_directory_states_changed(ARRAY(SELECT d.state FROM samegoal.districts d));
END
$$;

COMMENT ON FUNCTION samegoal.sg_rebuild_directory() IS
'Superusers: fill the directory''s tables of words and trigrams again from districts, after their triggers were bypassed';

CREATE FUNCTION samegoal.sg_find_district(search text, max_results integer DEFAULT 20)
RETURNS TABLE (domain text, name text, city text, state text, accepts_transfers boolean,
               coordinator_name text, coordinator_email text, coordinator_phone text)
LANGUAGE C STABLE PARALLEL UNSAFE ROWS 20
AS 'MODULE_PATHNAME', 'sg_find_district';

COMMENT ON FUNCTION samegoal.sg_find_district(text, integer) IS
'Admins only: districts of the acting district''s state (not itself) whose domain or name matches search, ranked exact domain, domain prefix, name or word prefix, substring, similarity (every word of the search like a word of the name, or a domain''s first label like the search''s), then by name; blank search lists by name; max_results 1 to 1000';

GRANT EXECUTE ON FUNCTION samegoal.sg_find_district(text, integer) TO samegoal_app;

-- src/sql/70_purge.sql
-- Purging deleted documents of the acting district for good.

CREATE TABLE samegoal.purged_documents (
    document_id     bigint PRIMARY KEY,
    district_id     bigint NOT NULL,
    student_id      bigint NOT NULL,
    doc_type        text NOT NULL,
    purged_by       bigint,
    purged_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (district_id, student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (district_id, purged_by) REFERENCES samegoal.users (district_id, id)
);
CREATE INDEX purged_documents_district_idx ON samegoal.purged_documents (district_id, student_id);

COMMENT ON TABLE samegoal.purged_documents IS 'Tombstones of purged documents: which document of which student was purged, by whom and when; no title, content or file';

ALTER TABLE samegoal.purged_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.purged_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY purged_documents_own ON samegoal.purged_documents FOR SELECT
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

GRANT SELECT ON samegoal.purged_documents TO samegoal_app;
SELECT pg_catalog.pg_extension_config_dump('samegoal.purged_documents', '');

CREATE FUNCTION samegoal.sg_purge_documents(document_ids bigint[])
RETURNS integer
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'sg_purge_documents';

COMMENT ON FUNCTION samegoal.sg_purge_documents(bigint[]) IS
'Permanently remove deleted documents of the acting district and their files, leaving a tombstone each (admins only)';

-- For the DBA: a purge deletes rows, but their bytes stay in the table files (and
-- in their TOAST tables) as dead tuples until VACUUM reclaims them.
CREATE VIEW samegoal.purge_vacuum_status AS
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
                    WHERE c.oid IN ('samegoal.documents'::regclass, 'samegoal.document_files'::regclass)
                   UNION ALL
                   SELECT c.reltoastrelid FROM pg_catalog.pg_class c
                    WHERE c.oid IN ('samegoal.documents'::regclass, 'samegoal.document_files'::regclass));

COMMENT ON VIEW samegoal.purge_vacuum_status IS
'For DBAs: the tables (and TOAST tables) that hold document content, their dead rows, and whether a purge happened since their last VACUUM';

GRANT EXECUTE ON FUNCTION samegoal.sg_purge_documents(bigint[]) TO samegoal_app;

-- src/sql/80_district_bound.sql
-- A row of tenant data never moves to another district, whoever writes it,
-- superusers included and in every session_replication_role: the composite
-- foreign keys keep a row consistent with what it references, not with the
-- district that owned it. transfers and transfer_documents are never changed at
-- all (src/sql/50_transfer.sql).
DO $$
DECLARE
    bound record;
BEGIN
    FOR bound IN
        SELECT *
          FROM (VALUES ('users', 'district_id'), ('students', 'district_id'), ('documents', 'district_id'),
                       ('document_files', 'district_id'), ('purged_documents', 'district_id'),
                       ('transfer_requests', 'requesting_district_id, sending_district_id'))
               AS t(table_name, columns)
    LOOP
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE UPDATE OF %s ON samegoal.%I FOR EACH ROW'
            ' WHEN ((%s) IS DISTINCT FROM (%s))'
            ' EXECUTE FUNCTION samegoal.sg_refuse_change(%L)',
            bound.table_name || '_district_kept', bound.columns, bound.table_name,
            regexp_replace(bound.columns, '(\w+)', 'NEW.\1', 'g'),
            regexp_replace(bound.columns, '(\w+)', 'OLD.\1', 'g'),
            format('a row of %s cannot move to another district', bound.table_name));
        EXECUTE format('ALTER TABLE samegoal.%I ENABLE ALWAYS TRIGGER %I',
                       bound.table_name, bound.table_name || '_district_kept');
    END LOOP;
END
$$;

-- src/sql/85_node.sql
-- Version 1.2: a node of a deployment split by state (docs/scaling-out.md).
-- Each node is a complete samegoal database serving a set of whole states. This
-- file holds what a node needs for that: disjoint id ranges per node, a replica
-- identity on every table of tenant data that carries its district, the states
-- this node serves (the fence in sg_act_as, src/node.c) and the release of a
-- state that moved to another node.

-- Node ids ---------------------------------------------------------------------

-- The node number, one row at most (none until sg_configure_node is called:
-- node 0). Sequence options of an extension's member sequences are not in a
-- dump, so the number is kept here, as extension data that pg_dump writes, and
-- the trigger below applies it to the sequences again whenever the row is
-- written: by sg_configure_node, and by pg_restore loading the row.
CREATE TABLE samegoal.node_config (
    only_row    boolean PRIMARY KEY DEFAULT true CONSTRAINT node_config_one_row CHECK (only_row),
    node_no     integer NOT NULL CONSTRAINT node_config_node_no_range CHECK (node_no BETWEEN 0 AND 8191)
);

COMMENT ON TABLE samegoal.node_config IS
'This node''s number (sg_configure_node): one row at most, none for node 0; written by superusers only';
COMMENT ON COLUMN samegoal.node_config.node_no IS
'0 to 8191: the identity sequences allocate from node_no * 2^40 + 1 to (node_no + 1) * 2^40 - 1';

-- Nobody but the owner (and superusers) has any privilege on it; as on every
-- table of the extension, row-level security is on, and the policy lets the
-- owner in.
ALTER TABLE samegoal.node_config ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.node_config FORCE ROW LEVEL SECURITY;
CREATE POLICY node_config_owner ON samegoal.node_config USING (true) WITH CHECK (true);
SELECT pg_catalog.pg_extension_config_dump('samegoal.node_config', '');

-- Sets the range of every identity sequence of the extension to the node's. A
-- sequence that has handed out a value inside the range goes on from there, one
-- below it starts at the range's first value, and one that has handed out a
-- value above the range fails the whole write (2200H) before any sequence
-- changes. MINVALUE and MAXVALUE without CYCLE make running out an error.
CREATE FUNCTION samegoal.sg_apply_node_ranges()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_id bigint := NEW.node_no::bigint * 1099511627776 + 1;
    last_id bigint := (NEW.node_no::bigint + 1) * 1099511627776 - 1;
    sequences regclass[];
    seq regclass;
    seq_last bigint;
    seq_called boolean;
    used bigint;
    restart boolean[] := '{}';
BEGIN
    SELECT array_agg(c.oid::regclass ORDER BY c.relname) INTO sequences
      FROM pg_class c
      JOIN pg_depend owned ON owned.classid = 'pg_class'::regclass AND owned.objid = c.oid
                          AND owned.refclassid = 'pg_class'::regclass AND owned.deptype = 'i'
      JOIN pg_depend member ON member.classid = 'pg_class'::regclass AND member.objid = owned.refobjid
                           AND member.refclassid = 'pg_extension'::regclass AND member.deptype = 'e'
      JOIN pg_extension e ON e.oid = member.refobjid AND e.extname = 'samegoal_transfer'
     WHERE c.relkind = 'S';

    FOREACH seq IN ARRAY sequences LOOP
        -- Lock the sequence before reading it, as the ALTER below would: a
        -- setval() running meanwhile (a parallel pg_restore loads the
        -- sequences' values beside this row) then waits for this transaction,
        -- rather than landing between the read and a RESTART that undoes it.
        EXECUTE format('ALTER SEQUENCE %s NO CYCLE', seq);
        EXECUTE format('SELECT s.last_value, s.is_called FROM %s s', seq) INTO seq_last, seq_called;
        used := CASE WHEN seq_called THEN seq_last ELSE seq_last - 1 END;
        IF used > last_id OR (NOT seq_called AND seq_last > last_id) THEN
            RAISE EXCEPTION 'sequence % has already handed out ids above the range of node %', seq, NEW.node_no
                USING ERRCODE = '2200H',
                      DETAIL = format('It is at %s; node %s allocates from %s to %s.', used, NEW.node_no, first_id, last_id),
                      HINT = 'Choose a node number whose range lies above the ids this database holds.';
        END IF;
        restart := restart || (used < first_id);
    END LOOP;

    FOR i IN 1 .. coalesce(cardinality(sequences), 0) LOOP
        EXECUTE format('ALTER SEQUENCE %s MINVALUE %s MAXVALUE %s START %s NO CYCLE%s',
                       sequences[i], first_id, last_id, first_id,
                       CASE WHEN restart[i] THEN format(' RESTART %s', first_id) ELSE '' END);
    END LOOP;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION samegoal.sg_apply_node_ranges() IS
'Trigger: gives every identity sequence of the extension the id range of the node number just written (2200H when a sequence is already above it)';

-- In every session_replication_role: a parallel pg_restore in replica mode
-- applies the node number too.
CREATE TRIGGER node_config_apply
    AFTER INSERT OR UPDATE ON samegoal.node_config
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_apply_node_ranges();
ALTER TABLE samegoal.node_config ENABLE ALWAYS TRIGGER node_config_apply;

CREATE TRIGGER node_config_kept
    BEFORE DELETE ON samegoal.node_config
    FOR EACH ROW EXECUTE FUNCTION samegoal.sg_refuse_change(
        'the node number cannot be deleted',
        'Call samegoal.sg_configure_node() to change it.');
ALTER TABLE samegoal.node_config ENABLE ALWAYS TRIGGER node_config_kept;

CREATE FUNCTION samegoal.sg_configure_node(node_no integer)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied: only a superuser may configure the node'
            USING ERRCODE = '42501';
    END IF;
    IF node_no IS NULL OR node_no NOT BETWEEN 0 AND 8191 THEN
        RAISE EXCEPTION 'node_no must be between 0 and 8191' USING ERRCODE = '22023';
    END IF;
    INSERT INTO samegoal.node_config AS c (only_row, node_no)
    VALUES (true, sg_configure_node.node_no)
    ON CONFLICT (only_row) DO UPDATE SET node_no = EXCLUDED.node_no;
END
$$;

COMMENT ON FUNCTION samegoal.sg_configure_node(integer) IS
'Superusers: make this database node node_no (0 to 8191): every identity sequence allocates from node_no * 2^40 + 1 to (node_no + 1) * 2^40 - 1; kept by pg_dump and updates';

CREATE FUNCTION samegoal.sg_node()
RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce((SELECT c.node_no FROM samegoal.node_config c), 0)
$$;

COMMENT ON FUNCTION samegoal.sg_node() IS
'This node''s number (sg_configure_node); 0 until configured';

-- Replica identity ---------------------------------------------------------------

-- A publication filtered by district (CREATE PUBLICATION ... FOR TABLE ...
-- WHERE (district_id IN (...))) carries an UPDATE or DELETE only when the
-- replica identity covers the filter's columns: every table of tenant data gets
-- a unique index on NOT NULL columns that includes its district column(s).
CREATE UNIQUE INDEX document_files_district_id_key ON samegoal.document_files (district_id, id);
CREATE UNIQUE INDEX transfer_documents_districts_key
    ON samegoal.transfer_documents (transfer_id, source_document_id, sending_district_id, receiving_district_id);
CREATE UNIQUE INDEX purged_documents_district_id_key ON samegoal.purged_documents (district_id, document_id);

ALTER TABLE samegoal.districts REPLICA IDENTITY USING INDEX districts_pkey;
ALTER TABLE samegoal.users REPLICA IDENTITY USING INDEX users_district_id_id_key;
ALTER TABLE samegoal.students REPLICA IDENTITY USING INDEX students_district_id_id_key;
ALTER TABLE samegoal.documents REPLICA IDENTITY USING INDEX documents_district_id_id_key;
ALTER TABLE samegoal.document_files REPLICA IDENTITY USING INDEX document_files_district_id_key;
ALTER TABLE samegoal.transfers REPLICA IDENTITY USING INDEX transfers_id_sending_district_id_receiving_district_id_key;
ALTER TABLE samegoal.transfer_documents REPLICA IDENTITY USING INDEX transfer_documents_districts_key;
ALTER TABLE samegoal.purged_documents REPLICA IDENTITY USING INDEX purged_documents_district_id_key;
ALTER TABLE samegoal.transfer_requests REPLICA IDENTITY USING INDEX transfer_requests_id_sending_district_id_requesting_distric_key;

-- Served states --------------------------------------------------------------

-- A state with no row is served here. sg_act_as refuses (SG014) the districts of
-- a state whose row says anything else (src/node.c).
CREATE TABLE samegoal.node_states (
    state   text PRIMARY KEY CONSTRAINT node_states_state_code CHECK (state ~ '^[A-Z]{2}$'),
    status  text NOT NULL
            CONSTRAINT node_states_status_known CHECK (status IN ('serving', 'moving_in', 'moved_out'))
);

COMMENT ON TABLE samegoal.node_states IS
'States this node serves or does not: no row or serving is served; moving_in (arriving by logical replication) and moved_out (served by another node) are fenced (SG014); written by superusers only';
COMMENT ON COLUMN samegoal.node_states.status IS 'serving, moving_in or moved_out';

ALTER TABLE samegoal.node_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.node_states FORCE ROW LEVEL SECURITY;
CREATE POLICY node_states_owner ON samegoal.node_states USING (true) WITH CHECK (true);
SELECT pg_catalog.pg_extension_config_dump('samegoal.node_states', '');
-- sg_act_as reads this table on every call (src/node.c), so no trigger tells
-- anyone of its changes: the fence holds whatever writes it.

-- Releasing a moved state ----------------------------------------------------------

-- Deletes every row of the districts of a state that moved to another node, the
-- disclosure record and the requests included: the one sanctioned exception to
-- their refusal triggers. Those triggers fire in every session_replication_role,
-- so they are switched off (DISABLE TRIGGER) inside this function's own
-- transaction, for its three statements on those tables only, and switched back
-- on (ENABLE ALWAYS) before it returns. The switch is a catalog change of this
-- transaction: no other session ever sees a trigger off, and the tables' lock
-- (SHARE ROW EXCLUSIVE) makes their writers wait until the release commits; an
-- error anywhere rolls the switch back with everything else. The documents and
-- their files, the bulk of the bytes, are deleted before the switch, under the
-- ordinary row locks.
CREATE FUNCTION samegoal.sg_release_state(state text)
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

COMMENT ON FUNCTION samegoal.sg_release_state(text) IS
'Superusers: delete every row of a state marked moved_out here (SG014 otherwise), the transfer record and requests included, and its directory rows; returns the number of rows of tenant data deleted';

GRANT EXECUTE ON FUNCTION samegoal.sg_node() TO samegoal_app;

-- src/sql/86_reporting.sql
-- Version 1.2: national reporting. A router database calls these two functions on
-- every node with PL/Proxy (RUN ON ALL, router/router.sql) and merges the rows:
-- each node answers for the states it serves, so every state is counted once,
-- also while one is moving (moving_in and moved_out states are left out).

-- The reporting role. Roles are cluster-wide, so, like samegoal_app, it is only
-- created when missing and survives DROP EXTENSION; it owns nothing and may call
-- sg_node, sg_directory_export and sg_state_summary, nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'samegoal_reporting') THEN
        CREATE ROLE samegoal_reporting NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA samegoal TO samegoal_reporting;

-- What every administrator of a state may see of its districts in the directory,
-- for every state this node serves.
CREATE FUNCTION samegoal.sg_directory_export()
RETURNS TABLE (domain text, name text, city text, state text, accepts_transfers boolean,
               coordinator_name text, coordinator_email text, coordinator_phone text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT d.domain, d.name, d.city, d.state, d.transfers_enabled,
       d.coordinator_name, d.coordinator_email, d.coordinator_phone
  FROM samegoal.districts d
 WHERE NOT EXISTS (SELECT FROM samegoal.node_states n
                    WHERE n.state = d.state AND n.status <> 'serving')
 ORDER BY d.state, d.name, d.domain
$$;

COMMENT ON FUNCTION samegoal.sg_directory_export() IS
'Reporting (superusers and samegoal_reporting): every district of the states this node serves, with the columns sg_find_district shows';

-- Counts per served state: its districts, their students, documents (live and
-- deleted) and the bytes of their files, and the transfers they sent. Every
-- count reads an index that leads with the district; file sizes are read from
-- the stored length, without reading the files.
CREATE FUNCTION samegoal.sg_state_summary()
RETURNS TABLE (state text, districts bigint, students bigint, documents bigint,
               file_bytes bigint, transfers bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT d.state,
       count(*),
       sum((SELECT count(*) FROM samegoal.students s WHERE s.district_id = d.id))::bigint,
       sum((SELECT count(*) FROM samegoal.documents o WHERE o.district_id = d.id))::bigint,
       sum((SELECT coalesce(sum(octet_length(f.data)), 0) FROM samegoal.document_files f
             WHERE f.district_id = d.id))::bigint,
       sum((SELECT count(*) FROM samegoal.transfers t WHERE t.sending_district_id = d.id))::bigint
  FROM samegoal.districts d
 WHERE NOT EXISTS (SELECT FROM samegoal.node_states n
                    WHERE n.state = d.state AND n.status <> 'serving')
 GROUP BY d.state
 ORDER BY d.state
$$;

COMMENT ON FUNCTION samegoal.sg_state_summary() IS
'Reporting (superusers and samegoal_reporting): per state this node serves, its districts, students, documents (live and deleted), bytes of files, and transfers sent';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_node(),
    samegoal.sg_directory_export(),
    samegoal.sg_state_summary()
TO samegoal_reporting;

-- src/sql/90_privileges.sql
-- Functions are callable by samegoal_app only, as each feature grants them;
-- internal helpers by nobody but their owner.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal FROM PUBLIC;
