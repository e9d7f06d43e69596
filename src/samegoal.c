/*-------------------------------------------------------------------------
 *
 * samegoal.c
 *	  Module entry point and the helpers every samegoal_transfer function
 *	  shares: running SPI as the table owner, the admin check, and argument
 *	  validation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "samegoal.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	sg_define_identity_setting();
}

/*
 * The functions check the acting user themselves and then read and write across
 * districts, which the row-level security policies refuse to the caller. They do
 * that work as the owner of the extension's tables (a superuser, who bypasses
 * row-level security), with a search_path that no caller can plant objects in.
 */
static Oid
sg_tables_owner(void)
{
	Oid			nspid = get_namespace_oid("samegoal", false);
	Oid			relid = get_relname_relid("districts", nspid);
	HeapTuple	tuple;
	Oid			owner;

	if (!OidIsValid(relid))
		elog(ERROR, "table samegoal.districts is missing");
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

void
sg_enter_owner_scope(SgOwnerScope *scope)
{
	GetUserIdAndSecContext(&scope->saved_userid, &scope->saved_sec_context);
	SetUserIdAndSecContext(sg_tables_owner(),
						   scope->saved_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	scope->guc_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* On error, transaction abort restores both the user and the settings. */
void
sg_leave_owner_scope(SgOwnerScope *scope)
{
	AtEOXact_GUC(true, scope->guc_nestlevel);
	SetUserIdAndSecContext(scope->saved_userid, scope->saved_sec_context);
}

void
sg_connect_spi(void)
{
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect returned %d", rc);
}

void
sg_finish_spi(void)
{
	int			rc = SPI_finish();

	if (rc != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish returned %d", rc);
}

/* Prepare a statement for the rest of the session. */
SPIPlanPtr
sg_prepare_kept(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * The acting user's id when that user is an active administrator; otherwise
 * 42501. Must run inside an owner scope with SPI connected.
 */
int64
sg_require_acting_admin(void)
{
	static SPIPlanPtr plan = NULL;
	int64		user_id = sg_acting_user_id();
	Datum		arg;
	int			rc;

	if (user_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("not acting as a SameGoal user"),
				 errhint("Call samegoal.sg_act_as(domain, login) first, in the same transaction.")));

	if (plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		plan = sg_prepare_kept("SELECT 1 FROM samegoal.users"
							   " WHERE id = $1 AND is_admin AND is_active",
							   1, argtypes);
	}
	arg = Int64GetDatum(user_id);
	rc = SPI_execute_plan(plan, &arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan returned %d", rc);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied: the acting user is not an active SameGoal administrator")));
	return user_id;
}

static int
sg_compare_int64_datums(const void *a, const void *b)
{
	int64		x = DatumGetInt64(*(const Datum *) a);
	int64		y = DatumGetInt64(*(const Datum *) b);

	return (x > y) - (x < y);
}

/*
 * A bigint[] argument as a sorted array of distinct ids. NULL, empty or holding
 * a NULL is 22023.
 */
ArrayType *
sg_distinct_id_array(FunctionCallInfo fcinfo, int argno, int *count)
{
	ArrayType  *input;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int			ndistinct = 0;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("document_ids must not be NULL")));
	input = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_ELEMTYPE(input) != INT8OID)
		elog(ERROR, "document_ids must be bigint[]");
	deconstruct_array(input, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &nelems);
	if (nelems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("document_ids must not be empty")));
	for (int i = 0; i < nelems; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("document_ids must not contain NULL")));

	qsort(elems, nelems, sizeof(Datum), sg_compare_int64_datums);
	for (int i = 0; i < nelems; i++)
		if (ndistinct == 0 || DatumGetInt64(elems[i]) != DatumGetInt64(elems[ndistinct - 1]))
			elems[ndistinct++] = elems[i];

	*count = ndistinct;
	return construct_array(elems, ndistinct, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
						   TYPALIGN_DOUBLE);
}

/* A text argument that must be neither NULL nor blank (22023). */
char *
sg_required_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *value;
	const char *p;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", argname)));
	value = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	for (p = value; *p; p++)
		if (!isspace((unsigned char) *p))
			return value;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s must not be blank", argname)));
	return NULL;				/* keep compiler quiet */
}
