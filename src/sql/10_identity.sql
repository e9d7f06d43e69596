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

GRANT EXECUTE ON FUNCTION
    samegoal.sg_act_as(text, text),
    samegoal.sg_current_user_id(),
    samegoal.sg_current_district_id()
TO samegoal_app;
