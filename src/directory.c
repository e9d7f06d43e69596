/*-------------------------------------------------------------------------
 *
 * directory.c
 *	  The district directory: sg_find_district, which an administrator
 *	  searches when choosing the district to transfer documents to.
 *
 * A search lists districts of the acting district's state, never the acting
 * district itself, matching the search text against domain and name:
 * exactly, as a prefix, as the prefix of a word of the name, as a substring,
 * or by trigram similarity (pg_trgm), ranked in that order. Two cheap
 * statements first look for the exact and prefix domain matches of the whole
 * state and for word-prefix matches among the first districts by name; when
 * these fill max_results, nothing below them can enter. Otherwise one
 * statement finds and ranks the substring matches (the first four ranks);
 * only when they do not fill max_results does another add districts by
 * similarity. The statements are kept with generic plans, which the GIN
 * trigram indexes on lower(domain), lower(name) and the domain's first label,
 * ANDed with the index on state, serve.
 *
 * pg_trgm may live in any schema, so its schema is looked up at run time and
 * the similarity statement is prepared again when pg_trgm has moved.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

#include "samegoal.h"

#define DIRECTORY_MAX_RESULTS	1000
#define DIRECTORY_COLUMNS		8

/*
 * Typo tolerance: the search matches a district by pg_trgm's word similarity
 * (<%) to its name, or of the search's first label (up to the first dot) to
 * the domain's first label, from a threshold on. Only first labels are
 * compared because the rest of a domain (".k12.or.us") is shared by many
 * districts and would make every domain of a state look alike.
 *
 * pg_trgm's default threshold (0.6) misses most swaps of two letters in one
 * word: "elsmide" scores 0.33 against "Elmside". A search of several words
 * keeps the trigrams of its other words and scores higher ("elsmide school"
 * 0.6 against "Elmside School District"), while a word that most names share
 * alone lifts every such name above 0.3 ("greenivew school" 0.41 against
 * "Oakdale School District"), and makes the index return all of them; so
 * several words need more.
 */
#define SIMILARITY_THRESHOLD_ONE_WORD	"0.3"
#define SIMILARITY_THRESHOLD_WORDS		"0.45"

/*
 * Below SIMILARITY_MIN_CHARS characters a search finds nothing by similarity
 * that it does not find as a substring. Above SIMILARITY_MAX_CHARS it is no
 * mistyped district name, and pg_trgm would compare all of it with every
 * candidate, in time that grows with its length; such searches match as
 * substrings only.
 */
#define SIMILARITY_MIN_CHARS	3
#define SIMILARITY_MAX_CHARS	128

/* The directory columns, as every statement returns them. */
#define DIRECTORY_SELECT_LIST \
	"d.domain, d.name, d.city, d.state, d.transfers_enabled," \
	" NULLIF(btrim(d.coordinator_name), ''), NULLIF(btrim(d.coordinator_email), '')," \
	" NULLIF(btrim(d.coordinator_phone), '')"

/*
 * The substring statement, in two forms that differ only in how they find
 * candidates: through the trigram indexes, with a LIKE pattern holding the
 * longest run of word characters of the search once it has three in a row (a
 * trigram), and by reading the state's districts for shorter searches, which
 * would make a trigram index read all of itself. Either way strpos() decides.
 * The index reads only the trigrams of that run: the other words of a search
 * often hold trigrams that nearly every domain or name holds ("k12",
 * "exa", "sch"), whose long posting lists cost far more to read than they
 * narrow the candidates.
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

/* The similarity statement and the schema of pg_trgm it was prepared for. */
static SPIPlanPtr similarity_plan = NULL;
static Oid	similarity_plan_trgm_schema = InvalidOid;

