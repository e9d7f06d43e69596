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
