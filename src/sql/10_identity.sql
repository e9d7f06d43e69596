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

-- The rules that C and SQL functions both apply, each written once in C
-- (src/rules.c, src/args.c) and called by the PL/pgSQL functions, so that
-- every entry point applies the same one: the blank characters and the text
-- arguments, the district of a domain, the user of a login, the setting rules
-- with the district rows locked in one order, SG006 for documents, and the
-- names of the SQLSTATEs and notification channels (src/samegoal.h).
CREATE FUNCTION samegoal.sg_trim(value text)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_trim';

COMMENT ON FUNCTION samegoal.sg_trim(text) IS
'Internal: the value without its surrounding blanks (space, tab, line feed, vertical tab, form feed, carriage return)';

CREATE FUNCTION samegoal.sg_require_text(value text, argument_name text, max_length integer)
RETURNS text
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_require_text';

COMMENT ON FUNCTION samegoal.sg_require_text(text, text, integer) IS
'Internal: the value, or 22023 when it is NULL, blank or longer than max_length (when given)';

CREATE FUNCTION samegoal.sg_district_by_domain(domain text)
RETURNS bigint
LANGUAGE C STABLE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_district_by_domain';

COMMENT ON FUNCTION samegoal.sg_district_by_domain(text) IS
'Internal: the district with that domain, case-insensitively, its surrounding blanks ignored, or NULL';

CREATE FUNCTION samegoal.sg_user_by_login(district_id bigint, login text)
RETURNS bigint
LANGUAGE C STABLE STRICT PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_user_by_login';

COMMENT ON FUNCTION samegoal.sg_user_by_login(bigint, text) IS
'Internal: the active user of that district whose username or email is that login, case-insensitively, the username winning, or NULL';

CREATE FUNCTION samegoal.sg_check_districts(sending_district_id bigint, receiving_district_id bigint,
                                            domain text, requesting boolean)
RETURNS void
LANGUAGE C VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'sg_check_districts';

COMMENT ON FUNCTION samegoal.sg_check_districts(bigint, bigint, text, boolean) IS
'Internal: lock both districts FOR SHARE in id order and check the setting rules in a request''s order (SG003, SG009, SG010, SG002, SG001) or a transfer''s (SG001, SG003, SG009, SG010, SG002); SG003 names the domain, and without one a missing district passes';

CREATE FUNCTION samegoal.sg_document_not_found()
RETURNS void
LANGUAGE C VOLATILE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_document_not_found_sql';

COMMENT ON FUNCTION samegoal.sg_document_not_found() IS
'Internal: error SG006, one message for every document that is not there to use';

CREATE FUNCTION samegoal.sg_sqlstate(name text)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_sqlstate';

COMMENT ON FUNCTION samegoal.sg_sqlstate(text) IS
'Internal: the SQLSTATE of that name (src/samegoal.h), such as not_found for SG006';

CREATE FUNCTION samegoal.sg_channel(name text)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'sg_channel';

COMMENT ON FUNCTION samegoal.sg_channel(text) IS
'Internal: the notification channel of that name (src/samegoal.h): transfer or transfer_request';

GRANT EXECUTE ON FUNCTION
    samegoal.sg_act_as(text, text),
    samegoal.sg_current_user_id(),
    samegoal.sg_current_district_id()
TO samegoal_app;
