/*-------------------------------------------------------------------------
 *
 * identity.c
 *	  The acting identity: sg_act_as, sg_current_user_id and
 *	  sg_current_district_id.
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
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "samegoal.h"

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

	/* The setting machinery frees extra with free(), so use malloc. */
	result = malloc(sizeof(ActingIdentity));
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
sg_acting_user_id(void)
{
	return acting_identity.user_id;
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

/*
 * The active user with this login in the district with this domain, or false.
 * A login may be one user's username and another's email; the username wins.
 *
 * The kept plan is generic: each expression of a parameter is computed once, in
 * its own subquery or as an index key, not once per row scanned, and the user is
 * found through the per-district indexes on username and email.
 */
static bool
find_active_user(text *domain, text *login, ActingIdentity *found)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[2];
	int			rc;
	bool		isnull;

	if (plan == NULL)
	{
		Oid			argtypes[2] = {TEXTOID, TEXTOID};

		plan = sg_prepare_kept(
							   "SELECT u.id, u.district_id"
							   "  FROM samegoal.users u"
							   " WHERE u.district_id ="
							   "       (SELECT d.id FROM samegoal.districts d"
							   "         WHERE lower(d.domain) = (SELECT lower(btrim($1, E' \\t\\r\\n'))))"
							   "   AND (lower(u.username) = lower($2) OR lower(u.email) = lower($2))"
							   "   AND u.is_active"
							   " ORDER BY lower(u.username) = lower($2) DESC"
							   " LIMIT 1",
							   2, argtypes);
	}
	args[0] = PointerGetDatum(domain);
	args[1] = PointerGetDatum(login);
	rc = SPI_execute_plan(plan, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan returned %d", rc);
	if (SPI_processed != 1)
		return false;
	found->user_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
	found->district_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													 SPI_tuptable->tupdesc, 2, &isnull));
	return true;
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
	ActingIdentity identity;
	SgOwnerScope scope;
	bool		found = false;

	if (!caller_may_act())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to act as a SameGoal user"),
				 errhint("Grant the role %s to this role.", APP_ROLE)));
	if (!IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("samegoal.sg_act_as() can only be used in a transaction block"),
				 errhint("Call it after BEGIN; the identity lasts until the transaction ends.")));

	if (!PG_ARGISNULL(0) && !PG_ARGISNULL(1))
	{
		sg_enter_owner_scope(&scope);
		sg_connect_spi();
		found = find_active_user(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), &identity);
		sg_finish_spi();
		sg_leave_owner_scope(&scope);
	}
	if (!found)
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
