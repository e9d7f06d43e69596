/*-------------------------------------------------------------------------
 *
 * identity.c
 *	  The acting identity: sg_act_as, sg_current_user_id and
 *	  sg_current_district_id; the one check of the acting user and of the
 *	  acting administrator (sg_require_user, sg_require_admin). The lookup
 *	  of sg_act_as is in identity_cache.c, by the rules of rules.c.
 *
 * The identity lives in the superuser-only setting samegoal.acting_identity,
 * assigned transaction-locally (like SET LOCAL) by sg_act_as after its checks.
 * The setting machinery then ends it with the transaction and undoes it on
 * ROLLBACK TO SAVEPOINT. Its check hook refuses every other assignment, a
 * superuser's SET included, and the samegoal prefix is reserved so that no
 * placeholder of that name can be created once the module is loaded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "samegoal.h"
#include "identity.h"
#include "owner.h"
#include "spi.h"
#include "xact_block.h"

#define ACTING_IDENTITY_SETTING "samegoal.acting_identity"
#define APP_ROLE "samegoal_app"

typedef struct ActingIdentity
{
	int64		user_id;
	int64		district_id;
} ActingIdentity;

static char *acting_identity_text = NULL;
static ActingIdentity acting_identity = {0, 0};

/* The one value sg_act_as is assigning right now, or NULL. */
static const char *identity_being_assigned = NULL;

static bool
parse_identity(const char *text, ActingIdentity *identity)
{
	char	   *end;

	identity->user_id = strtoi64(text, &end, 10);
	if (end == text || *end != ',' || identity->user_id <= 0)
		return false;
	text = end + 1;
	identity->district_id = strtoi64(text, &end, 10);
	return end != text && *end == '\0' && identity->district_id > 0;
}

static bool
check_acting_identity(char **newval, void **extra, GucSource source)
{
	ActingIdentity parsed = {0, 0};
	ActingIdentity *result;

	if (**newval != '\0')
	{
		/* A parallel worker copies the leader's state, which sg_act_as set. */
		bool		from_act_as = identity_being_assigned != NULL &&
			strcmp(*newval, identity_being_assigned) == 0;

		if (!from_act_as && !IsParallelWorker())
		{
			GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
			GUC_check_errmsg("\"%s\" can only be set by samegoal.sg_act_as()",
							 ACTING_IDENTITY_SETTING);
			return false;
		}
		if (!parse_identity(*newval, &parsed))
		{
			GUC_check_errdetail("The value is not a user id and a district id.");
			return false;
		}
	}

	/* Freed by the setting machinery, with its own allocator (compat.h). */
	result = sg_guc_extra_alloc(sizeof(ActingIdentity));
	if (result == NULL)
		return false;
	*result = parsed;
	*extra = result;
	return true;
}

static void
assign_acting_identity(const char *newval, void *extra)
{
	acting_identity = *(ActingIdentity *) extra;
}

void
sg_define_identity_setting(void)
{
	DefineCustomStringVariable(ACTING_IDENTITY_SETTING,
							   "The SameGoal user and district the session acts as in this transaction.",
							   "Set only by samegoal.sg_act_as().",
							   &acting_identity_text,
							   "",
							   PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NO_RESET_ALL | GUC_NOT_IN_SAMPLE |
							   GUC_DISALLOW_IN_FILE | GUC_SUPERUSER_ONLY,
							   check_acting_identity,
							   assign_acting_identity,
							   NULL);
	MarkGUCPrefixReserved("samegoal");
}

int64
sg_acting_district_id(void)
{
	return acting_identity.district_id;
}

static bool
caller_may_act(void)
{
	Oid			app_role = get_role_oid(APP_ROLE, true);

	return superuser() ||
		(OidIsValid(app_role) && has_privs_of_role(GetUserId(), app_role));
}

/* Assign the identity as SET LOCAL would, through the check hook above. */
static void
assign_identity_locally(const ActingIdentity *identity)
{
	char		value[64];

	snprintf(value, sizeof(value), INT64_FORMAT "," INT64_FORMAT,
			 identity->user_id, identity->district_id);
	identity_being_assigned = value;
	PG_TRY();
	{
		(void) set_config_option(ACTING_IDENTITY_SETTING, value,
								 PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_LOCAL, true, 0, false);
	}
	PG_FINALLY();
	{
		identity_being_assigned = NULL;
	}
	PG_END_TRY();
}

