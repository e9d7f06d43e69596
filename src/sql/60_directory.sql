-- The district directory an administrator searches when choosing the receiving
-- district; see src/directory.c.

-- Trigram indexes serve sg_find_district: substring and prefix matches of domain
-- and name, and similarity to the name and to the domain's first label. Districts
-- change rarely, so the indexes take new entries at once (fastupdate off) rather
-- than in a pending list that every search would have to read. pg_trgm is
-- installed in whatever schema was current, so its operator class is named
-- through the schema it actually lives in.
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
    EXECUTE pg_catalog.format(
        'CREATE INDEX districts_domain_label_trgm_idx ON samegoal.districts USING gin (split_part(lower(domain), ''.'', 1) %I.gin_trgm_ops) WITH (fastupdate = off)',
        trgm);
END
$$;

CREATE FUNCTION samegoal.sg_find_district(search text, max_results integer DEFAULT 20)
RETURNS TABLE (domain text, name text, city text, state text, accepts_transfers boolean,
               coordinator_name text, coordinator_email text, coordinator_phone text)
LANGUAGE C STABLE PARALLEL UNSAFE ROWS 20
AS 'MODULE_PATHNAME', 'sg_find_district';

COMMENT ON FUNCTION samegoal.sg_find_district(text, integer) IS
'Admins only: districts of the acting district''s state (not itself) whose domain or name matches search, ranked exact domain, domain prefix, name or word prefix, substring, similarity, then by name; blank search lists by name; max_results 1 to 1000';
