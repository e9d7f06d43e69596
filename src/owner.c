/*-------------------------------------------------------------------------
 *
 * owner.c
 *	  Running SQL as the owner of the extension's tables, with a search_path
 *	  that no caller can plant objects in.
 *
 * The functions check the acting user themselves and then read and write
 * across districts, which the row-level security policies refuse to the
 * caller. They do that work as the owner of the extension's tables, as
 * ri_triggers.c runs its checks as a table's owner: SECURITY_NOFORCE_RLS lets
 * the owner see every row of its tables despite FORCE ROW LEVEL SECURITY, so
 * the owner need not be a superuser. The search_path is pinned to
 * pg_catalog, pg_temp, so the statements' unqualified operators and
 * functions are the built-in ones (pg_temp is never searched for those).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "samegoal.h"

/* The owner of samegoal.districts, and so of every table of the extension. */
static Oid
tables_owner(void)
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
	SetUserIdAndSecContext(tables_owner(),
						   scope->saved_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_NOFORCE_RLS);
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
