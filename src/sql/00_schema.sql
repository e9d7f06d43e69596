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
