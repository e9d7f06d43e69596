\echo Use "CREATE EXTENSION samegoal_transfer" to load this file. \quit

-- Everything below resolves built-in names in pg_catalog alone, whatever the
-- installing session's search_path holds: in many databases any role may create
-- operators and functions in public, and an operator or function there that
-- matched an argument type more exactly would run as the installing superuser.
-- The extension's own objects are always named with their schema, pg_trgm's
-- through the schema it lives in. CREATE EXTENSION restores search_path after.
SET LOCAL search_path = pg_catalog, pg_temp;

-- CREATE EXTENSION uses a schema samegoal that already exists. One owned by
-- another role would let that role swap, later, the objects that the extension's
-- functions call by name: refuse it, as every later version does. (Added after
-- release; it leaves the catalog of 1.0 unchanged.)
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

-- src/sql/00_role.sql
-- The application role. Roles are cluster-wide, so it survives DROP EXTENSION and
-- is only created when missing; it owns nothing and gets only the grants below.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'samegoal_app') THEN
        CREATE ROLE samegoal_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

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

-- src/sql/20_tables.sql
-- Tenant data. Every row carries district_id, and every reference to a student,
-- user or document is a composite key with district_id, so the database itself
-- refuses a row that points into another district, whoever writes it. Where a
-- composite key already ties district_id to a student or document, district_id
-- has no foreign key of its own to districts: it would check the same thing again
-- for every row written.

CREATE TABLE samegoal.districts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain              text NOT NULL
                        CHECK (domain = btrim(domain) AND domain <> '' AND char_length(domain) <= 253),
    name                text NOT NULL CHECK (btrim(name) <> ''),
    city                text,
    state               text NOT NULL CHECK (state ~ '^[A-Z]{2}$'),
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

CREATE TABLE samegoal.users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id bigint NOT NULL DEFAULT samegoal.sg_current_district_id()
                REFERENCES samegoal.districts (id),
    username    text NOT NULL CHECK (btrim(username) <> ''),
    email       text CHECK (btrim(email) <> ''),
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

CREATE TABLE samegoal.students (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id     bigint NOT NULL DEFAULT samegoal.sg_current_district_id()
                    REFERENCES samegoal.districts (id),
    sis_student_id  text NOT NULL
                    CHECK (char_length(sis_student_id) BETWEEN 1 AND 20 AND btrim(sis_student_id) <> ''),
    first_name      text NOT NULL,
    last_name       text NOT NULL,
    birth_date      date,
    UNIQUE (district_id, sis_student_id),
    UNIQUE (district_id, id)
);

COMMENT ON TABLE samegoal.students IS 'Students of each district, usually synced from the district''s SIS';
COMMENT ON COLUMN samegoal.students.sis_student_id IS 'The student''s id in the district''s SIS: 1 to 20 characters, unique per district';

CREATE TABLE samegoal.documents (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id         bigint NOT NULL DEFAULT samegoal.sg_current_district_id(),
    student_id          bigint NOT NULL,
    owner_id            bigint NOT NULL,
    doc_type            text NOT NULL CHECK (btrim(doc_type) <> ''),
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
    CHECK (deleted_by IS NULL OR deleted_at IS NOT NULL),
    CHECK ((transfer_id IS NULL) = (source_document_id IS NULL))
);
CREATE INDEX documents_student_idx ON samegoal.documents (district_id, student_id);
CREATE INDEX documents_owner_idx ON samegoal.documents (district_id, owner_id);
CREATE INDEX documents_transfer_idx ON samegoal.documents (transfer_id) WHERE transfer_id IS NOT NULL;
CREATE INDEX documents_source_idx ON samegoal.documents (student_id, source_document_id)
    WHERE source_document_id IS NOT NULL;

COMMENT ON TABLE samegoal.documents IS 'Special-education documents (IEPs, evaluations, 504 plans), one student and one owner each';
COMMENT ON COLUMN samegoal.documents.deleted_at IS 'When the document was deleted (sg_delete_documents); NULL while live';
COMMENT ON COLUMN samegoal.documents.deleted_by IS 'The user who deleted the document';
COMMENT ON COLUMN samegoal.documents.transfer_id IS 'On a received copy: the transfer that delivered it';
COMMENT ON COLUMN samegoal.documents.source_document_id IS 'On a received copy: the id of the sending district''s original';