/* The search text in the forms the statements take. */
typedef struct DirectorySearch
{
	char	   *lowered;		/* trimmed and lower-cased */
	char	   *prefix;			/* LIKE pattern: starts with it */
	char	   *candidate;		/* LIKE pattern: contains its longest word */
	ArrayType  *word_prefix;	/* LIKE patterns: a word of the name starts with it */
	bool		has_trigram;	/* holds three word characters in a row */
	bool		starts_with_word;	/* its first character is a word character */
	char	   *leading_prefix; /* LIKE pattern: starts with its leading word */
	int			length;			/* in characters */
} DirectorySearch;

/* The namespace pg_trgm is installed in. */
static Oid
trgm_schema(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			schema = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("pg_trgm"));
	rel = table_open(ExtensionRelationId, AccessShareLock);
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		schema = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(schema))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"pg_trgm\" is not installed"),
				 errhint("Install it with CREATE EXTENSION pg_trgm.")));
	return schema;
}

/*
 * Prepare and keep a statement with a generic plan: its parameters only decide
 * which index entries are read, so one plan suits every call, and no call pays
 * for planning.
 */
static SPIPlanPtr
prepare_generic_kept(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare_cursor failed for \"%s\": %s",
			 sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

static void
execute_plan(SPIPlanPtr plan, Datum *args)
{
	int			rc = SPI_execute_plan(plan, args, NULL, true, 0);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan returned %d", rc);
}

/* The state of the acting district. */
static Datum
acting_district_state(int64 district_id)
{
	static SPIPlanPtr plan = NULL;
	Datum		arg = Int64GetDatum(district_id);
	bool		isnull;

	if (plan == NULL)
	{
		Oid			argtypes[1] = {INT8OID};

		plan = prepare_generic_kept("SELECT state FROM samegoal.districts WHERE id = $1",
									1, argtypes);
	}
	execute_plan(plan, &arg);
	if (SPI_processed != 1)
		elog(ERROR, "acting district " INT64_FORMAT " is missing", district_id);
	return datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull),
					 false, -1);
}

/* A LIKE pattern: before, then text matching only itself, then %. */
static char *
like_pattern(const char *before, const char *text)
{
	StringInfoData pattern;

	initStringInfo(&pattern);
	appendStringInfoString(&pattern, before);
	for (const char *p = text; *p; p++)
	{
		if (*p == '\\' || *p == '%' || *p == '_')
			appendStringInfoChar(&pattern, '\\');
		appendStringInfoChar(&pattern, *p);
	}
	appendStringInfoChar(&pattern, '%');
	return pattern.data;
}

/*
 * The longest run of word characters in text (the first of equals), or NULL
 * when none holds three characters, the least from which pg_trgm extracts a
 * trigram for a LIKE pattern. Every character outside ASCII counts as a word
 * character; if it is not one, a trigram index reads more than it needs.
 */
static char *
longest_word(const char *text)
{
	const char *best = NULL;
	int			best_chars = 0;
	size_t		best_bytes = 0;
	const char *start = NULL;
	int			chars = 0;

	for (const char *p = text;; p += pg_mblen(p))
	{
		if (*p != '\0' && (IS_HIGHBIT_SET(*p) || isalnum((unsigned char) *p)))
		{
			if (chars++ == 0)
				start = p;
			continue;
		}
		if (chars > best_chars)
		{
			best = start;
			best_chars = chars;
			best_bytes = p - start;
		}
		chars = 0;
		if (*p == '\0')
			break;
	}
	return best_chars >= 3 ? pnstrdup(best, best_bytes) : NULL;
}

/*
 * The search text in the forms the statements take, or false when it is blank.
 * Surrounding blanks are ignored.
 */
