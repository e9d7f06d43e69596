/*-------------------------------------------------------------------------
 *
 * directory.c
 *	  The district directory: sg_find_district, which an administrator
 *	  searches when choosing the district to transfer documents to.
 *
 * A search lists districts of the acting district's state, never the acting
 * district itself, matching the search text against domain and name:
 * exactly, as a prefix, as the prefix of a word of the name, as a substring,
 * or with typos, ranked in that order. Cheap statements first look for the
 * exact and prefix domain matches of the whole state and for the word-prefix
 * matches; when these fill max_results, nothing below them can enter.
 * Otherwise one statement finds and ranks the substring matches (the first
 * four ranks); only when they do not fill max_results are districts added by
 * similarity. Every statement is kept with a generic plan.
 *
 * All the directory reads is one state's districts, but a trigram index holds
 * the districts of every state: a trigram that most names or domains share
 * ("sch", "isd") stands for thousands of districts in it. So the words of the
 * names and the trigrams of the domains are also kept by state, in
 * district_words and district_label_trigrams (filled by triggers on
 * districts), whose btree indexes read one state's districts only:
 *
 * - The word-prefix rank is a range of district_words: the words that start
 *   with the search's first word.
 * - Typos are corrected word by word, in directory_typos.c; the words and
 *   patterns of a search are made in directory_text.c.
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
#include "spi.h"

#define DIRECTORY_MAX_RESULTS	1000
#define DIRECTORY_COLUMNS		8

/*
 * The substring statement, in two forms that differ only in how they find
 * candidates: through the trigram indexes, with a LIKE pattern holding the
 * first word of the search of at least three characters (a trigram), and by
 * reading the state's districts for searches without one, which would make a
 * trigram index read all of itself. Either way strpos() decides. The index
 * reads only the trigrams of that word: the other words of a search often
 * hold trigrams that nearly every domain or name holds ("k12", "exa", "sch"),
 * whose long posting lists cost far more to read than they narrow the
 * candidates. The first word, because people type the name that sets a
 * district apart ("area", "rockton") before the kind of district ("school
 * district") that most names share.
 * Parameters: $1 state, $2 acting district id, $3 lowered search, $4 prefix
 * pattern, $5 candidate pattern, $6 word-prefix patterns, $7 limit.
 */
#define SUBSTRING_STATEMENT(test_domain, test_name) \
	"SELECT " DIRECTORY_SELECT_LIST \
	"  FROM samegoal.districts d" \
	" WHERE d.state = $1 AND d.id <> $2 AND (" test_domain " OR " test_name ")" \
	" ORDER BY CASE WHEN lower(d.domain) = $3 THEN 0" \
	"               WHEN lower(d.domain) LIKE $4 THEN 1" \
	"               WHEN lower(d.name) LIKE ANY ($6) THEN 2" \
	"               ELSE 3 END," \
	"          d.name, d.domain" \
	" LIMIT $7"

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
DIRECTORY_STATEMENT("SELECT state FROM samegoal.districts WHERE id = $1", 1, INT8OID);

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
 * The first two ranks, exact domain and domain prefix, over the whole state,
 * up to limit, ranked: the domains from the search up to the least string
 * above every string it starts, a range of the index on (state,
 * lower(domain)) in bytewise order. Returns false when there is no such
 * string. Parameters: $1 state, $2 acting district id, $3 lowered search, $4
 * the string above, $5 limit.
 */
static SgStatement domain_prefixes_statement =
DIRECTORY_STATEMENT("SELECT " DIRECTORY_SELECT_LIST
					"  FROM samegoal.districts d"
					" WHERE d.state = $1"
					"   AND lower(d.domain) COLLATE \"C\" >= $3"
					"   AND lower(d.domain) COLLATE \"C\" < $4"
					"   AND d.id <> $2"
					" ORDER BY CASE WHEN lower(d.domain) = $3 THEN 0 ELSE 1 END,"
					"          d.name, d.domain"
					" LIMIT $5",
					5, TEXTOID, INT8OID, TEXTOID, TEXTOID, INT4OID);