CREATE TABLE samegoal.document_files (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district_id     bigint NOT NULL DEFAULT samegoal.sg_current_district_id(),
    document_id     bigint NOT NULL,
    filename        text NOT NULL CHECK (btrim(filename) <> ''),
    content_type    text NOT NULL DEFAULT 'application/octet-stream',
    data            bytea NOT NULL,
    FOREIGN KEY (district_id, document_id) REFERENCES samegoal.documents (district_id, id)
);
CREATE INDEX document_files_document_idx ON samegoal.document_files (district_id, document_id);

COMMENT ON TABLE samegoal.document_files IS 'Files attached to documents, stored byte for byte';

CREATE TABLE samegoal.transfers (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sending_district_id     bigint NOT NULL REFERENCES samegoal.districts (id),
    receiving_district_id   bigint NOT NULL REFERENCES samegoal.districts (id),
    sending_student_id      bigint NOT NULL,
    receiving_student_id    bigint NOT NULL,
    receiving_owner_id      bigint NOT NULL,
    initiated_by            bigint NOT NULL,
    initiated_at            timestamptz NOT NULL DEFAULT now(),
    document_count          integer NOT NULL CHECK (document_count > 0),
    UNIQUE (id, sending_district_id, receiving_district_id),
    UNIQUE (id, receiving_district_id),
    FOREIGN KEY (sending_district_id, sending_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (receiving_district_id, receiving_student_id) REFERENCES samegoal.students (district_id, id),
    FOREIGN KEY (receiving_district_id, receiving_owner_id) REFERENCES samegoal.users (district_id, id),
    FOREIGN KEY (sending_district_id, initiated_by) REFERENCES samegoal.users (district_id, id)
);
CREATE INDEX transfers_sending_idx ON samegoal.transfers (sending_district_id, sending_student_id);
CREATE INDEX transfers_receiving_idx ON samegoal.transfers (receiving_district_id, receiving_student_id);

COMMENT ON TABLE samegoal.transfers IS 'The disclosure record: one row per district-to-district transfer, visible to both districts and kept whatever the receiver does with its copies';
COMMENT ON COLUMN samegoal.transfers.initiated_by IS 'The sending district''s admin who made the transfer';
COMMENT ON COLUMN samegoal.transfers.document_count IS 'How many documents the transfer copied';

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
CREATE INDEX transfer_documents_received_idx ON samegoal.transfer_documents (received_document_id);
CREATE INDEX transfer_documents_source_idx ON samegoal.transfer_documents (source_document_id);

COMMENT ON TABLE samegoal.transfer_documents IS 'One row per document a transfer copied: the original and its copy';
COMMENT ON COLUMN samegoal.transfer_documents.source_document_id IS 'The sending district''s original; kept as the record of what was disclosed';
COMMENT ON COLUMN samegoal.transfer_documents.received_document_id IS 'The receiving district''s copy; NULL once that copy is purged';

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

-- src/sql/30_security.sql
-- Row-level security: a session acting as a user of district D sees and changes only
-- D's rows; a session that is not acting sees nothing. The identity is read through a
-- scalar subquery so it is evaluated once per query (an InitPlan), not once per row,
-- and the comparison stays usable as an index condition on district_id.

ALTER TABLE samegoal.districts ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.districts FORCE ROW LEVEL SECURITY;
CREATE POLICY districts_own ON samegoal.districts
    USING (id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_own ON samegoal.users
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.students ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.students FORCE ROW LEVEL SECURITY;
CREATE POLICY students_own ON samegoal.students
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.documents FORCE ROW LEVEL SECURITY;
CREATE POLICY documents_own ON samegoal.documents
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.document_files ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.document_files FORCE ROW LEVEL SECURITY;
CREATE POLICY document_files_own ON samegoal.document_files
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

ALTER TABLE samegoal.transfers ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfers FORCE ROW LEVEL SECURITY;
CREATE POLICY transfers_either_side ON samegoal.transfers FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));

ALTER TABLE samegoal.transfer_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.transfer_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY transfer_documents_either_side ON samegoal.transfer_documents FOR SELECT
    USING ((SELECT samegoal.sg_current_district_id()) IN (sending_district_id, receiving_district_id));

ALTER TABLE samegoal.purged_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE samegoal.purged_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY purged_documents_own ON samegoal.purged_documents FOR SELECT
    USING (district_id = (SELECT samegoal.sg_current_district_id()));

-- Grants: read everything (through the policies above); write only the district's
-- own users, students, documents and files, never the provenance and deletion columns
-- nor district_id after the fact. Deletion goes through the functions.
REVOKE ALL ON ALL TABLES IN SCHEMA samegoal FROM PUBLIC;
GRANT USAGE ON SCHEMA samegoal TO samegoal_app;
GRANT SELECT ON ALL TABLES IN SCHEMA samegoal TO samegoal_app;

