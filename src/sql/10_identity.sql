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
