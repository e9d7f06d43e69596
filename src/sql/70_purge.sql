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

-- For the DBA: a purge deletes rows, but their bytes stay in the tables' files
-- (and in their TOAST tables) as dead tuples until VACUUM reclaims them.
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
                    WHERE c.oid IN ('samegoal.documents'::regclass, 'samegoal.files'::regclass, 'samegoal.file_contents'::regclass)
                   UNION ALL
                   SELECT c.reltoastrelid FROM pg_catalog.pg_class c
                    WHERE c.oid IN ('samegoal.documents'::regclass, 'samegoal.files'::regclass, 'samegoal.file_contents'::regclass));

COMMENT ON VIEW samegoal.purge_vacuum_status IS
'For DBAs: the tables (and TOAST tables) that hold document content, their dead rows, and whether a purge happened since their last VACUUM';

GRANT EXECUTE ON FUNCTION samegoal.sg_purge_documents(bigint[]) TO samegoal_app;