GRANT INSERT (district_id, username, email, full_name, is_admin, is_active),
      UPDATE (username, email, full_name, is_admin, is_active)
    ON samegoal.users TO samegoal_app;
GRANT INSERT (district_id, sis_student_id, first_name, last_name, birth_date),
      UPDATE (sis_student_id, first_name, last_name, birth_date)
    ON samegoal.students TO samegoal_app;
GRANT INSERT (district_id, student_id, owner_id, doc_type, title, content, created_at),
      UPDATE (student_id, owner_id, doc_type, title, content)
    ON samegoal.documents TO samegoal_app;
GRANT INSERT (district_id, document_id, filename, content_type, data),
      UPDATE (document_id, filename, content_type, data)
    ON samegoal.document_files TO samegoal_app;

-- src/sql/40_settings.sql
-- An admin's settings for their own district.

-- The acting user's id when that user is an active admin; 42501 otherwise.
CREATE FUNCTION samegoal.sg_require_admin()
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    admin_id bigint;
BEGIN
    SELECT u.id INTO admin_id
      FROM samegoal.users u
     WHERE u.id = samegoal.sg_current_user_id() AND u.is_admin AND u.is_active;
    IF admin_id IS NULL THEN
        RAISE EXCEPTION 'permission denied: an acting SameGoal administrator is required'
            USING ERRCODE = '42501',
                  HINT = 'Call samegoal.sg_act_as(domain, login) for an administrator first, in the same transaction.';
    END IF;
    RETURN admin_id;
END
$$;

COMMENT ON FUNCTION samegoal.sg_require_admin() IS
'Internal: the acting user''s id if that user is an active administrator, else error 42501';

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

