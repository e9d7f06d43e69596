/*-------------------------------------------------------------------------
 *
 * directory_cache.c
 *	  A large state's directory kept in the session's memory: its districts
 *	  in name order with the first labels of their domains, and, by state,
 *	  the lists of districts holding each label trigram and each word of a
 *	  name (district_label_trigrams and district_words, in memory). The
 *	  similar rank of a large state (directory_similar.c) reads it rather
 *	  than counting thousands of index entries per search.
 *
 * A copy is used only while it is exactly what the tables hold under the
 * search's snapshot. Every statement that changes a state's districts (which
 * exist, their names, their domains) raises the version of the state's row in
 * directory_states in its own transaction, through the triggers on districts;
 * TRUNCATE and sg_rebuild_directory delete the rows. A copy records the xmin
 * and version of the row it was read under, in the same snapshot as the rows
 * it holds, and is used only while the search sees that very row version:
 * every change creates a row version with another (xmin, version), and no
 * snapshot sees that version without every change before it.
 *
 * A state without a row (after a TRUNCATE, or districts restored without
 * their triggers) gets one from the search: see make_version_row. Where none
 * can be made, the state has no copy, and the similar rank reads it by SQL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "directory.h"

/* The copies kept, one per state, the least recently used replaced. */
#define STATES_KEPT		2

static StateDirectory *kept[STATES_KEPT];

static SgStatement version_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT s.xmin::pg_catalog.text::pg_catalog.int8, s.version"
					"  FROM samegoal.directory_states s WHERE s.state = $1",
					1, TEXTOID);

static SgStatement districts_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT d.id, split_part(lower(d.domain), '.', 1)"
					"  FROM samegoal.districts d WHERE d.state = $1"
					" ORDER BY d.name, d.domain",
					1, TEXTOID);

static SgStatement trigrams_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT t.trigram, t.district_id FROM samegoal.district_label_trigrams t"
					" WHERE t.state = $1 ORDER BY t.trigram, t.district_id",
					1, TEXTOID);

static SgStatement words_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT w.word, w.district_id FROM samegoal.district_words w"
					" WHERE w.state = $1 ORDER BY w.word, w.district_id",
					1, TEXTOID);

/*
 * A new version row for a state that has none, as the triggers would make it
 * (sg_directory_states_changed), unless another session made one meanwhile.
 */
static SgStatement make_version_statement =
SG_STATEMENT("INSERT INTO samegoal.directory_states AS s (state, version) VALUES ($1, 1)"
			 " ON CONFLICT (state) DO NOTHING"
			 " RETURNING s.xmin::pg_catalog.text::pg_catalog.int8, s.version",
			 SPI_OK_INSERT_RETURNING, 1, TEXTOID);

/* How long a search waits for another session that is making the same row. */
#define VERSION_ROW_WAIT_MS	10

/* A district's id and its place in name order. */
typedef struct IdRank
{
	int64		id;				/* first: sorted with sg_compare_int64 */
	int32		rank;
} IdRank;

/*
 * The keys (text, in bytewise order) and lists of name ranks of the last
 * statement's rows (key, district id), ordered by key; districts not in ranks
 * are left out.
 */
static void
read_lists(StateDirectory *dir, const IdRank *ranks, char ***keys, int32 **starts,
		   int32 **postings, int *nkeys)
{
	uint64		nrows = SPI_processed;
	int			n = 0;
	int32		npostings = 0;
	char	   *last = NULL;

	*keys = palloc(sizeof(char *) * Max(nrows, 1));
	*starts = palloc(sizeof(int32) * (nrows + 1));
	*postings = palloc(sizeof(int32) * Max(nrows, 1));
	for (uint64 row = 0; row < nrows; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		text	   *key = DatumGetTextPP(SPI_getbinval(tuple, desc, 1, &isnull));
		IdRank		probe = {.id = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull))};
		const IdRank *found = bsearch(&probe, ranks, dir->ndistricts, sizeof(IdRank),
									sg_compare_int64);
		int			len = VARSIZE_ANY_EXHDR(key);

		if (last == NULL || strlen(last) != (size_t) len ||
			memcmp(last, VARDATA_ANY(key), len) != 0)
		{
			last = pnstrdup(VARDATA_ANY(key), len);
			(*keys)[n] = last;
			(*starts)[n] = npostings;
			n++;
		}
		if (found != NULL)
			(*postings)[npostings++] = found->rank;
	}
	(*starts)[n] = npostings;
	*nkeys = n;
}