static bool
prepare_search(text *search, DirectorySearch *out)
{
	/* A word of a name starts the name or follows one of these. */
	static const char *const word_starts[] = {"", "% ", "%-", "%/", "%("};
	const char *blanks = " \t\r\n";
	char	   *raw = text_to_cstring(search);
	char	   *start = raw + strspn(raw, blanks);
	size_t		len = strlen(start);
	Datum		patterns[lengthof(word_starts)];
	char	   *word;

	while (len > 0 && strchr(blanks, start[len - 1]) != NULL)
		len--;
	if (len == 0)
		return false;

	out->lowered = str_tolower(start, len, DEFAULT_COLLATION_OID);
	out->prefix = like_pattern("", out->lowered);
	word = longest_word(out->lowered);
	out->has_trigram = word != NULL;
	out->starts_with_word = IS_HIGHBIT_SET(out->lowered[0]) ||
		isalnum((unsigned char) out->lowered[0]);
	{
		const char *end = out->lowered;

		while (*end && (IS_HIGHBIT_SET(*end) || isalnum((unsigned char) *end)))
			end += pg_mblen(end);
		out->leading_prefix = like_pattern("", pnstrdup(out->lowered, end - out->lowered));
	}
	out->candidate = word != NULL ? like_pattern("%", word) : NULL;
	for (int i = 0; i < (int) lengthof(word_starts); i++)
		patterns[i] = CStringGetTextDatum(like_pattern(word_starts[i], out->lowered));
	out->word_prefix = construct_array(patterns, lengthof(word_starts), TEXTOID, -1, false,
									   TYPALIGN_INT);
	out->length = pg_mbstrlen(out->lowered);
	return true;
}

/*
 * The first two ranks, exact domain and domain prefix, over the whole state,
 * up to limit, ranked: read through the trigram index on lower(domain), which
 * serves a prefix pattern from its first character on. The index reads the
 * trigrams of the search's leading word only; strpos() decides. Parameters:
 * $1 state, $2 acting district id, $3 lowered search, $4 prefix pattern, $5
 * limit, $6 prefix pattern of the leading word.
 */
static void
find_domain_prefixes(Datum state, int64 district_id, const DirectorySearch *search,
					 int32 limit)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[6];

	if (plan == NULL)
	{
		Oid			argtypes[6] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, INT4OID, TEXTOID};

		plan = prepare_generic_kept("SELECT " DIRECTORY_SELECT_LIST
									"  FROM samegoal.districts d"
									" WHERE lower(d.domain) LIKE $6 AND strpos(lower(d.domain), $3) = 1"
									"   AND d.state = $1 AND d.id <> $2"
									" ORDER BY CASE WHEN lower(d.domain) = $3 THEN 0 ELSE 1 END,"
									"          d.name, d.domain"
									" LIMIT $5",
									6, argtypes);
	}
	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->lowered);
	args[3] = CStringGetTextDatum(search->prefix);
	args[4] = Int32GetDatum(limit);
	args[5] = CStringGetTextDatum(search->leading_prefix);
	execute_plan(plan, args);
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

static void
find_word_prefixes_first(Datum state, int64 district_id, const DirectorySearch *search,
						 int32 limit)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[6];

	if (plan == NULL)
	{
		Oid			argtypes[6] = {TEXTOID, INT8OID, TEXTOID, TEXTARRAYOID, INT4OID, TEXTOID};

		plan = prepare_generic_kept("SELECT " DIRECTORY_SELECT_LIST
									"  FROM (SELECT w.* FROM samegoal.districts w"
									"         WHERE w.state = $1 AND w.id <> $2"
									"         ORDER BY w.name, w.domain"
									"         LIMIT " CppAsString2(NAME_WINDOW) ") d"
									" WHERE strpos(lower(d.name), $6) > 0 AND lower(d.name) LIKE ANY ($4)"
									"   AND NOT lower(d.domain) LIKE $3"
									" ORDER BY d.name, d.domain"
									" LIMIT $5",
									6, argtypes);
	}
	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->prefix);
	args[3] = PointerGetDatum(search->word_prefix);
	args[4] = Int32GetDatum(limit);
	args[5] = CStringGetTextDatum(search->lowered);
	execute_plan(plan, args);
}