static bool
find_domain_prefixes(Datum state, int64 district_id, const DirectorySearch *search,
					 int32 limit)
{
	text	   *above = directory_above_prefix(search->lowered);
	Datum		args[5];

	if (above == NULL)
		return false;
	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->lowered);
	args[3] = PointerGetDatum(above);
	args[4] = Int32GetDatum(limit);
	(void) sg_execute(&domain_prefixes_statement, args);
	return true;
}

/*
 * The parameters both statements of the third rank start with: $1 state, $2
 * acting district id, $3 prefix pattern, $4 word-prefix patterns, $5 limit.
 */
static void
third_rank_args(Datum *args, Datum state, int64 district_id, const DirectorySearch *search,
				int32 limit)
{
	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->prefix);
	args[3] = PointerGetDatum(search->word_prefix);
	args[4] = Int32GetDatum(limit);
}

/*
 * Districts of the third rank (a word of the name starts with the search, the
 * domain does not) among the state's first NAME_WINDOW districts by name, up
 * to limit, by name. A district past them comes after each of them by name,
 * so when this fills what the first two ranks left of max_results, no other
 * district can displace them: a search for a word most names share ("school
 * di") is answered without reading the many districts that hold it.
 * Parameters: $1 state, $2 acting district id, $3 prefix pattern, $4
 * word-prefix patterns, $5 limit, $6 lowered search.
 */
#define NAME_WINDOW		60

static SgStatement word_prefixes_first_statement =
DIRECTORY_STATEMENT("SELECT " DIRECTORY_SELECT_LIST
					"  FROM (SELECT w.* FROM samegoal.districts w"
					"         WHERE w.state = $1 AND w.id <> $2"
					"         ORDER BY w.name, w.domain"
					"         LIMIT " CppAsString2(NAME_WINDOW) ") d"
					" WHERE strpos(lower(d.name), $6) > 0 AND lower(d.name) LIKE ANY ($4)"
					"   AND NOT lower(d.domain) LIKE $3"
					" ORDER BY d.name, d.domain"
					" LIMIT $5",
					6, TEXTOID, INT8OID, TEXTOID, TEXTARRAYOID, INT4OID, TEXTOID);

static void
find_word_prefixes_first(Datum state, int64 district_id, const DirectorySearch *search,
						 int32 limit)
{
	Datum		args[6];

	third_rank_args(args, state, district_id, search, limit);
	args[5] = CStringGetTextDatum(search->lowered);
	(void) sg_execute(&word_prefixes_first_statement, args);
}

/*
 * Districts of the third rank (a word of the name starts with the search, the
 * domain does not), up to limit, by name: found through the words of their
 * names that start with the search's first word, which every one of them has,
 * in the index of district_words. Returns false, without looking, when the
 * search starts with no word, or when WORD_PREFIX_MANY names of the state or
 * more hold words starting with it: the state's first districts by name are
 * then the cheaper place to look (find_word_prefixes_first).
 * Parameters: $1 state, $2 acting district id, $3 prefix pattern, $4
 * word-prefix patterns, $5 limit, $6 first word, $7 the string above every
 * word that starts with it.
 */
#define WORD_PREFIX_MANY	200

static SgStatement word_prefix_count_statement =
DIRECTORY_STATEMENT("SELECT count(*) FROM (SELECT FROM samegoal.district_words w"
					" WHERE w.state = $1 AND w.word >= $2 AND w.word < $3"
					" LIMIT " CppAsString2(WORD_PREFIX_MANY) ") w",
					3, TEXTOID, TEXTOID, TEXTOID);

