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
                       ('files', 'district_id'), ('file_contents', 'district_id'),
                       ('purged_documents', 'district_id'),
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
