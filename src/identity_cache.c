/*-------------------------------------------------------------------------
 *
 * identity_cache.c
 *	  The lookup behind sg_act_as: the active user of a district by domain
 *	  and login, kept per backend so that an application's transactions do
 *	  not each pay for an SPI connection and two index searches.
 *
 * An entry maps the two arguments of sg_act_as, exactly as given, to the
 * user's and district's ids, with where and by which transaction the rows it
 * was read from were written (their ctid and xmin). It is used only when both
 * of these hold:
 *
 * - No change to users or districts was signalled since it was made. A
 *   statement trigger on each table (sg_identity_changed) invalidates the
 *   relcache entry of the table's primary key index. Like every invalidation,
 *   that reaches the other backends when the change commits, and this one at
 *   the end of the changing command, or at the rollback that undoes it; a
 *   relcache callback then empties the cache. Changes of the tables
 *   themselves (TRUNCATE, ALTER TABLE, DROP) invalidate the tables' own
 *   entries, which empty it too, as does a cache reset.
 * - Both rows are still the versions the entry was read from, as seen by the
 *   snapshot the lookup would have used. A committed change to either row
 *   (the user deactivated, their username or email changed, the domain
 *   changed, either deleted) makes that version invisible, so the entry is
 *   not used even in the moment between the change becoming visible and its
 *   invalidation arriving. This check reads two heap tuples by ctid, which is
 *   what a hit costs.
 *
 * A miss, or an entry found wanting, is looked up again through SPI and
 * stored. The cache holds only successful lookups: an unknown domain or
 * login, or an inactive user, is looked up every time.
 *
 * The fence of a node (node.c, version 1.2) is checked on every lookup, after
 * the district is found and before the login is: an entry exists only for a
 * state this node served when it was made, and a change of node_states (whose
 * statement trigger signals like the others) empties the cache.
 *
 * Nothing is cached in a database whose catalog has no such triggers (one
 * still at version 1.0 or 1.1, served by this library between updates): a
 * change to another row than the cached ones, such as a new user whose
 * username is a login that matched someone's email, would not be signalled.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "samegoal.h"
#include "spi.h"

/*
 * Entries by a 64-bit hash of the arguments; an entry found under a hash
 * holds the arguments themselves, which must be equal. When the cache holds
 * IDENTITY_CACHE_MAX entries it is emptied.
 */
#define IDENTITY_CACHE_MAX		10000
/* Longer arguments are looked up every time. */
#define IDENTITY_CACHE_MAX_KEY	512

typedef struct CachedIdentity
{
	uint64		hash;			/* the hash table's key */
	char	   *key;			/* domain, NUL, login */
	int			keylen;
	int64		user_id;
	int64		district_id;
	ItemPointerData user_tid;
	TransactionId user_xmin;
	ItemPointerData district_tid;
	TransactionId district_xmin;
} CachedIdentity;

/*
 * The tables and their primary key indexes, looked up when the cache is
 * first used after being emptied; InvalidOid until then.
 */
typedef struct IdentityRelations
{
	Oid			users;
	Oid			districts;
	Oid			users_pkey;
	Oid			districts_pkey;
	Oid			node_states_pkey;	/* InvalidOid before version 1.2 */
} IdentityRelations;

static HTAB *cache = NULL;
static uint64 cache_resets = 0;
static IdentityRelations relations;
static MemoryContext cache_context = NULL;

static void
identity_cache_create(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(CachedIdentity);
	ctl.hcxt = cache_context;
	cache = hash_create("samegoal identity cache", 256, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* Empty the cache and forget the relations (they may have been dropped). */
static void
identity_cache_reset(void)
{
	if (cache_context != NULL && (cache == NULL || hash_get_num_entries(cache) > 0))
	{
		MemoryContextReset(cache_context);
		identity_cache_create();
	}
	memset(&relations, 0, sizeof(relations));
	cache_resets++;
}

static void
identity_relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == relations.users || relid == relations.districts ||
		relid == relations.users_pkey || relid == relations.districts_pkey ||
		(OidIsValid(relations.node_states_pkey) && relid == relations.node_states_pkey))
		identity_cache_reset();
}