static StateDirectory *
read_state(Datum state, const char *name, int64 xmin, int64 version)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "samegoal state directory",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	StateDirectory *dir = palloc0(sizeof(StateDirectory));
	IdRank	   *ranks;
	uint64		nrows;

	dir->cxt = cxt;
	dir->state = pstrdup(name);
	dir->xmin = xmin;
	dir->version = version;

	/* SPI returns to its own memory after each statement. */
	nrows = sg_execute(&districts_statement, &state);
	MemoryContextSwitchTo(cxt);
	dir->ndistricts = (int) nrows;
	dir->ids = palloc(sizeof(int64) * Max(nrows, 1));
	dir->labels = palloc(sizeof(text *) * Max(nrows, 1));
	ranks = palloc(sizeof(IdRank) * Max(nrows, 1));
	for (uint64 row = 0; row < nrows; row++)
	{
		bool		isnull;
		Datum		label = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 2,
										  &isnull);

		dir->ids[row] = sg_result_int64(row, 1);
		dir->labels[row] = isnull ? NULL : DatumGetTextPCopy(label);
		ranks[row].id = dir->ids[row];
		ranks[row].rank = (int32) row;
	}
	qsort(ranks, nrows, sizeof(IdRank), sg_compare_int64);

	(void) sg_execute(&trigrams_statement, &state);
	MemoryContextSwitchTo(cxt);
	read_lists(dir, ranks, &dir->trigrams, &dir->trigram_starts, &dir->trigram_postings,
			   &dir->ntrigrams);
	(void) sg_execute(&words_statement, &state);
	MemoryContextSwitchTo(cxt);
	read_lists(dir, ranks, &dir->words, &dir->word_starts, &dir->word_postings,
			   &dir->nwords);
	pfree(ranks);

	MemoryContextSwitchTo(old);
	/* Complete: from here on it outlives the search. */
	MemoryContextSetParent(cxt, TopMemoryContext);
	return dir;
}

/*
 * Make the version row of a state that has none, as its tables' owner (the
 * search's owner scope), and set its xmin and version; false when none was
 * made. The copy is then read under the search's snapshot, which does not see
 * the new row but sees the districts the row stands for: a change to the
 * state committed since that snapshot was taken made a row through the
 * triggers, and the insert finds it and makes none; a change committed later
 * raises the version of this row. The row is made in a subtransaction of its
 * own, so its xmin is no other row version's, even when the transaction
 * deletes it and a later search makes it again.
 *
 * None is made, and the similar rank reads the state by SQL instead (the
 * same result, in more time), where a write is impossible or could fail a
 * search that would not fail otherwise:
 * - in a read-only transaction, and on a hot standby (the row comes from the
 *   primary there);
 * - under REPEATABLE READ or SERIALIZABLE: a row another session made since
 *   the transaction's snapshot would fail the insert with a serialization
 *   error, and under SERIALIZABLE the write could fail the transaction's
 *   commit;
 * - in parallel mode, where nothing may be written;
 * - when another session is making the same row and has not committed: the
 *   insert waits for it at most VERSION_ROW_WAIT_MS (a lock_timeout, in a
 *   subtransaction of its own) rather than until that session's transaction
 *   ends. The row it makes serves the next searches.
 * A row made here is gone if the transaction rolls back; the next search
 * makes it again.
 */
static bool
make_version_row(Datum state, int64 *xmin, int64 *version)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool made = false;

	if (XactReadOnly || RecoveryInProgress() || IsolationUsesXactSnapshot() ||
		IsInParallelMode())
		return false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int			nestlevel = NewGUCNestLevel();

		if (LockTimeout == 0 || LockTimeout > VERSION_ROW_WAIT_MS)
			(void) set_config_option("lock_timeout", CppAsString2(VERSION_ROW_WAIT_MS),
									 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
									 false);
		if (sg_execute(&make_version_statement, &state) == 1)
		{
			*xmin = sg_result_int64(0, 1);
			*version = sg_result_int64(0, 2);
			made = true;
		}
		AtEOXact_GUC(true, nestlevel);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(cxt);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (error->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(error);
		FreeErrorData(error);
	}
	PG_END_TRY();
	return made;
}

/*
 * The state's directory as the search's snapshot sees it, read now when no
 * kept copy is that; NULL when the state has no version row and none could
 * be made.
 */
const StateDirectory *
directory_state_copy(Datum state)
{
	char	   *name = TextDatumGetCString(state);
	int64		xmin;
	int64		version;
	StateDirectory *dir;
	int			slot;

	if (sg_execute(&version_statement, &state) == 1)
	{
		xmin = sg_result_int64(0, 1);
		version = sg_result_int64(0, 2);
	}
	else if (!make_version_row(state, &xmin, &version))
		return NULL;

	for (slot = 0; slot < STATES_KEPT; slot++)
		if (kept[slot] != NULL && strcmp(kept[slot]->state, name) == 0)
			break;
	if (slot < STATES_KEPT && kept[slot]->xmin == xmin && kept[slot]->version == version)
		dir = kept[slot];
	else
	{
		dir = read_state(state, name, xmin, version);
		if (slot == STATES_KEPT)
			slot = STATES_KEPT - 1;
		if (kept[slot] != NULL)
			MemoryContextDelete(kept[slot]->cxt);
		kept[slot] = dir;
	}
	/* Most recently used first. */
	for (; slot > 0; slot--)
		kept[slot] = kept[slot - 1];
	kept[0] = dir;
	return dir;
}

static int
compare_key(const void *key, const void *entry)
{
	return strcmp((const char *) key, *(char *const *) entry);
}

/* The list of name ranks of districts holding key; returns its length. */
int32
directory_state_list(char *const *keys, const int32 *starts, int nkeys, const char *key,
					 const int32 **ranks, const int32 *postings)
{
	char	   *const *found = bsearch(key, keys, nkeys, sizeof(char *), compare_key);

	if (found == NULL)
		return 0;
	*ranks = postings + starts[found - keys];
	return starts[found - keys + 1] - starts[found - keys];
}
