/*-------------------------------------------------------------------------
 *
 * identity_cache.c
 *	  The lookup behind sg_act_as: the active user of a district by domain
 *	  and login, and the node fence of the district's state, as of the
 *	  latest committed state; the identities found kept per backend so that
 *	  an application's transactions do not each pay for an SPI connection and
 *	  two index searches.
 *
 * Like PostgreSQL's own privilege checks against its catalogs, the lookup
 * reads with a snapshot taken for it (GetLatestSnapshot), whatever the
 * transaction's isolation level: a change committed before the call is seen
 * by it, even inside a REPEATABLE READ or SERIALIZABLE transaction that began
 * earlier. District, user and fence are read with that one snapshot.
 *
 * An entry maps the two arguments of sg_act_as, exactly as given, to the
 * user's and district's ids and the district's state, with where and by which
 * transaction the two rows it was read from were written (their ctid and
 * xmin). A hit costs a read of those two heap tuples with a new latest
 * snapshot, and a scan of node_states:
 *
 * - The entry's own rows must still be the versions it was read from. Any
 *   committed change to either (the user deactivated, their username or email
 *   changed, the domain or state changed, either deleted) makes that version
 *   invisible, and the identity is looked up again. This is what keeps an
 *   entry right when one of its own rows changes; no trigger is needed for it.
 * - Other rows can make an entry wrong in one way only: a login that matched
 *   someone's email becomes another active user's username (the username
 *   wins). So a row trigger on users (sg_identity_changed: INSERT, UPDATE OF
 *   username, is_active, district_id) invalidates the relcache entry of the
 *   users' primary key index; like every invalidation it reaches the other
 *   backends when the change commits, and this one at the end of the
 *   command. A relcache callback then marks the cache stale, and the next
 *   lookup empties it. Changes of the tables themselves (TRUNCATE, ALTER
 *   TABLE, DROP) and a cache reset do the same. The trigger fires ALWAYS, and
 *   as a row trigger also in logical replication's apply.
 * - The fence (node.c) is read on every call, hit or miss, so it holds
 *   whatever wrote node_states and whenever.
 *
 * A lookup during which the cache was marked stale is used but not stored:
 * it may have read a row that the invalidation's change replaced. The cache
 * holds only successful lookups: an unknown domain or login, or an inactive
 * user, is looked up every time.
 *
 * Nothing is cached in a database whose catalog has no such trigger (one at
 * a version before 1.2.1, served by this library between updates).
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
#include "args.h"
#include "identity.h"
#include "node.h"
#include "owner.h"
#include "rules.h"
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
	size_t		keylen;
	int64		user_id;
	int64		district_id;
	char		state[3];		/* the district's state, for the fence */
	ItemPointerData user_tid;
	TransactionId user_xmin;
	ItemPointerData district_tid;
	TransactionId district_xmin;
} CachedIdentity;

/*
 * The tables and the primary key index that the trigger invalidates, looked
 * up when the cache is first used after being emptied; InvalidOid until then.
 */
typedef struct IdentityRelations
{
	Oid			users;
	Oid			districts;
	Oid			users_pkey;
} IdentityRelations;

static HTAB *cache = NULL;
static MemoryContext cache_context = NULL;
static IdentityRelations relations;

/*
 * Set by the invalidation callback, which does nothing else (it may run in
 * the middle of any catalog access); the cache is emptied on its next use.
 */
static bool cache_stale = false;

static void
identity_relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == relations.users || relid == relations.districts ||
		relid == relations.users_pkey)
		cache_stale = true;
}