/* Districts whose domain or name holds the search, up to limit, ranked. */
static void
find_substrings(Datum state, int64 district_id, const DirectorySearch *search, int32 limit)
{
	static SPIPlanPtr indexed_plan = NULL;
	static SPIPlanPtr short_plan = NULL;
	Oid			argtypes[7] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID};
	Datum		args[7];

	if (indexed_plan == NULL)
		indexed_plan = prepare_generic_kept(SUBSTRING_STATEMENT("(lower(d.domain) LIKE $5 AND strpos(lower(d.domain), $3) > 0)",
																"(lower(d.name) LIKE $5 AND strpos(lower(d.name), $3) > 0)"),
											7, argtypes);
	if (short_plan == NULL)
		short_plan = prepare_generic_kept(SUBSTRING_STATEMENT("strpos(lower(d.domain), $3) > 0",
															  "strpos(lower(d.name), $3) > 0"),
										  7, argtypes);

	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->lowered);
	args[3] = CStringGetTextDatum(search->prefix);
	args[4] = search->has_trigram ? CStringGetTextDatum(search->candidate) :
		CStringGetTextDatum("");
	args[5] = PointerGetDatum(search->word_prefix);
	args[6] = Int32GetDatum(limit);
	execute_plan(search->has_trigram ? indexed_plan : short_plan, args);
}

/*
 * The similarity statement, for pg_trgm in the given schema. Parameters: $1
 * state, $2 acting district id, $3 lowered search, $4 its first label, $5
 * limit.
 *
 * A district's similarity is the greater of its name's and its first label's.
 * Each is computed once, by the branch that finds the district through its
 * index: a district that only one branch finds is below the threshold in the
 * other, so that branch's similarity is the greater. Testing both operators
 * in one OR, as an index recheck, again as a filter (the operators depend on
 * a setting, so the planner cannot drop the copy) and once more for the
 * order, costs up to three times as many comparisons, which dominate the
 * statement when a common word brings many candidates.
 */
static SPIPlanPtr
similarity_statement(Oid schema)
{
	Oid			argtypes[5] = {TEXTOID, INT8OID, TEXTOID, TEXTOID, INT4OID};
	const char *trgm = quote_identifier(get_namespace_name(schema));
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT " DIRECTORY_SELECT_LIST
					 "  FROM (SELECT c.id, max(c.similarity) AS similarity"
					 "          FROM (SELECT n.id, %s.word_similarity($3, lower(n.name)) AS similarity"
					 "                  FROM samegoal.districts n"
					 "                 WHERE n.state = $1 AND $3 OPERATOR(%s.<%%) lower(n.name)"
					 "                UNION ALL"
					 "                SELECT l.id, %s.word_similarity($4, split_part(lower(l.domain), '.', 1))"
					 "                  FROM samegoal.districts l"
					 "                 WHERE l.state = $1"
					 "                   AND $4 OPERATOR(%s.<%%) split_part(lower(l.domain), '.', 1)) c"
					 "         GROUP BY c.id) s"
					 "  JOIN samegoal.districts d ON d.id = s.id"
					 " WHERE d.id <> $2"
					 "   AND strpos(lower(d.domain), $3) = 0 AND strpos(lower(d.name), $3) = 0"
					 " ORDER BY s.similarity DESC, d.name, d.domain"
					 " LIMIT $5",
					 trgm, trgm, trgm, trgm);
	return prepare_generic_kept(sql.data, 5, argtypes);
}

/*
 * Districts similar to the search that do not hold it, up to limit, most
 * similar first.
 */
static void
find_similar(Datum state, int64 district_id, const DirectorySearch *search, int32 limit)
{
	Oid			schema = trgm_schema();
	Datum		args[5];

	/* pg_trgm moved: the kept statement names it where it was. */
	if (similarity_plan != NULL && schema != similarity_plan_trgm_schema)
	{
		SPI_freeplan(similarity_plan);
		similarity_plan = NULL;
	}
	if (similarity_plan == NULL)
	{
		similarity_plan = similarity_statement(schema);
		similarity_plan_trgm_schema = schema;
	}

	/* Restored when the owner scope ends. */
	(void) set_config_option("pg_trgm.word_similarity_threshold",
							 strpbrk(search->lowered, " \t\r\n") != NULL ?
							 SIMILARITY_THRESHOLD_WORDS : SIMILARITY_THRESHOLD_ONE_WORD,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->lowered);
	args[3] = CStringGetTextDatum(pnstrdup(search->lowered, strcspn(search->lowered, ".")));
	args[4] = Int32GetDatum(limit);
	execute_plan(similarity_plan, args);
}

