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
CREATE UNIQUE INDEX transfer_files_districts_key
    ON samegoal.transfer_files (transfer_id, source_file_id, sending_district_id, receiving_district_id);
CREATE UNIQUE INDEX transfer_documents_districts_key
    ON samegoal.transfer_documents (transfer_id, source_document_id, sending_district_id, receiving_district_id);
CREATE UNIQUE INDEX purged_documents_district_id_key ON samegoal.purged_documents (district_id, document_id);

ALTER TABLE samegoal.districts REPLICA IDENTITY USING INDEX districts_pkey;
ALTER TABLE samegoal.users REPLICA IDENTITY USING INDEX users_district_id_id_key;
ALTER TABLE samegoal.students REPLICA IDENTITY USING INDEX students_district_id_id_key;
ALTER TABLE samegoal.documents REPLICA IDENTITY USING INDEX documents_district_id_id_key;
ALTER TABLE samegoal.file_contents REPLICA IDENTITY USING INDEX file_contents_district_id_id_key;
ALTER TABLE samegoal.files REPLICA IDENTITY USING INDEX files_district_id_id_key;
ALTER TABLE samegoal.transfers REPLICA IDENTITY USING INDEX transfers_id_sending_district_id_receiving_district_id_key;
ALTER TABLE samegoal.transfer_documents REPLICA IDENTITY USING INDEX transfer_documents_districts_key;
ALTER TABLE samegoal.transfer_files REPLICA IDENTITY USING INDEX transfer_files_districts_key;
ALTER TABLE samegoal.purged_documents REPLICA IDENTITY USING INDEX purged_documents_district_id_key;
ALTER TABLE samegoal.transfer_requests REPLICA IDENTITY USING INDEX transfer_requests_id_sending_district_id_requesting_distric_key;
ALTER TABLE samegoal.transfer_arrivals REPLICA IDENTITY USING INDEX transfer_arrivals_pkey;

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
-- transaction, for its statements on those tables only, and switched back
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

COMMENT ON FUNCTION samegoal.sg_release_state(text) IS
'Superusers: delete every row of a state marked moved_out here (SG014 otherwise), the transfer record and requests included, and its directory rows; returns the number of rows of tenant data deleted';

GRANT EXECUTE ON FUNCTION samegoal.sg_node() TO samegoal_app;
