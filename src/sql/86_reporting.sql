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
       sum((SELECT coalesce(sum(c.byte_size), 0) FROM samegoal.files f
              JOIN samegoal.file_contents c ON c.id = f.content_id
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

-- Version 1.3: the overdue requests per state and district asked, counts only.
CREATE FUNCTION samegoal.sg_overdue_requests()
RETURNS TABLE (state text, sending_district_domain text, overdue bigint, oldest_due_on date)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
SELECT d.state, d.domain, count(*), min(r.due_on)
  FROM samegoal.transfer_requests r
  JOIN samegoal.districts d ON d.id = r.sending_district_id
 WHERE r.status = 'pending'
   AND samegoal.sg_request_overdue(r)
   AND NOT EXISTS (SELECT FROM samegoal.node_states n
                    WHERE n.state = d.state AND n.status <> 'serving')
 GROUP BY d.state, d.domain
 ORDER BY d.state, d.domain
$$;

COMMENT ON FUNCTION samegoal.sg_overdue_requests() IS
'Reporting (superusers and samegoal_reporting): per state this node serves and district asked, how many pending requests are overdue and the oldest due date';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_node(),
    samegoal.sg_directory_export(),
    samegoal.sg_state_summary(),
    samegoal.sg_overdue_requests()
TO samegoal_reporting;