/* Empty the cache and forget the relations (they may have been dropped). */
static void
identity_cache_empty(void)
{
	HASHCTL		ctl;

	MemoryContextReset(cache_context);
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(CachedIdentity);
	ctl.hcxt = cache_context;
	cache = hash_create("samegoal identity cache", 256, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	memset(&relations, 0, sizeof(relations));
	cache_stale = false;
}

/*
 * Empty a stale cache and find the relations; false when the extension's
 * tables or the trigger are not there (then nothing is cached).
 */
static bool
identity_cache_ready(void)
{
	if (cache_context == NULL)
	{
		/* The callback first: the statics below assume it runs. */
		CacheRegisterRelcacheCallback(identity_relcache_callback, (Datum) 0);
		cache_context = AllocSetContextCreate(CacheMemoryContext, "samegoal identity cache",
											  ALLOCSET_DEFAULT_SIZES);
		cache_stale = true;
	}
	if (cache_stale)
		identity_cache_empty();
	if (OidIsValid(relations.users))
		return true;

	relations.users = sg_extension_relation("users");
	relations.districts = sg_extension_relation("districts");
	if (OidIsValid(relations.users))
	{
		/* An index belongs to its table, not to the extension: found through it. */
		Relation	users = table_open(relations.users, AccessShareLock);

		relations.users_pkey = SG_PRIMARY_KEY_INDEX(users);
		table_close(users, AccessShareLock);
	}
	if (!OidIsValid(relations.users) || !OidIsValid(relations.districts) ||
		!OidIsValid(relations.users_pkey) ||
		!OidIsValid(get_trigger_oid(relations.users, "users_identity_changed", true)))
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

/* Whether both rows of the entry are still the versions it was read from. */
static bool
entry_is_current(const CachedIdentity *entry, Snapshot snapshot)
{
	Relation	users = table_open(relations.users, AccessShareLock);
	Relation	districts = table_open(relations.districts, AccessShareLock);
	bool		current;

	current = tuple_is_current(users, &entry->user_tid, entry->user_xmin, snapshot) &&
		tuple_is_current(districts, &entry->district_tid, entry->district_xmin, snapshot);
	table_close(districts, AccessShareLock);
	table_close(users, AccessShareLock);
	return current;
}

/*
 * The lookup: the district with this domain, its state, and the active user
 * of it with this login, by the rules of rules.h (the blanks around the
 * domain trimmed first, as sg_find_district_id does); with where and by which
 * transaction both rows were written. The district comes back without
 * a user when there is no such user, so that the fence answers first.
 */
static SgStatement identity_statement =
SG_STATEMENT("SELECT d.id, d.state, d.ctid, d.xmin, u.id, u.ctid, u.xmin"
			 "  FROM samegoal.districts d"
			 "  LEFT JOIN LATERAL ("
			 "    SELECT u.id, u.ctid, u.xmin FROM samegoal.users u"
			 "     WHERE u.district_id = d.id AND " SG_ACTIVE_LOGIN_IS("u", "$2")
			 "     ORDER BY " SG_USERNAME_FIRST("u", "$2")
			 "     LIMIT 1) u ON true"
			 " WHERE " SG_DOMAIN_IS("d", "$1"),
			 SPI_OK_SELECT, 2, TEXTOID, TEXTOID);

/*
 * Fills found and returns true when the user exists; SG014 for a district
 * whose state this node does not serve, before the login counts.
 */
static bool
lookup_identity(const char *domain, const char *login, Snapshot snapshot,
				CachedIdentity *found)
{
	SgOwnerScope scope;
	Datum		args[2];
	bool		exists = false;

	args[0] = CStringGetTextDatum(sg_trim_blanks(domain));
	args[1] = CStringGetTextDatum(login);
	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	if (sg_execute_with_snapshot(&identity_statement, args, snapshot) == 1)
	{
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *state = SPI_getvalue(row, desc, 2);

		sg_check_state_served(state, snapshot);
		(void) SPI_getbinval(row, desc, 5, &isnull);
		exists = !isnull;
		if (exists)
		{
			found->district_id = sg_result_int64(0, 1);
			strlcpy(found->state, state, sizeof(found->state));
			found->district_tid = *(ItemPointer) DatumGetPointer(SPI_getbinval(row, desc, 3, &isnull));
			found->district_xmin = DatumGetTransactionId(SPI_getbinval(row, desc, 4, &isnull));
			found->user_id = sg_result_int64(0, 5);
			found->user_tid = *(ItemPointer) DatumGetPointer(SPI_getbinval(row, desc, 6, &isnull));
			found->user_xmin = DatumGetTransactionId(SPI_getbinval(row, desc, 7, &isnull));
		}
	}
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	return exists;
}

/* Store a lookup, unless the cache went stale while it ran. */
static void
identity_cache_store(const CachedIdentity *found, const char *key, size_t keylen, uint64 hash)
{
	CachedIdentity *entry;
	bool		exists;

	if (cache_stale || !OidIsValid(relations.users))
		return;
	if (hash_get_num_entries(cache) >= IDENTITY_CACHE_MAX)
	{
		identity_cache_empty();
		return;
	}
	entry = hash_search(cache, &hash, HASH_ENTER, &exists);
	*entry = *found;
	entry->hash = hash;
	entry->key = MemoryContextAlloc(cache_context, keylen);
	memcpy(entry->key, key, keylen);
	entry->keylen = keylen;
}

/*
 * The user and district that sg_act_as(domain, login) acts as; false when
 * there is no such active user; SG014 when this node does not serve the
 * district's state.
 */
bool
sg_resolve_identity(const char *domain, const char *login, int64 *user_id,
					int64 *district_id)
{
	size_t		domainlen = strlen(domain);
	size_t		loginlen = strlen(login);
	bool		cacheable;
	char	   *key = NULL;
	size_t		keylen = 0;
	uint64		hash = 0;
	CachedIdentity *entry = NULL;
	CachedIdentity found;
	Snapshot	snapshot;
	bool		exists;

	/* Changes committed by other sessions mark the cache stale first. */
	AcceptInvalidationMessages();
	cacheable = identity_cache_ready() &&
		domainlen <= IDENTITY_CACHE_MAX_KEY && loginlen <= IDENTITY_CACHE_MAX_KEY;
	if (cacheable)
	{
		keylen = domainlen + 1 + loginlen;
		key = palloc(keylen + 1);
		memcpy(key, domain, domainlen + 1);
		memcpy(key + domainlen + 1, login, loginlen + 1);
		hash = hash_bytes_extended((const unsigned char *) key, keylen, 0);
		entry = hash_search(cache, &hash, HASH_FIND, NULL);
		if (entry != NULL && (entry->keylen != keylen || memcmp(entry->key, key, keylen) != 0))
			entry = NULL;
	}

	/* An error releases the snapshot with the (sub)transaction's resources. */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	/* Opening the tables may take invalidations: then the entry is not used. */
	if (entry != NULL && entry_is_current(entry, snapshot) && !cache_stale)
	{
		found = *entry;
		sg_check_state_served(found.state, snapshot);
		exists = true;
	}
	else
	{
		exists = lookup_identity(domain, login, snapshot, &found);
		if (exists && cacheable)
			identity_cache_store(&found, key, keylen, hash);
	}
	UnregisterSnapshot(snapshot);

	if (!exists)
		return false;
	*user_id = found.user_id;
	*district_id = found.district_id;
	return true;
}

/*
 * sg_identity_changed() returns trigger: a row trigger on users (or a
 * statement trigger, for TRUNCATE) whose change may give a login another
 * user: tell every backend's identity cache, at commit (this one's at the end
 * of the command, or at rollback). Invalidating the primary key index's
 * relcache entry, not the table's, leaves the table's plans alone; a
 * statement's rows each ask again, and the invalidation is queued once.
 */
PG_FUNCTION_INFO_V1(sg_identity_changed);
Datum
sg_identity_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			pkey;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "sg_identity_changed: not called as a trigger");
	pkey = SG_PRIMARY_KEY_INDEX(trigdata->tg_relation);
	CacheInvalidateRelcacheByRelid(OidIsValid(pkey) ? pkey :
								   RelationGetRelid(trigdata->tg_relation));

	if (!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || TRIGGER_FIRED_AFTER(trigdata->tg_event))
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		return PointerGetDatum(trigdata->tg_newtuple);
	return PointerGetDatum(trigdata->tg_trigtuple);
}
