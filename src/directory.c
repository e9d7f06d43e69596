/*-------------------------------------------------------------------------
 *
 * directory.c
 *	  The district directory: sg_find_district, which an administrator
 *	  searches when choosing the district to transfer documents to.
 *
 * A search lists districts of the acting district's state, never the acting
 * district itself, matching the search text against domain and name, in five
 * ranks in this order: exact (the domain is the search), prefix (the domain
 * starts with it), word (the name or a word of it starts with it), substring
 * (the domain or the name holds it) and similar (typos). Each rank is appended to the result
 * in order, by its own statement, and runs only when the ranks above it
 * leave room: when they fill max_results, nothing below them is read. A rank
 * with many matches walks the state's districts in name order and stops at
 * max_results of them, rather than reading and sorting all of its matches.
 * Every statement is kept with a generic plan.
 *
 * All the directory reads is one state's districts, but a trigram index holds
 * the districts of every state: a trigram that most names or domains share
 * ("sch", "isd") stands for thousands of districts in it. So the words of the
 * names and the trigrams of the domains are also kept by state, in
 * district_words and district_label_trigrams (filled by triggers on
 * districts), whose btree indexes read one state's districts only:
 *
 * - The word rank is a range of district_words: the words that start with
 *   the search's first word.
 * - The similar rank corrects typos word by word, in directory_similar.c
 *   (a large state from its copy in memory, directory_cache.c) and
 *   directory_typos.c (pg_trgm); the words and patterns of a search are made
 *   in directory_text.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/tuplestore.h"

#include "samegoal.h"
#include "directory.h"
#include "identity.h"
#include "owner.h"
#include "spi.h"

#define DIRECTORY_MAX_RESULTS	1000
#define DIRECTORY_COLUMNS		8

/* Append one row of a directory statement to the function's result. */
static void
store_tuple(ReturnSetInfo *rsinfo, TupleDesc desc, HeapTuple tuple)
{
	Datum		values[DIRECTORY_COLUMNS];
	bool		nulls[DIRECTORY_COLUMNS];

	if (desc->natts != DIRECTORY_COLUMNS || rsinfo->setDesc->natts != DIRECTORY_COLUMNS)
		elog(ERROR, "directory statement returned %d columns, expected %d",
			 desc->natts, DIRECTORY_COLUMNS);

	for (int col = 0; col < DIRECTORY_COLUMNS; col++)
		values[col] = SPI_getbinval(tuple, desc, col + 1, &nulls[col]);
	/* The tuplestore copies the values into its own memory. */
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * Append the first count rows of a statement's result to the function's
 * result.
 */
static void
store_rows(ReturnSetInfo *rsinfo, SPITupleTable *tuptable, uint64 count)
{
	for (uint64 row = 0; row < count; row++)
		store_tuple(rsinfo, tuptable->tupdesc, tuptable->vals[row]);
}

/*
 * Append the rows of the last statement to the function's result; returns how
 * many.
 */
int32
directory_store_results(ReturnSetInfo *rsinfo)
{
	store_rows(rsinfo, SPI_tuptable, SPI_processed);
	return (int32) SPI_processed;
}

/* The state of the acting district. */
static SgStatement district_state_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT state FROM samegoal.districts WHERE id = $1", 1, INT8OID);

static Datum
acting_district_state(int64 district_id)
{
	Datum		arg = Int64GetDatum(district_id);
	bool		isnull;

	if (sg_execute(&district_state_statement, &arg) != 1)
		elog(ERROR, "acting district " INT64_FORMAT " is missing", district_id);
	return datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull),
					 false, -1);
}

/*
 * A walk of the state's districts in name order, read from the index on
 * (state, name, domain) alone, that keeps those meeting a rank's condition
 * and stops at limit of them: what a rank costs when many districts hold the
 * search. Each walk is written as WALK(condition on w) and returns the
 * directory columns in name order. When k of every n districts of the state
 * meet the condition, it reads about limit * n / k index entries, so the
 * ranks walk only when they know (from a count capped at MANY_MATCHES) that
 * many districts meet their condition; fewer are read directly.
 */
#define MANY_MATCHES	200

#define WALK(condition) \
	"SELECT " DIRECTORY_SELECT_LIST \
	"  FROM (SELECT w.id FROM samegoal.districts w" \
	"         WHERE w.state = $1 AND w.id <> $2 AND " condition \
	"         ORDER BY w.name, w.domain" \
	"         LIMIT $5) c" \
	"  JOIN samegoal.districts d ON d.id = c.id" \
	" ORDER BY d.name, d.domain"