static SgStatement word_prefixes_statement =
DIRECTORY_STATEMENT("SELECT " DIRECTORY_SELECT_LIST
					"  FROM samegoal.districts d"
					" WHERE d.id IN (SELECT w.district_id FROM samegoal.district_words w"
					"                 WHERE w.state = $1 AND w.word >= $6 AND w.word < $7)"
					"   AND d.id <> $2 AND lower(d.name) LIKE ANY ($4)"
					"   AND NOT lower(d.domain) LIKE $3"
					" ORDER BY d.name, d.domain"
					" LIMIT $5",
					7, TEXTOID, INT8OID, TEXTOID, TEXTARRAYOID, INT4OID, TEXTOID, TEXTOID);

static bool
find_word_prefixes(Datum state, int64 district_id, const DirectorySearch *search, int32 limit)
{
	text	   *above;
	Datum		args[7];

	if (!search->starts_with_word || (above = directory_above_prefix(search->leading_word)) == NULL)
		return false;

	args[0] = state;
	args[1] = CStringGetTextDatum(search->leading_word);
	args[2] = PointerGetDatum(above);
	(void) sg_execute(&word_prefix_count_statement, args);
	if (sg_result_int64(0, 1) >= WORD_PREFIX_MANY)
		return false;

	third_rank_args(args, state, district_id, search, limit);
	args[5] = CStringGetTextDatum(search->leading_word);
	args[6] = PointerGetDatum(above);
	(void) sg_execute(&word_prefixes_statement, args);
	return true;
}

/* Districts whose domain or name holds the search, up to limit, ranked. */
static SgStatement substrings_indexed_statement =
DIRECTORY_STATEMENT(SUBSTRING_STATEMENT("(lower(d.domain) LIKE $5 AND strpos(lower(d.domain), $3) > 0)",
										"(lower(d.name) LIKE $5 AND strpos(lower(d.name), $3) > 0)"),
					7, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID);

static SgStatement substrings_short_statement =
DIRECTORY_STATEMENT(SUBSTRING_STATEMENT("strpos(lower(d.domain), $3) > 0",
										"strpos(lower(d.name), $3) > 0"),
					7, TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID);

static void
find_substrings(Datum state, int64 district_id, const DirectorySearch *search, int32 limit)
{
	Datum		args[7];


	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->lowered);
	args[3] = CStringGetTextDatum(search->prefix);
	args[4] = search->has_trigram ? CStringGetTextDatum(search->candidate) :
		CStringGetTextDatum("");
	args[5] = PointerGetDatum(search->word_prefix);
	args[6] = Int32GetDatum(limit);
	(void) sg_execute(search->has_trigram ? &substrings_indexed_statement :
					  &substrings_short_statement, args);
}

/* The state's districts by name, up to limit. */
static SgStatement list_statement =
DIRECTORY_STATEMENT("SELECT " DIRECTORY_SELECT_LIST
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
		int32		found;

		/*
		 * When the first ranks alone fill max_results, they are the answer,
		 * found without reading every district that holds the search.
		 */
		if (find_domain_prefixes(state, district_id, &search, limit))
		{
			SPITupleTable *prefixes = SPI_tuptable;
			uint64		nprefixes = SPI_processed;

			if (nprefixes == (uint64) limit)
			{
				(void) directory_store_results(rsinfo);
				goto done;
			}
			if (!find_word_prefixes(state, district_id, &search, limit - (int32) nprefixes))
				find_word_prefixes_first(state, district_id, &search, limit - (int32) nprefixes);
			if (nprefixes + SPI_processed == (uint64) limit)
			{
				store_rows(rsinfo, prefixes, nprefixes);
				(void) directory_store_results(rsinfo);
				goto done;
			}
		}

		/* Every substring match ranks above every match by similarity. */
		find_substrings(state, district_id, &search, limit);
		found = directory_store_results(rsinfo);
		if (found < limit && search.length >= SIMILARITY_MIN_CHARS &&
			search.length <= SIMILARITY_MAX_CHARS)
			directory_find_similar(rsinfo, state, district_id, &search, limit - found, found + 1);
	}

done:
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	return (Datum) 0;
}
