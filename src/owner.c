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
 * for the C code the owner need not be a superuser. The SQL functions that
 * read across districts (sg_request_transfer's lookup of the asked district)
 * do rely on it, as FORCE ROW LEVEL SECURITY binds any other owner; the
 * extension installs only as a superuser, who owns everything it makes
 * (sql/rls.sql asserts it). The search_path is pinned to
 * pg_catalog, pg_temp, so the statements' unqualified operators and
 * functions are the built-in ones (pg_temp is never searched for those).
 *
 * The C code finds the extension's relations through sg_extension_relation,
 * which accepts only members of the extension.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "commands/extension.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "samegoal.h"
#include "owner.h"

/*
 * The relation of this name in schema samegoal when it is a member of the
 * extension, else InvalidOid: an object that someone else created under the
 * same name (in a schema samegoal that a non-superuser came to own, say) is
 * never read, called, or run as anyone.
 */
Oid
sg_extension_relation(const char *relname)
{
	Oid			extension = get_extension_oid(SG_EXTENSION_NAME, true);
	Oid			nspid = get_namespace_oid("samegoal", true);
	Oid			relid;

	if (!OidIsValid(extension) || !OidIsValid(nspid))
		return InvalidOid;
	relid = get_relname_relid(relname, nspid);
	if (!OidIsValid(relid) || getExtensionOfObject(RelationRelationId, relid) != extension)
		return InvalidOid;
	return relid;
}

/*
 * Relations found by sg_extension_relation are kept until their relcache
 * entry is invalidated (a DROP, an ALTER, a DROP EXTENSION) or every entry is.
 * A relation that is missing is looked up again each time: only a database
 * between updates lacks one.
 */
#define MAX_KNOWN_RELATIONS 8

static SgKnownRelation *known_relations[MAX_KNOWN_RELATIONS];
static int	n_known_relations = 0;

static void
known_relations_callback(Datum arg, Oid relid)
{
	for (int i = 0; i < n_known_relations; i++)
		if (!OidIsValid(relid) || relid == known_relations[i]->relid)
			known_relations[i]->relid = InvalidOid;
}

Oid
sg_known_relation(SgKnownRelation *known)
{
	if (!known->registered)
	{
		if (n_known_relations == 0)
			CacheRegisterRelcacheCallback(known_relations_callback, (Datum) 0);
		if (n_known_relations >= MAX_KNOWN_RELATIONS)
			elog(ERROR, "too many known relations");
		known->relid = InvalidOid;
		known_relations[n_known_relations++] = known;
		known->registered = true;
	}
	if (!OidIsValid(known->relid))
		known->relid = sg_extension_relation(known->name);
	return known->relid;
}

/* The owner of samegoal.districts, and so of every table of the extension. */
static SgKnownRelation districts_relation = {.name = "districts"};

static Oid
tables_owner(void)
{
	Oid			relid = sg_known_relation(&districts_relation);
	HeapTuple	tuple;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table samegoal.districts of extension %s is missing", SG_EXTENSION_NAME)));
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