/*
 * The exact and prefix ranks (the domain is the search, the domain starts
 * with it): the range of the index
 * on (state, lower(domain)) from the search up to the least string above
 * every string it starts, in bytewise order, read from the index alone, put
 * in order (exact first, then by name); then the rows of the first limit.
 * Domain prefixes follow names ("maplef" is the start of Maplefield's
 * domains), so a walk in name order would read every name before them.
 * When no string is above the search, the prefixes are walked in name order.
 * Parameters: $1 state, $2 acting district id, $3 lowered search, $4 the
 * string above (the prefix pattern for the walk), $5 limit.
 */
static SgStatement domain_prefixes_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT " DIRECTORY_SELECT_LIST
					"  FROM (SELECT w.id, lower(w.domain) = $3 AS exact, w.name, w.domain"
					"          FROM samegoal.districts w"
					"         WHERE w.state = $1"
					"           AND lower(w.domain) COLLATE \"C\" >= $3"
					"           AND lower(w.domain) COLLATE \"C\" < $4"
					"           AND w.id <> $2"
					"         ORDER BY exact DESC, w.name, w.domain"
					"         LIMIT $5) c"
					"  JOIN samegoal.districts d ON d.id = c.id"
					" ORDER BY c.exact DESC, d.name, d.domain",
					5, TEXTOID, INT8OID, TEXTOID, TEXTOID, INT4OID);

static SgStatement exact_domain_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT " DIRECTORY_SELECT_LIST
					"  FROM samegoal.districts d"
					" WHERE lower(d.domain) = $3 AND d.state = $1 AND d.id <> $2",
					3, TEXTOID, INT8OID, TEXTOID);

static SgStatement domain_prefix_walk_statement =
SG_QUERY(SG_GENERIC_PLAN, WALK("lower(w.domain) LIKE $4 AND lower(w.domain) <> $3"),
					5, TEXTOID, INT8OID, TEXTOID, TEXTOID, INT4OID);

/* Append the exact and prefix ranks to the result, up to limit; returns how many. */
static int32
find_exact_and_prefix(ReturnSetInfo *rsinfo, Datum state, int64 district_id,
					 const DirectorySearch *search, int32 limit)
{
	text	   *above = directory_above_prefix(search->lowered);
	Datum		args[5];
	int32		found;

	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->lowered);
	args[4] = Int32GetDatum(limit);
	if (above != NULL)
	{
		args[3] = PointerGetDatum(above);
		(void) sg_execute(&domain_prefixes_statement, args);
		return directory_store_results(rsinfo);
	}

	(void) sg_execute(&exact_domain_statement, args);
	found = directory_store_results(rsinfo);
	if (found < limit)
	{
		args[3] = CStringGetTextDatum(search->prefix);
		args[4] = Int32GetDatum(limit - found);
		(void) sg_execute(&domain_prefix_walk_statement, args);
		found += directory_store_results(rsinfo);
	}
	return found;
}

/*
 * The parameters both statements of the word rank start with: $1 state, $2
 * acting district id, $3 prefix pattern, $4 word-prefix patterns, $5 limit.
 */
static void
word_rank_args(Datum *args, Datum state, int64 district_id, const DirectorySearch *search,
				int32 limit)
{
	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->prefix);
	args[3] = PointerGetDatum(search->word_prefix);
	args[4] = Int32GetDatum(limit);
}

/*
 * The word rank (the name or a word of it starts with the search, the domain
 * does not), up to limit, by name, appended to the result; returns how many. Found
 * through the words of the names that start with the search's first word,
 * which every one of them has, in the index of district_words; when
 * MANY_MATCHES names of the state or more hold such words, or the search
 * starts with no word, by a walk of the state's districts in name order.
 * Parameters: $1 state, $2 acting district id, $3 prefix pattern, $4
 * word-prefix patterns, $5 limit, $6 first word (lowered search for the
 * walk), $7 the string above every word that starts with it.
 */
static SgStatement word_prefix_count_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT count(*) FROM (SELECT FROM samegoal.district_words w"
					" WHERE w.state = $1 AND w.word >= $2 AND w.word < $3"
					" LIMIT " CppAsString2(MANY_MATCHES) ") w",
					3, TEXTOID, TEXTOID, TEXTOID);

static SgStatement word_prefixes_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT " DIRECTORY_SELECT_LIST
					"  FROM samegoal.districts d"
					" WHERE d.id IN (SELECT w.district_id FROM samegoal.district_words w"
					"                 WHERE w.state = $1 AND w.word >= $6 AND w.word < $7)"
					"   AND d.id <> $2 AND lower(d.name) LIKE ANY ($4)"
					"   AND NOT lower(d.domain) LIKE $3"
					" ORDER BY d.name, d.domain"
					" LIMIT $5",
					7, TEXTOID, INT8OID, TEXTOID, TEXTARRAYOID, INT4OID, TEXTOID, TEXTOID);