/* The state's districts by name, up to limit. */
static void
list_districts(Datum state, int64 district_id, int32 limit)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[3];

	if (plan == NULL)
	{
		Oid			argtypes[3] = {TEXTOID, INT8OID, INT4OID};

		plan = prepare_generic_kept("SELECT " DIRECTORY_SELECT_LIST
									"  FROM samegoal.districts d"
									" WHERE d.state = $1 AND d.id <> $2"
									" ORDER BY d.name, d.domain"
									" LIMIT $3",
									3, argtypes);
	}
	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = Int32GetDatum(limit);
	execute_plan(plan, args);
}

/*
 * Append the first count rows of a statement's result to the function's
 * result.
 */
static void
store_rows(ReturnSetInfo *rsinfo, SPITupleTable *tuptable, uint64 count)
{
	Datum		values[DIRECTORY_COLUMNS];
	bool		nulls[DIRECTORY_COLUMNS];

	if (tuptable->tupdesc->natts != DIRECTORY_COLUMNS ||
		rsinfo->setDesc->natts != DIRECTORY_COLUMNS)
		elog(ERROR, "directory statement returned %d columns, expected %d",
			 tuptable->tupdesc->natts, DIRECTORY_COLUMNS);

	for (uint64 row = 0; row < count; row++)
	{
		for (int col = 0; col < DIRECTORY_COLUMNS; col++)
			values[col] = SPI_getbinval(tuptable->vals[row], tuptable->tupdesc,
										col + 1, &nulls[col]);
		/* The tuplestore copies the values into its own memory. */
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * Append the rows of the last statement to the function's result; returns how
 * many.
 */
static int32
store_results(ReturnSetInfo *rsinfo)
{
	store_rows(rsinfo, SPI_tuptable, SPI_processed);
	return (int32) SPI_processed;
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
	sg_connect_spi();
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
	if (PG_ARGISNULL(0) || !prepare_search(PG_GETARG_TEXT_PP(0), &search))
	{
		list_districts(state, district_id, limit);
		(void) store_results(rsinfo);
	}
	else
	{
		int32		found;

		/*
		 * When the first ranks alone fill max_results, they are the answer,
		 * found without reading every district that holds the search. Both
		 * shortcuts need a trigram from the search's first character.
		 */
		if (search.starts_with_word)
		{
			SPITupleTable *prefixes;
			uint64		nprefixes;

			find_domain_prefixes(state, district_id, &search, limit);
			if (SPI_processed == (uint64) limit)
			{
				(void) store_results(rsinfo);
				goto done;
			}
			prefixes = SPI_tuptable;
			nprefixes = SPI_processed;
			find_word_prefixes_first(state, district_id, &search, limit - (int32) nprefixes);
			if (nprefixes + SPI_processed == (uint64) limit)
			{
				store_rows(rsinfo, prefixes, nprefixes);
				(void) store_results(rsinfo);
				goto done;
			}
		}

		/* Every substring match ranks above every match by similarity. */
		find_substrings(state, district_id, &search, limit);
		found = store_results(rsinfo);
		if (found < limit && search.length >= SIMILARITY_MIN_CHARS &&
			search.length <= SIMILARITY_MAX_CHARS)
		{
			find_similar(state, district_id, &search, limit - found);
			(void) store_results(rsinfo);
		}
	}

done:
	sg_finish_spi();
	sg_leave_owner_scope(&scope);
	return (Datum) 0;
}
