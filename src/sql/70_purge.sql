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