CREATE FUNCTION samegoal.sg_set_transfer_coordinator(name text, email text, phone text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM samegoal.sg_require_admin();
    UPDATE samegoal.districts
       SET coordinator_name = NULLIF(btrim(sg_set_transfer_coordinator.name, E' \t\r\n\x0B\f'), ''),
           coordinator_email = NULLIF(btrim(sg_set_transfer_coordinator.email, E' \t\r\n\x0B\f'), ''),
           coordinator_phone = NULLIF(btrim(sg_set_transfer_coordinator.phone, E' \t\r\n\x0B\f'), '')
     WHERE id = samegoal.sg_current_district_id();
END
$$;

COMMENT ON FUNCTION samegoal.sg_set_transfer_coordinator(text, text, text) IS
'Publish (or, with NULL, clear) the Transfer Coordinator contact of the acting admin''s district';

-- src/sql/50_transfer.sql
-- District-to-District Transfer: the function (src/transfer.c) and the triggers
-- that keep every transfers row within the setting rules and the disclosure
-- record intact.

CREATE FUNCTION samegoal.sg_transfer_documents(
    document_ids bigint[],
    receiving_domain text,
    receiving_sis_student_id text,
    receiving_owner text)
RETURNS TABLE (transfer_id bigint, source_document_id bigint,
               received_document_id bigint, copied boolean)
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10
AS 'MODULE_PATHNAME', 'sg_transfer_documents';

COMMENT ON FUNCTION samegoal.sg_transfer_documents(bigint[], text, text, text) IS
'Copy documents of one student of the acting admin''s district, with their files, to the student with that SIS Student ID in the district with that domain, owned there by the active user with that username or email; one row per distinct document: the transfer, the original, the copy, and whether it was copied now (false: the student already holds a live copy)';

-- The setting rules, for every writer of samegoal.transfers, superusers
-- included: SG001, SG009, SG010 and SG002, in the order sg_transfer_documents
-- checks them. Both district rows are locked FOR SHARE in id order, as
-- sg_transfer_documents locks them, so a change of either setting (an UPDATE
-- of the district row) waits for the transfer to end, or the transfer for it.
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

-- The disclosure record stays as written: a transfers row is never changed,
-- deleted or truncated, nor a transfer_documents row, except that received_document_id
-- becomes NULL when the receiving district purges its copy.
CREATE FUNCTION samegoal.sg_transfer_record_kept()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
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
              DETAIL = 'Both districts keep the record of what was disclosed; only the link to a purged copy is cleared.';
END
$$;

COMMENT ON FUNCTION samegoal.sg_transfer_record_kept() IS
'Trigger: refuses UPDATE, DELETE and TRUNCATE of transfers and transfer_documents rows, except clearing transfer_documents.received_document_id when a copy is purged';

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
-- index: the domains of a state from the search on, in bytewise order.
CREATE INDEX districts_state_domain_idx ON samegoal.districts (state, (lower(domain) COLLATE "C"));

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
-- fill them again as the districts are restored: they fire even under
-- session_replication_role = replica, which a restore may use. Deleted districts
-- take their rows along through the foreign keys.
CREATE FUNCTION samegoal.sg_index_inserted_districts()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM samegoal.sg_index_districts(ARRAY(SELECT d.id FROM inserted_districts d));
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
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION samegoal.sg_index_inserted_districts() IS
'Trigger: adds the words and label trigrams of inserted districts to the directory''s tables';
COMMENT ON FUNCTION samegoal.sg_index_updated_districts() IS
'Trigger: replaces the words and label trigrams of districts whose name, domain or state changed';

CREATE TRIGGER districts_index_inserted
    AFTER INSERT ON samegoal.districts
    REFERENCING NEW TABLE AS inserted_districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_inserted_districts();
ALTER TABLE samegoal.districts ENABLE ALWAYS TRIGGER districts_index_inserted;

CREATE TRIGGER districts_index_updated
    AFTER UPDATE ON samegoal.districts
    REFERENCING OLD TABLE AS old_districts NEW TABLE AS updated_districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_updated_districts();
ALTER TABLE samegoal.districts ENABLE ALWAYS TRIGGER districts_index_updated;

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

-- src/sql/70_purge.sql
-- Delete, restore and purge documents of the acting district.

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
BEGIN
    SELECT u.* INTO actor FROM samegoal.users u
     WHERE u.id = samegoal.sg_current_user_id() AND u.is_active;
    IF actor.id IS NULL THEN
        RAISE EXCEPTION 'not acting as a SameGoal user' USING ERRCODE = '42501',
            HINT = 'Call samegoal.sg_act_as(domain, login) first, in the same transaction.';
    END IF;
    IF document_ids IS NULL OR cardinality(document_ids) = 0 THEN
        RAISE EXCEPTION 'document_ids must not be NULL or empty' USING ERRCODE = '22023';
    END IF;
    -- unnest, unlike array_position, also reads a multi-dimensional array
    IF EXISTS (SELECT FROM unnest(document_ids) AS id WHERE id IS NULL) THEN
        RAISE EXCEPTION 'document_ids must not contain NULL' USING ERRCODE = '22023';
    END IF;
    wanted := ARRAY(SELECT DISTINCT unnest(document_ids) ORDER BY 1);

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

    UPDATE samegoal.documents d
       SET deleted_at = CASE WHEN deleting THEN now() END,
           deleted_by = CASE WHEN deleting THEN actor.id END
     WHERE d.id = ANY (wanted) AND d.district_id = actor.district_id
       AND (d.deleted_at IS NULL) = deleting;
    GET DIAGNOSTICS changed = ROW_COUNT;
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

COMMENT ON FUNCTION samegoal.sg_delete_documents(bigint[]) IS
'Delete documents of the acting district (the owner or an admin may); returns how many were live';

CREATE FUNCTION samegoal.sg_restore_documents(document_ids bigint[])
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'SELECT samegoal.sg_change_deletion(document_ids, false)';

COMMENT ON FUNCTION samegoal.sg_restore_documents(bigint[]) IS
'Restore deleted documents of the acting district (the owner or an admin may); returns how many were deleted';

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

-- src/sql/90_grants.sql
-- Functions are callable by samegoal_app only; internal helpers by nobody but
-- their owner.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    samegoal.sg_act_as(text, text),
    samegoal.sg_current_user_id(),
    samegoal.sg_current_district_id(),
    samegoal.sg_set_transfers_enabled(boolean),
    samegoal.sg_set_transfer_coordinator(text, text, text),
    samegoal.sg_delete_documents(bigint[]),
    samegoal.sg_restore_documents(bigint[]),
    samegoal.sg_purge_documents(bigint[]),
    samegoal.sg_transfer_documents(bigint[], text, text, text),
    samegoal.sg_find_district(text, integer)
TO samegoal_app;

-- pg_dump keeps the data of these tables and the state of their id sequences;
-- not the directory's tables of words and trigrams, which triggers fill again
-- from districts.
DO $$
DECLARE
    rel regclass;
BEGIN
    FOR rel IN
        SELECT c.oid FROM pg_catalog.pg_class c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'samegoal'::pg_catalog.regnamespace
           AND c.relkind IN ('r', 'S')
           AND c.oid NOT IN ('samegoal.district_words'::regclass,
                             'samegoal.directory_words'::regclass,
                             'samegoal.district_label_trigrams'::regclass)
         ORDER BY c.relname
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(rel, '');
    END LOOP;
END
$$;