/*
 * Find the relations; false when the extension's tables are not there (then
 * nothing is cached).
 */
static bool
identity_cache_ready(void)
{
	Oid			nspid;

	if (cache_context == NULL)
	{
		cache_context = AllocSetContextCreate(CacheMemoryContext, "samegoal identity cache",
											  ALLOCSET_DEFAULT_SIZES);
		identity_cache_create();
		CacheRegisterRelcacheCallback(identity_relcache_callback, (Datum) 0);
	}
	if (OidIsValid(relations.users))
		return true;

	nspid = get_namespace_oid("samegoal", true);
	if (!OidIsValid(nspid))
		return false;
	relations.users = get_relname_relid("users", nspid);
	relations.districts = get_relname_relid("districts", nspid);
	relations.users_pkey = get_relname_relid("users_pkey", nspid);
	relations.districts_pkey = get_relname_relid("districts_pkey", nspid);
	relations.node_states_pkey = get_relname_relid("node_states_pkey", nspid);
	if (!OidIsValid(relations.users) || !OidIsValid(relations.districts) ||
		!OidIsValid(relations.users_pkey) || !OidIsValid(relations.districts_pkey) ||
		!OidIsValid(get_trigger_oid(relations.users, "users_identity_changed", true)) ||
		!OidIsValid(get_trigger_oid(relations.districts, "districts_identity_changed", true)) ||
		(OidIsValid(relations.node_states_pkey) &&
		 !OidIsValid(get_trigger_oid(get_relname_relid("node_states", nspid),
									 "node_states_identity_changed", true))))
	{
		memset(&relations, 0, sizeof(relations));
		return false;
	}
	return true;
}

/*
 * Whether the tuple at tid is visible to snapshot and was written by xmin:
 * the very version an entry was read from.
 */
static bool
tuple_is_current(Relation rel, const ItemPointerData *tid, TransactionId xmin, Snapshot snapshot)
{
	HeapTupleData tuple;
	Buffer		buffer;
	bool		current;

	/* A block vacuum truncated away would make the read fail. */
	if (ItemPointerGetBlockNumber(tid) >= RelationGetNumberOfBlocks(rel))
		return false;
	tuple.t_self = *tid;
	if (!heap_fetch(rel, snapshot, &tuple, &buffer, false))
		return false;
	current = TransactionIdEquals(HeapTupleHeaderGetRawXmin(tuple.t_data), xmin);
	ReleaseBuffer(buffer);
	return current;
}

/*
 * Whether both rows of the entry are still the versions it was read from;
 * *emptied tells whether the cache was emptied meanwhile (the entry is then
 * freed, and must not be used).
 */
static bool
entry_is_current(const CachedIdentity *entry, bool *emptied)
{
	uint64		resets = cache_resets;
	ItemPointerData user_tid = entry->user_tid;
	ItemPointerData district_tid = entry->district_tid;
	TransactionId user_xmin = entry->user_xmin;
	TransactionId district_xmin = entry->district_xmin;
	/* Opening them may take invalidations that make the cache forget them. */
	IdentityRelations known = relations;
	Relation	users = table_open(known.users, AccessShareLock);
	Relation	districts = table_open(known.districts, AccessShareLock);
	Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	bool		current;

	current = tuple_is_current(users, &user_tid, user_xmin, snapshot) &&
		tuple_is_current(districts, &district_tid, district_xmin, snapshot);
	UnregisterSnapshot(snapshot);
	table_close(districts, AccessShareLock);
	table_close(users, AccessShareLock);
	*emptied = cache_resets != resets;
	return current;
}

/*
 * The lookup: the active user of the district with this domain
 * (case-insensitive, blanks around it ignored) whose username or email is
 * this login, case-insensitively; the username wins. With where and by which
 * transaction both rows were written.
 */
static SgStatement identity_statement =
SG_STATEMENT("SELECT u.id, d.id, u.ctid, u.xmin, d.ctid, d.xmin"
			 "  FROM samegoal.districts d JOIN samegoal.users u ON u.district_id = d.id"
			 " WHERE lower(d.domain) = (SELECT lower(btrim($1, E' \\t\\r\\n')))"
			 "   AND (lower(u.username) = lower($2) OR lower(u.email) = lower($2))"
			 "   AND u.is_active"
			 " ORDER BY lower(u.username) = lower($2) DESC"
			 " LIMIT 1",
			 SPI_OK_SELECT, 2, TEXTOID, TEXTOID);

