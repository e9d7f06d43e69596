\echo Use "ALTER EXTENSION samegoal_transfer UPDATE TO '1.2'" to load this file. \quit
-- samegoal_transfer 1.1 -> 1.2, written by hand: it must end in exactly the
-- catalog that samegoal_transfer--1.2.sql installs (test/checks/upgrade.sh).
-- Version 1.2 adds the objects of src/sql/85_node.sql and 86_reporting.sql, and
-- what makes a large state's directory and the acting identity cheaper.

-- Built-in names resolve in pg_catalog alone, as in the install script.
-- ALTER EXTENSION restores search_path after.
SET LOCAL search_path = pg_catalog, pg_temp;

-- As in the 1.0 -> 1.1 update: a schema samegoal that a role other than a
-- superuser owns lets that role swap what the SECURITY DEFINER functions call.
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

-- Speed: the directory's domain index, the cache of acting identities -------

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
'Trigger: after a statement that writes users, districts or node_states, empties every session''s cache of acting identities';

CREATE TRIGGER districts_identity_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON samegoal.districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_identity_changed();
ALTER TABLE samegoal.districts ENABLE ALWAYS TRIGGER districts_identity_changed;
CREATE TRIGGER users_identity_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON samegoal.users
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_identity_changed();
ALTER TABLE samegoal.users ENABLE ALWAYS TRIGGER users_identity_changed;

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
-- A change of the served states empties every session's cache of acting
-- identities (src/identity_cache.c), as a change of users or districts does.
CREATE TRIGGER node_states_identity_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON samegoal.node_states
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_identity_changed();
ALTER TABLE samegoal.node_states ENABLE ALWAYS TRIGGER node_states_identity_changed;

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

-- Speed: a large state's directory kept in memory by each session ----------

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

CREATE OR REPLACE FUNCTION samegoal.sg_index_inserted_districts()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM samegoal.sg_index_districts(ARRAY(SELECT d.id FROM inserted_districts d));
    PERFORM samegoal.sg_directory_states_changed(ARRAY(SELECT d.state FROM inserted_districts d));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION samegoal.sg_index_updated_districts()
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

COMMENT ON FUNCTION samegoal.sg_index_deleted_districts() IS
'Trigger: raises the directory version of the states of deleted districts (forgets every version on TRUNCATE)';

CREATE TRIGGER districts_index_deleted
    AFTER DELETE ON samegoal.districts
    REFERENCING OLD TABLE AS deleted_districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_deleted_districts();
ALTER TABLE samegoal.districts ENABLE ALWAYS TRIGGER districts_index_deleted;

CREATE TRIGGER districts_index_truncated
    AFTER TRUNCATE ON samegoal.districts
    FOR EACH STATEMENT EXECUTE FUNCTION samegoal.sg_index_deleted_districts();
ALTER TABLE samegoal.districts ENABLE ALWAYS TRIGGER districts_index_truncated;

CREATE OR REPLACE FUNCTION samegoal.sg_rebuild_directory()
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

-- Every state that has districts starts at version 1.
INSERT INTO samegoal.directory_states (state, version)
SELECT DISTINCT d.state, 1 FROM samegoal.districts d;

-- As at the end of the install script: no function is PUBLIC's.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA samegoal FROM PUBLIC;