/* sg_act_as(domain text, login text) returns bigint: act as a SameGoal user */
PG_FUNCTION_INFO_V1(sg_act_as);
Datum
sg_act_as(PG_FUNCTION_ARGS)
{
	ActingIdentity identity = {0, 0};

	if (!caller_may_act())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to act as a SameGoal user"),
				 errhint("Grant the role %s to this role.", APP_ROLE)));
	/*
	 * Outside a transaction block whatever the nesting: a subtransaction (a
	 * PL/pgSQL EXCEPTION block) of a statement run in autocommit is no block
	 * (xact_block.c).
	 */
	if (!sg_in_transaction_block())
		ereport(ERROR,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("samegoal.sg_act_as() can only be used in a transaction block"),
				 errhint("Call it after BEGIN; the identity lasts until the transaction ends.")));

	/* Through the per-session cache of identity_cache.c. */
	if (!PG_ARGISNULL(0) && !PG_ARGISNULL(1) &&
		!sg_resolve_identity(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							 text_to_cstring(PG_GETARG_TEXT_PP(1)),
							 &identity.user_id, &identity.district_id))
		identity.user_id = 0;
	if (identity.user_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("no active SameGoal user with that login in that district")));

	assign_identity_locally(&identity);
	PG_RETURN_INT64(identity.user_id);
}

/* sg_current_user_id() returns bigint: the acting user, or NULL */
PG_FUNCTION_INFO_V1(sg_current_user_id);
Datum
sg_current_user_id(PG_FUNCTION_ARGS)
{
	if (acting_identity.user_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(acting_identity.user_id);
}

/* sg_current_district_id() returns bigint: the acting district, or NULL */
PG_FUNCTION_INFO_V1(sg_current_district_id);
Datum
sg_current_district_id(PG_FUNCTION_ARGS)
{
	if (acting_identity.district_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(acting_identity.district_id);
}

/*
 * Whether the acting user is still active, and whether an administrator. Runs
 * its own owner scope and SPI connection, so that it can be called from
 * anywhere: a C function before or inside its own scope, or a plpgsql
 * function through sg_require_user() and sg_require_admin().
 */
static SgStatement acting_user_statement =
SG_QUERY(SG_FIRST_ROW,
		 "SELECT u.is_admin FROM samegoal.users u WHERE u.id = $1 AND u.is_active",
		 1, INT8OID);

static bool
acting_user_is_active(int64 user_id, bool *is_admin)
{
	SgOwnerScope scope;
	Datum		arg = Int64GetDatum(user_id);
	Snapshot	snapshot;
	bool		active;

	/* As of now, like sg_act_as (identity_cache.c), whatever the isolation level. */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	active = sg_execute_with_snapshot(&acting_user_statement, &arg, snapshot) == 1;
	*is_admin = false;
	if (active)
	{
		bool		isnull;
		Datum		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										  1, &isnull);

		*is_admin = !isnull && DatumGetBool(value);
	}
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	UnregisterSnapshot(snapshot);
	return active;
}

static void
not_acting_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("not acting as a SameGoal user"),
			 errhint("Call samegoal.sg_act_as(domain, login) first, in the same transaction.")));
}

/*
 * The acting user's id; 42501 when the session is not acting, or acts as a
 * user who is no longer active.
 */
int64
sg_require_acting_user(void)
{
	int64		user_id = acting_identity.user_id;
	bool		is_admin;

	if (user_id == 0 || !acting_user_is_active(user_id, &is_admin))
		not_acting_error();
	return user_id;
}

/*
 * The acting user's id when that user is an active administrator; otherwise
 * 42501.
 */
int64
sg_require_acting_admin(void)
{
	int64		user_id = acting_identity.user_id;
	bool		is_admin;

	if (user_id == 0)
		not_acting_error();
	if (!acting_user_is_active(user_id, &is_admin) || !is_admin)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied: the acting user is not an active SameGoal administrator"),
				 errhint("Call samegoal.sg_act_as(domain, login) for an administrator first, in the same transaction.")));
	return user_id;
}

/* sg_require_user() returns bigint: the acting, active user, else 42501 */
PG_FUNCTION_INFO_V1(sg_require_user);
Datum
sg_require_user(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(sg_require_acting_user());
}

/* sg_require_admin() returns bigint: the acting, active administrator, else 42501 */
PG_FUNCTION_INFO_V1(sg_require_admin);
Datum
sg_require_admin(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(sg_require_acting_admin());
}