static bool
lookup_identity(const char *domain, const char *login, CachedIdentity *found)
{
	SgOwnerScope scope;
	Datum		args[2];
	bool		exists;

	args[0] = CStringGetTextDatum(domain);
	args[1] = CStringGetTextDatum(login);
	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	/* SG014 for a state this node does not serve, before the login is looked up. */
	(void) sg_check_state_served(sg_find_district_id(domain));
	exists = sg_execute(&identity_statement, args) == 1;
	if (exists)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		found->user_id = sg_result_int64(0, 1);
		found->district_id = sg_result_int64(0, 2);
		found->user_tid = *(ItemPointer) DatumGetPointer(SPI_getbinval(row, desc, 3, &isnull));
		found->user_xmin = DatumGetTransactionId(SPI_getbinval(row, desc, 4, &isnull));
		found->district_tid = *(ItemPointer) DatumGetPointer(SPI_getbinval(row, desc, 5, &isnull));
		found->district_xmin = DatumGetTransactionId(SPI_getbinval(row, desc, 6, &isnull));
	}
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	return exists;
}

/*
 * The user and district that sg_act_as(domain, login) acts as; false when
 * there is no such active user.
 */
bool
sg_resolve_identity(const char *domain, const char *login, int64 *user_id,
					int64 *district_id)
{
	int			domainlen = strlen(domain);
	int			keylen = domainlen + 1 + strlen(login);
	char	   *key = palloc(keylen + 1);
	uint64		hash;
	CachedIdentity *entry;
	CachedIdentity found;
	bool		emptied;

	memcpy(key, domain, domainlen + 1);
	strcpy(key + domainlen + 1, login);

	/* Changes committed by other sessions empty the cache first. */
	AcceptInvalidationMessages();
	if (!identity_cache_ready() || keylen > IDENTITY_CACHE_MAX_KEY)
	{
		if (!lookup_identity(domain, login, &found))
			return false;
		*user_id = found.user_id;
		*district_id = found.district_id;
		return true;
	}

	hash = hash_bytes_extended((const unsigned char *) key, keylen, 0);
	entry = hash_search(cache, &hash, HASH_FIND, NULL);
	/* The entry is used only if no invalidation emptied the cache meanwhile. */
	if (entry != NULL && entry->keylen == keylen && memcmp(entry->key, key, keylen) == 0 &&
		entry_is_current(entry, &emptied) && !emptied)
	{
		*user_id = entry->user_id;
		*district_id = entry->district_id;
		return true;
	}

	if (!lookup_identity(domain, login, &found))
		return false;
	*user_id = found.user_id;
	*district_id = found.district_id;

	/*
	 * The lookup may have taken invalidations that emptied the cache and
	 * forgot the relations; the entry is stored only if they are known.
	 */
	if (identity_cache_ready())
	{
		bool		exists;

		if (hash_get_num_entries(cache) >= IDENTITY_CACHE_MAX)
			identity_cache_reset();
		if (!identity_cache_ready())
			return true;
		found.key = MemoryContextAlloc(cache_context, keylen);
		memcpy(found.key, key, keylen);
		found.keylen = keylen;
		found.hash = hash;
		entry = hash_search(cache, &hash, HASH_ENTER, &exists);
		*entry = found;
	}
	return true;
}

/*
 * sg_identity_changed() returns trigger: after any statement that writes users
 * or districts, tell every backend's identity cache, at commit (this one's at
 * the end of the statement, or at rollback).
 */
PG_FUNCTION_INFO_V1(sg_identity_changed);
Datum
sg_identity_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			pkey;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "sg_identity_changed: not called as a statement trigger");
	pkey = SG_PRIMARY_KEY_INDEX(trigdata->tg_relation);
	CacheInvalidateRelcacheByRelid(OidIsValid(pkey) ? pkey :
								   RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