static SgStatement word_prefix_walk_statement =
SG_QUERY(SG_GENERIC_PLAN, WALK("strpos(lower(w.name), $6) > 0 AND lower(w.name) LIKE ANY ($4)"
						 " AND NOT lower(w.domain) LIKE $3"),
					6, TEXTOID, INT8OID, TEXTOID, TEXTARRAYOID, INT4OID, TEXTOID);

static int32
find_word(ReturnSetInfo *rsinfo, Datum state, int64 district_id,
				   const DirectorySearch *search, int32 limit)
{
	text	   *above = NULL;
	Datum		args[7];

	if (search->starts_with_word &&
		(above = directory_above_prefix(search->leading_word)) != NULL)
	{
		args[0] = state;
		args[1] = CStringGetTextDatum(search->leading_word);
		args[2] = PointerGetDatum(above);
		(void) sg_execute(&word_prefix_count_statement, args);
		if (sg_result_int64(0, 1) < MANY_MATCHES)
		{
			word_rank_args(args, state, district_id, search, limit);
			args[5] = CStringGetTextDatum(search->leading_word);
			args[6] = PointerGetDatum(above);
			(void) sg_execute(&word_prefixes_statement, args);
			return directory_store_results(rsinfo);
		}
	}

	word_rank_args(args, state, district_id, search, limit);
	args[5] = CStringGetTextDatum(search->lowered);
	(void) sg_execute(&word_prefix_walk_statement, args);
	return directory_store_results(rsinfo);
}

/*
 * The substring rank: districts whose domain or name holds the search, that
 * are of no rank above (NOT_PREFIX_NOR_WORD: neither the domain nor a word of
 * the name starts with it), up to limit, by name. Candidates come from the
 * trigram indexes, through a LIKE pattern holding the first word of the search of at
 * least three characters (a trigram); strpos() decides. The index reads only
 * the trigrams of that word: the other words of a search often hold trigrams
 * that nearly every domain or name holds ("k12", "exa", "sch"), whose long
 * posting lists cost far more to read than they narrow the candidates. The
 * first word, because people type the name that sets a district apart
 * ("area", "rockton") before the kind of district ("school district") that
 * most names share.
 *
 * In a state that holds a small share of all districts, the candidates are
 * ANDed with the state's, read from the index on state. In a state of
 * LARGE_STATE districts or more, or one holding a quarter of them or more,
 * that bitmap would cost more than it saves (and a plan made while the table
 * was small reads the whole state and filters it): the state is checked on
 * the candidates. A search without a word of three characters walks the
 * state's districts in name order: a trigram index would read all of itself.
 * Parameters: $1 state, $2 acting district id, $3 lowered search, $4 prefix
 * pattern, $5 word-prefix patterns, $6 candidate pattern, $7 limit.
 */
#define NOT_PREFIX_NOR_WORD(alias) \
	"NOT lower(" alias ".domain) LIKE $4 AND NOT lower(" alias ".name) LIKE ANY ($5)"

#define LARGE_STATE		2000

static SgStatement state_share_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT (SELECT count(*) FROM (SELECT FROM samegoal.districts d WHERE d.state = $1"
					"                            LIMIT " CppAsString2(LARGE_STATE) ") d) * 4"
					"       >= LEAST((SELECT c.reltuples FROM pg_catalog.pg_class c"
					"                  WHERE c.oid = 'samegoal.districts'::pg_catalog.regclass),"
					"                " CppAsString2(LARGE_STATE) " * 4)",
					1, TEXTOID);

static SgStatement substrings_state_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT " DIRECTORY_SELECT_LIST
					"  FROM samegoal.districts d"
					" WHERE d.state = $1 AND d.id <> $2"
					"   AND ((lower(d.domain) LIKE $6 AND strpos(lower(d.domain), $3) > 0)"
					"        OR (lower(d.name) LIKE $6 AND strpos(lower(d.name), $3) > 0))"
					"   AND " NOT_PREFIX_NOR_WORD("d")
					" ORDER BY d.name, d.domain"
					" LIMIT $7",
					7, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, INT4OID);

static SgStatement substrings_indexed_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT " DIRECTORY_SELECT_LIST
					"  FROM (SELECT * FROM samegoal.districts c"
					"         WHERE (lower(c.domain) LIKE $6 AND strpos(lower(c.domain), $3) > 0)"
					"            OR (lower(c.name) LIKE $6 AND strpos(lower(c.name), $3) > 0)"
					"        OFFSET 0) d"
					" WHERE d.state = $1 AND d.id <> $2 AND " NOT_PREFIX_NOR_WORD("d")
					" ORDER BY d.name, d.domain"
					" LIMIT $7",
					7, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, INT4OID);

static SgStatement substrings_walk_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT " DIRECTORY_SELECT_LIST
					"  FROM (SELECT w.id FROM samegoal.districts w"
					"         WHERE w.state = $1 AND w.id <> $2"
					"           AND (strpos(lower(w.domain), $3) > 0 OR strpos(lower(w.name), $3) > 0)"
					"           AND " NOT_PREFIX_NOR_WORD("w")
					"         ORDER BY w.name, w.domain"
					"         LIMIT $7) c"
					"  JOIN samegoal.districts d ON d.id = c.id"
					" ORDER BY d.name, d.domain",
					7, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, INT4OID);

/*
 * Whether the state is large in the sense above (the similar rank asks
 * too). States grow slowly and the answer only chooses a plan, so the
 * answers for the last STATE_SIZES_KEPT states are kept for STATE_SIZE_USES
 * searches each.
 */
#define STATE_SIZE_USES	256
#define STATE_SIZES_KEPT	8

bool
directory_state_is_large(Datum state)
{
	static struct
	{
		char		state[8];
		bool		large;
		int			uses_left;
	}			known[STATE_SIZES_KEPT];
	static int	next = 0;
	char	   *name = TextDatumGetCString(state);
	bool		isnull;
	int			i;

	for (i = 0; i < STATE_SIZES_KEPT; i++)
		if (known[i].uses_left > 0 && strcmp(name, known[i].state) == 0)
		{
			known[i].uses_left--;
			return known[i].large;
		}
	(void) sg_execute(&state_share_statement, &state);
	i = next;
	next = (next + 1) % STATE_SIZES_KEPT;
	known[i].large = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
												&isnull));
	strlcpy(known[i].state, name, sizeof(known[i].state));
	/* A longer name than a state's is not kept. */
	known[i].uses_left = strlen(name) < sizeof(known[i].state) ? STATE_SIZE_USES : 0;
	return known[i].large;
}

static int32
find_substring(ReturnSetInfo *rsinfo, Datum state, int64 district_id,
				const DirectorySearch *search, int32 limit)
{
	SgStatement *statement = &substrings_walk_statement;
	Datum		args[7];
	bool		isnull[7] = {false, false, false, false, false, false, false};

	if (search->has_trigram)
		statement = directory_state_is_large(state) ?
			&substrings_indexed_statement : &substrings_state_statement;
	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->lowered);
	args[3] = CStringGetTextDatum(search->prefix);
	args[4] = PointerGetDatum(search->word_prefix);
	/* The walk, for a search without a candidate, takes none. */
	args[5] = search->has_trigram ? CStringGetTextDatum(search->candidate) : (Datum) 0;
	isnull[5] = !search->has_trigram;
	args[6] = Int32GetDatum(limit);
	(void) sg_execute_nulls(statement, args, isnull);
	return directory_store_results(rsinfo);
}

/* The state's districts by name, up to limit. */
static SgStatement list_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT " DIRECTORY_SELECT_LIST
					"  FROM samegoal.districts d"
					" WHERE d.state = $1 AND d.id <> $2"
					" ORDER BY d.name, d.domain"
					" LIMIT $3",
					3, TEXTOID, INT8OID, INT4OID);

static void
list_districts(Datum state, int64 district_id, int32 limit)
{
	Datum		args[3];

	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = Int32GetDatum(limit);
	(void) sg_execute(&list_statement, args);
}



/* sg_find_district(search text, max_results integer) returns table: search the directory */
PG_FUNCTION_INFO_V1(sg_find_district);
Datum
sg_find_district(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SgOwnerScope scope;
	DirectorySearch search;
	int64		district_id;
	int32		limit;
	Datum		state;

	InitMaterializedSRF(fcinfo, 0);

	/* Memory allocated from here on belongs to SPI and is freed with it. */
	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	(void) sg_require_acting_admin();
	district_id = sg_acting_district_id();

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_results must not be NULL")));
	limit = PG_GETARG_INT32(1);
	if (limit < 1 || limit > DIRECTORY_MAX_RESULTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_results must be between 1 and %d", DIRECTORY_MAX_RESULTS)));

	state = acting_district_state(district_id);
	if (PG_ARGISNULL(0) || !directory_prepare_search(PG_GETARG_TEXT_PP(0), &search))
	{
		list_districts(state, district_id, limit);
		(void) directory_store_results(rsinfo);
	}
	else
	{
		int32		found = find_exact_and_prefix(rsinfo, state, district_id, &search, limit);

		/*
		 * Rank by rank, each appended in order; a rank runs only when those
		 * above it leave room.
		 */
		if (found < limit)
			found += find_word(rsinfo, state, district_id, &search, limit - found);
		if (found < limit)
			found += find_substring(rsinfo, state, district_id, &search, limit - found);
		if (found < limit && search.length >= SIMILARITY_MIN_CHARS &&
			search.length <= SIMILARITY_MAX_CHARS)
			directory_find_similar(rsinfo, state, district_id, &search, limit - found, found + 1);
	}

	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	return (Datum) 0;
}
