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
 * - Typos are corrected word by word: each word of the search against the
 *   vocabulary of all names' words (directory_words, a few thousand short
 *   entries) with pg_trgm's word similarity, then district_words gives the
 *   state's districts holding the corrected words. A search of one word is
 *   compared with the first label of each domain too, through the trigrams
 *   they share.
 *
 * pg_trgm may live in any schema, so its schema is looked up at run time and
 * the statements naming it are prepared again when pg_trgm has moved.
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
#include "utils/varlena.h"

#include "samegoal.h"
#include "spi.h"

#define DIRECTORY_MAX_RESULTS	1000
#define DIRECTORY_COLUMNS		8

/*
 * Typo tolerance. A search word matches a word of a district's name when
 * pg_trgm's word similarity (<%) of the one to the other reaches
 * SIMILARITY_THRESHOLD; a district matches when every word of the search
 * matches a word of its name, and scores the mean of the best similarity of
 * each. A search also matches a district when its label is that similar to
 * the first label of the district's domain, and then scores that similarity
 * if it is greater: up to its first dot for a search without blanks, its
 * words run together for one with blanks ("rockton isd" for "rocktonisd.net",
 * whose name has no word like "isd"). Only first labels are compared: the rest
 * of a domain (".k12.or.us") is shared by many districts and would make every
 * domain of a state look alike. A search that looks like a domain (a dot and
 * no blank) is compared with domains only.
 *
 * pg_trgm's default threshold (0.6) misses most swaps of two letters in one
 * word: "elsmide" scores 0.33 against "elmside". Since every word of the
 * search must match, a lower threshold per word stays precise: "rockotn
 * school" does not bring every School District of the state.
 */
#define SIMILARITY_THRESHOLD		"0.3"
#define SIMILARITY_THRESHOLD_VALUE	0.3

/*
 * Search words shorter than SIMILARITY_MIN_CHARS characters, such as the
 * start of a word being typed, take no part in typo tolerance: they look like
 * too many words to tell anything. Only the first SIMILARITY_MAX_WORDS words
 * of a search count. Above SIMILARITY_MAX_CHARS a search is no mistyped
 * district name, and pg_trgm would compare all of it with every candidate,
 * in time that grows with its length; such searches match as substrings
 * only.
 */
#define SIMILARITY_MIN_CHARS	3
#define SIMILARITY_MAX_WORDS	6
#define SIMILARITY_MAX_CHARS	128

/* The directory columns, as every statement returns them. */
#define DIRECTORY_SELECT_LIST \
	"d.domain, d.name, d.city, d.state, d.transfers_enabled," \
	" NULLIF(btrim(d.coordinator_name), ''), NULLIF(btrim(d.coordinator_email), '')," \
	" NULLIF(btrim(d.coordinator_phone), '')"

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

/*
 * Every directory statement is a read-only SELECT kept with a generic plan:
 * its parameters only decide which index entries are read, so one plan suits
 * every call, and no call pays for planning.
 */
#define DIRECTORY_STATEMENT(text, n, ...) \
	{ \
		.sql = (text), \
		.nargs = (n), \
		.argtypes = {__VA_ARGS__}, \
		.expected = SPI_OK_SELECT, \
		.read_only = true, \
		.cursor_options = CURSOR_OPT_GENERIC_PLAN, \
	}

/*
 * The statements that name pg_trgm's functions and operators, whose text is
 * made for the schema pg_trgm is in (trgm_statements_schema).
 */
static SgStatement vocabulary_statement = DIRECTORY_STATEMENT(NULL, 1, TEXTARRAYOID);
static SgStatement trigrams_statement = DIRECTORY_STATEMENT(NULL, 1, TEXTOID);
static SgStatement label_statement = DIRECTORY_STATEMENT(NULL, 4, TEXTOID, TEXTOID,
														 TEXTARRAYOID, INT4OID);
static Oid	trgm_statements_schema = InvalidOid;

/* The search text in the forms the statements take. */
typedef struct DirectorySearch
{
	char	   *lowered;		/* trimmed and lower-cased */
	char	   *prefix;			/* LIKE pattern: starts with it */
	char	   *candidate;		/* LIKE pattern: contains its first long word */
	ArrayType  *word_prefix;	/* LIKE patterns: a word of the name starts with it */
	bool		has_trigram;	/* holds a word of three characters */
	bool		starts_with_word;	/* its first character is a word character */
	char	   *leading_word;	/* its first word, when it starts with one */
	int			length;			/* in characters */
	bool		looks_like_domain;	/* holds a dot and no blank */
	char	   *label;			/* as a domain's first label would hold it */
	List	   *typo_words;		/* words that take part in typo tolerance */
} DirectorySearch;

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
static int32
store_results(ReturnSetInfo *rsinfo)
{
	store_rows(rsinfo, SPI_tuptable, SPI_processed);
	return (int32) SPI_processed;
}

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
 * A character of a word: a letter or digit of ASCII, or any character outside
 * ASCII, which may well be a letter; if it is not, a trigram index reads a
 * little more than it needs.
 */
static inline bool
is_word_char(const char *p)
{
	return IS_HIGHBIT_SET(*p) || isalnum((unsigned char) *p);
}

/*
 * The words of text, in order: its runs of word characters, each cut to
 * DIRECTORY_WORD_MAX_CHARS characters. No district name has longer words, and
 * a run of thousands of letters would not fit in a btree index entry; names and
 * searches are cut alike, so a cut word still finds its district.
 */
#define DIRECTORY_WORD_MAX_CHARS	64

static List *
split_words(const char *text)
{
	List	   *words = NIL;
	const char *p = text;

	while (*p)
	{
		const char *start;

		while (*p && !is_word_char(p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p && is_word_char(p))
			p += pg_mblen(p);
		words = lappend(words,
						pnstrdup(start, pg_mbcharcliplen(start, p - start,
														 DIRECTORY_WORD_MAX_CHARS)));
	}
	return words;
}

/* The words of a district name, lower-cased, as the vocabulary holds them. */
static List *
name_words(text *name)
{
	return split_words(str_tolower(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name),
								   DEFAULT_COLLATION_OID));
}

static int
compare_cstrings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * sg_directory_words(name text) returns text[]: the distinct words of a
 * district name, lower-cased and sorted. It feeds the vocabulary and the
 * index on districts by which typo tolerance finds them, so both split names
 * as sg_find_district splits searches.
 */
PG_FUNCTION_INFO_V1(sg_directory_words);
Datum
sg_directory_words(PG_FUNCTION_ARGS)
{
	List	   *words = name_words(PG_GETARG_TEXT_PP(0));
	int			count = list_length(words);
	char	  **sorted = palloc(sizeof(char *) * Max(count, 1));
	Datum	   *elems = palloc(sizeof(Datum) * Max(count, 1));
	int			distinct = 0;
	int			i = 0;
	ListCell   *lc;

	foreach(lc, words)
		sorted[i++] = lfirst(lc);
	qsort(sorted, count, sizeof(char *), compare_cstrings);
	for (i = 0; i < count; i++)
		if (distinct == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
			elems[distinct++] = CStringGetTextDatum(sorted[i]);

	PG_RETURN_ARRAYTYPE_P(construct_array(elems, distinct, TEXTOID, -1, false,
										  TYPALIGN_INT));
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
	List	   *words;
	ListCell   *lc;
	const char *candidate = NULL;

	while (len > 0 && strchr(blanks, start[len - 1]) != NULL)
		len--;
	if (len == 0)
		return false;

	out->lowered = str_tolower(start, len, DEFAULT_COLLATION_OID);
	out->length = pg_mbstrlen(out->lowered);
	out->prefix = like_pattern("", out->lowered);
	out->starts_with_word = is_word_char(out->lowered);
	out->looks_like_domain = strchr(out->lowered, '.') != NULL &&
		strpbrk(out->lowered, blanks) == NULL;

	words = split_words(out->lowered);
	if (strpbrk(out->lowered, blanks) == NULL)
		out->label = pnstrdup(out->lowered, strcspn(out->lowered, "."));
	else
	{
		StringInfoData joined;

		initStringInfo(&joined);
		foreach(lc, words)
			appendStringInfoString(&joined, lfirst(lc));
		out->label = joined.data;
	}
	if (pg_mbstrlen(out->label) < SIMILARITY_MIN_CHARS)
		out->label = NULL;

	out->leading_word = out->starts_with_word ? linitial(words) : NULL;
	out->typo_words = NIL;
	foreach(lc, words)
	{
		char	   *word = lfirst(lc);

		if (pg_mbstrlen(word) < SIMILARITY_MIN_CHARS)
			continue;
		if (candidate == NULL)
			candidate = word;
		if (list_length(out->typo_words) < SIMILARITY_MAX_WORDS)
			out->typo_words = lappend(out->typo_words, word);
	}
	out->has_trigram = candidate != NULL;
	out->candidate = candidate != NULL ? like_pattern("%", candidate) : NULL;

	for (int i = 0; i < (int) lengthof(word_starts); i++)
		patterns[i] = CStringGetTextDatum(like_pattern(word_starts[i], out->lowered));
	out->word_prefix = construct_array(patterns, lengthof(word_starts), TEXTOID, -1, false,
									   TYPALIGN_INT);
	return true;
}

/*
 * The least string, bytewise, above every string that starts with prefix:
 * prefix with its last byte raised by one, once trailing bytes that cannot be
 * raised are dropped; NULL when there is none. It may not be valid text in
 * the database's encoding, which a bytewise comparison does not mind.
 */
static text *
above_prefix(const char *prefix)
{
	int			len = strlen(prefix);
	text	   *above;

	while (len > 0 && (unsigned char) prefix[len - 1] == 0xFF)
		len--;
	if (len == 0)
		return NULL;
	above = cstring_to_text_with_len(prefix, len);
	VARDATA(above)[len - 1] = (char) ((unsigned char) prefix[len - 1] + 1);
	return above;
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
	text	   *above = above_prefix(search->lowered);
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

	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->prefix);
	args[3] = PointerGetDatum(search->word_prefix);
	args[4] = Int32GetDatum(limit);
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

	if (!search->starts_with_word || (above = above_prefix(search->leading_word)) == NULL)
		return false;

	args[0] = state;
	args[1] = CStringGetTextDatum(search->leading_word);
	args[2] = PointerGetDatum(above);
	(void) sg_execute(&word_prefix_count_statement, args);
	if (sg_result_int64(0, 1) >= WORD_PREFIX_MANY)
		return false;

	args[0] = state;
	args[1] = Int64GetDatum(district_id);
	args[2] = CStringGetTextDatum(search->prefix);
	args[3] = PointerGetDatum(search->word_prefix);
	args[4] = Int32GetDatum(limit);
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

/*
 * Make the statements that name pg_trgm's functions and operators name them
 * in the schema pg_trgm is in now. A kept plan would be revalidated from its
 * first text, which names the schema pg_trgm was in then.
 *
 * The vocabulary statement gives, for each search word ($1, numbered from 1),
 * the words of the vocabulary that match it, with their similarity, sorted
 * bytewise.
 *
 * The trigrams statement gives the trigrams of a text ($1).
 *
 * The label statement gives the districts of the state ($1) whose domain's
 * first label holds $4 or more of the trigrams $3 of the search's label ($2),
 * with the similarity of the search's label to theirs.
 */
static void
point_trgm_statements(void)
{
	Oid			schema = trgm_schema();
	const char *trgm;
	MemoryContext old;
	char	   *vocabulary_sql;
	char	   *trigrams_sql;
	char	   *label_sql;

	if (schema == trgm_statements_schema)
		return;

	trgm = quote_identifier(get_namespace_name(schema));
	old = MemoryContextSwitchTo(TopMemoryContext);
	vocabulary_sql = psprintf("SELECT s.i::pg_catalog.int4, v.word, %s.word_similarity(s.word, v.word)"
							  "  FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY s(word, i)"
							  " CROSS JOIN LATERAL (SELECT w.word FROM samegoal.directory_words w"
							  "                      WHERE s.word OPERATOR(%s.<%%) w.word) v"
							  " ORDER BY v.word COLLATE \"C\"",
							  trgm, trgm);
	trigrams_sql = psprintf("SELECT %s.show_trgm($1)", trgm);
	label_sql = psprintf("SELECT d.id, %s.word_similarity($2, split_part(lower(d.domain), '.', 1))"
						 "  FROM samegoal.districts d"
						 " WHERE d.id IN (SELECT t.district_id FROM samegoal.district_label_trigrams t"
						 "                 WHERE t.state = $1 AND t.trigram = ANY ($3)"
						 "                 GROUP BY t.district_id"
						 "                HAVING count(*) >= $4)",
						 trgm);
	MemoryContextSwitchTo(old);

	/* Nothing can fail from here on: the three change together. */
	sg_statement_forget(&vocabulary_statement);
	sg_statement_forget(&trigrams_statement);
	sg_statement_forget(&label_statement);
	if (vocabulary_statement.sql != NULL)
	{
		pfree(unconstify(char *, vocabulary_statement.sql));
		pfree(unconstify(char *, trigrams_statement.sql));
		pfree(unconstify(char *, label_statement.sql));
	}
	vocabulary_statement.sql = vocabulary_sql;
	trigrams_statement.sql = trigrams_sql;
	label_statement.sql = label_sql;
	trgm_statements_schema = schema;
}

/* A word of the vocabulary and its similarity to each search word. */
typedef struct VocabularyMatch
{
	char	   *word;
	float4		similarity[SIMILARITY_MAX_WORDS];	/* -1 where it does not match */
} VocabularyMatch;

/* A district of the state whose name holds a word like a search word. */
typedef struct Candidate
{
	int64		id;
	float4		best[SIMILARITY_MAX_WORDS]; /* similarity of the likest word; -1 none */
	float8		score;
	int32		name_rank;		/* its place in the state by name, when needed */
} Candidate;

static int
compare_match_words(const void *a, const void *b)
{
	return strcmp(((const VocabularyMatch *) a)->word, ((const VocabularyMatch *) b)->word);
}

static int
compare_candidates(const void *a, const void *b)
{
	float8		x = ((const Candidate *) a)->score;
	float8		y = ((const Candidate *) b)->score;

	return x > y ? -1 : (x < y ? 1 : 0);
}

/* Most similar first, then by name and domain, as the result is ordered. */
static int
compare_candidates_by_name(const void *a, const void *b)
{
	int			cmp = compare_candidates(a, b);
	int32		x = ((const Candidate *) a)->name_rank;
	int32		y = ((const Candidate *) b)->name_rank;

	return cmp != 0 ? cmp : (x < y ? -1 : (x > y ? 1 : 0));
}

/* A district's place among the state's districts by name. */
typedef struct NameRank
{
	int64		id;				/* first: sorted with sg_compare_int64 */
	int32		rank;
} NameRank;

/*
 * Set each candidate's place among the state's districts ordered by name and
 * domain, as ORDER BY orders them.
 */
static SgStatement districts_by_name_statement =
DIRECTORY_STATEMENT("SELECT d.id FROM samegoal.districts d WHERE d.state = $1"
					" ORDER BY d.name, d.domain",
					1, TEXTOID);

static void
rank_by_name(Datum state, Candidate *candidates, int ncandidates)
{
	uint64		nrows = sg_execute(&districts_by_name_statement, &state);
	NameRank   *ranks = palloc(sizeof(NameRank) * Max(nrows, 1));

	for (uint64 row = 0; row < nrows; row++)
	{
		ranks[row].id = sg_result_int64(row, 1);
		ranks[row].rank = (int32) row;
	}
	qsort(ranks, nrows, sizeof(NameRank), sg_compare_int64);
	for (int c = 0; c < ncandidates; c++)
	{
		NameRank	key = {.id = candidates[c].id};
		NameRank   *found = bsearch(&key, ranks, nrows, sizeof(NameRank),
									sg_compare_int64);

		/* One that left the state since: last, and the final statement drops it. */
		candidates[c].name_rank = found != NULL ? found->rank : PG_INT32_MAX;
	}
}

/*
 * The words of the vocabulary that match the search words, sorted bytewise,
 * with their similarity to each; returns how many.
 */
static int
match_vocabulary(const DirectorySearch *search, VocabularyMatch **matches)
{
	int			nwords = list_length(search->typo_words);
	Datum		words[SIMILARITY_MAX_WORDS];
	Datum		arg;
	int			nmatches = 0;
	ListCell   *lc;

	foreach(lc, search->typo_words)
		words[foreach_current_index(lc)] = CStringGetTextDatum(lfirst(lc));
	arg = PointerGetDatum(construct_array(words, nwords, TEXTOID, -1, false, TYPALIGN_INT));
	(void) sg_execute(&vocabulary_statement, &arg);

	*matches = palloc(sizeof(VocabularyMatch) * Max(SPI_processed, 1));
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			word_no = DatumGetInt32(SPI_getbinval(tuple, desc, 1, &isnull)) - 1;
		char	   *word = TextDatumGetCString(SPI_getbinval(tuple, desc, 2, &isnull));
		float4		similarity = DatumGetFloat4(SPI_getbinval(tuple, desc, 3, &isnull));
		VocabularyMatch *last = nmatches > 0 ? &(*matches)[nmatches - 1] : NULL;

		/* Rows come sorted by word: one entry per word. */
		if (last == NULL || strcmp(last->word, word) != 0)
		{
			last = &(*matches)[nmatches++];
			last->word = word;
			for (int i = 0; i < SIMILARITY_MAX_WORDS; i++)
				last->similarity[i] = -1;
		}
		last->similarity[word_no] = similarity;
	}
	return nmatches;
}

/*
 * The districts of the state whose name holds, for every typo word of the
 * search, a word like it, scored by the mean over the search words of the
 * similarity of the likest; returns how many. Read from the vocabulary and
 * the index of district_words alone, without the districts themselves.
 */
static SgStatement district_words_statement =
DIRECTORY_STATEMENT("SELECT w.word, w.district_id FROM samegoal.district_words w"
					" WHERE w.state = $1 AND w.word = ANY ($2)"
					" ORDER BY w.district_id",
					2, TEXTOID, TEXTARRAYOID);

static int
name_candidates(Datum state, const DirectorySearch *search, Candidate **candidates)
{
	int			nwords = list_length(search->typo_words);
	VocabularyMatch *matches;
	int			nmatches = match_vocabulary(search, &matches);
	Datum	   *words = palloc(sizeof(Datum) * Max(nmatches, 1));
	Datum		args[2];
	int			ncandidates = 0;
	int			complete = 0;

	for (int m = 0; m < nmatches; m++)
		words[m] = CStringGetTextDatum(matches[m].word);
	args[0] = state;
	args[1] = PointerGetDatum(construct_array(words, nmatches, TEXTOID, -1, false, TYPALIGN_INT));
	(void) sg_execute(&district_words_statement, args);

	*candidates = palloc(sizeof(Candidate) * Max(SPI_processed, 1));
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		VocabularyMatch key = {.word = TextDatumGetCString(SPI_getbinval(tuple, desc, 1, &isnull))};
		int64		id = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		const VocabularyMatch *match = bsearch(&key, matches, nmatches, sizeof(VocabularyMatch),
											   compare_match_words);
		Candidate  *candidate = ncandidates > 0 ? &(*candidates)[ncandidates - 1] : NULL;

		/* Rows come sorted by district: one entry per district. */
		if (candidate == NULL || candidate->id != id)
		{
			candidate = &(*candidates)[ncandidates++];
			candidate->id = id;
			for (int i = 0; i < SIMILARITY_MAX_WORDS; i++)
				candidate->best[i] = -1;
		}
		if (match == NULL)
			continue;			/* cannot be: it was asked for */
		for (int i = 0; i < nwords; i++)
			candidate->best[i] = Max(candidate->best[i], match->similarity[i]);
	}

	/* Keep those with a like word for every search word. */
	for (int c = 0; c < ncandidates; c++)
	{
		Candidate  *candidate = &(*candidates)[c];
		float8		total = 0;
		bool		all_words = true;

		for (int i = 0; i < nwords; i++)
		{
			all_words &= candidate->best[i] >= 0;
			total += candidate->best[i];
		}
		if (!all_words)
			continue;
		candidate->score = total / nwords;
		(*candidates)[complete++] = *candidate;
	}
	return complete;
}

/*
 * Add to candidates the districts of the state whose domain's first label is
 * like the search's, scored by that similarity; a district already there
 * keeps the greater score. Returns how many candidates there are.
 *
 * pg_trgm's word similarity of the search's label to another cannot reach the
 * threshold unless that label holds as large a share of the search label's
 * trigrams, so the districts holding that many are all that need comparing;
 * and when wanted candidates are already known, only those that could be as
 * similar as the wanted-th.
 */
static int
add_label_candidates(Datum state, const char *label, int32 wanted,
					 Candidate **candidates, int ncandidates)
{
	Datum		args[4];
	Datum		trigrams;
	ArrayType  *trigram_array;
	int			ntrigrams;
	int			at_least = 0;
	bool		isnull;

	args[0] = CStringGetTextDatum(label);
	(void) sg_execute(&trigrams_statement, args);
	trigrams = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return ncandidates;
	trigram_array = DatumGetArrayTypeP(trigrams);
	ntrigrams = ArrayGetNItems(ARR_NDIM(trigram_array), ARR_DIMS(trigram_array));
	if (ntrigrams == 0)
		return ncandidates;
	/* As pg_trgm's index decides, in single precision. */
	while ((float4) at_least / (float4) ntrigrams < SIMILARITY_THRESHOLD_VALUE)
		at_least++;

	/*
	 * When the names already gave wanted candidates, a label less like the
	 * search than the wanted-th of them changes nothing (a slightly lower bar,
	 * for rounding, only lets a few more be compared).
	 */
	if (ncandidates >= wanted)
	{
		Candidate  *sorted = palloc(sizeof(Candidate) * ncandidates);
		float8		bar;

		memcpy(sorted, *candidates, sizeof(Candidate) * ncandidates);
		qsort(sorted, ncandidates, sizeof(Candidate), compare_candidates);
		bar = sorted[wanted - 1].score - 1e-6;
		while (at_least < ntrigrams && (float8) ((float4) at_least / (float4) ntrigrams) < bar)
			at_least++;
	}

	args[0] = state;
	args[1] = CStringGetTextDatum(label);
	args[2] = PointerGetDatum(trigram_array);
	args[3] = Int32GetDatum(at_least);
	(void) sg_execute(&label_statement, args);

	*candidates = repalloc(*candidates, sizeof(Candidate) * (ncandidates + SPI_processed + 1));
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[row];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int64		id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		float4		similarity = DatumGetFloat4(SPI_getbinval(tuple, desc, 2, &isnull));
		bool		known = false;

		/* As pg_trgm's <% decides. */
		if (!(similarity >= SIMILARITY_THRESHOLD_VALUE))
			continue;
		for (int c = 0; c < ncandidates && !known; c++)
			if ((*candidates)[c].id == id)
			{
				(*candidates)[c].score = Max((*candidates)[c].score, similarity);
				known = true;
			}
		if (!known)
		{
			(*candidates)[ncandidates].id = id;
			(*candidates)[ncandidates].score = similarity;
			ncandidates++;
		}
	}
	return ncandidates;
}

/*
 * Districts similar to the search that do not hold it, up to limit, most
 * similar first, then by name, appended to the function's result. At most
 * excluded districts of the state hold the search or act.
 *
 * Only the best candidates are read from districts: limit of them and as many
 * as may be left out, and those as similar as the last. Every other candidate
 * is less similar than each of them, so no leaving out can bring one in.
 */
#define TIES_READ_MAX	64

static SgStatement similar_statement =
DIRECTORY_STATEMENT("SELECT " DIRECTORY_SELECT_LIST
					"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) c(id, score)"
					"  JOIN samegoal.districts d ON d.id = c.id"
					" WHERE d.id <> $3"
					"   AND strpos(lower(d.domain), $4) = 0 AND strpos(lower(d.name), $4) = 0"
					" ORDER BY c.score DESC, d.name, d.domain"
					" LIMIT $5",
					5, INT8ARRAYOID, FLOAT8ARRAYOID, INT8OID, TEXTOID, INT4OID);

static void
find_similar(ReturnSetInfo *rsinfo, Datum state, int64 district_id,
			 const DirectorySearch *search, int32 limit, int32 excluded)
{
	Candidate  *candidates = palloc(sizeof(Candidate));
	int			ncandidates = 0;
	int			nread;
	Datum	   *ids;
	Datum	   *scores;
	Datum		args[5];

	point_trgm_statements();

	/* Restored when the owner scope ends. */
	(void) set_config_option("pg_trgm.word_similarity_threshold", SIMILARITY_THRESHOLD,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

	if (!search->looks_like_domain && search->typo_words != NIL)
		ncandidates = name_candidates(state, search, &candidates);
	if (search->label != NULL)
		ncandidates = add_label_candidates(state, search->label, limit + excluded,
										   &candidates, ncandidates);
	if (ncandidates == 0)
		return;

	qsort(candidates, ncandidates, sizeof(Candidate), compare_candidates);
	nread = Min(ncandidates, limit + excluded);
	while (nread < ncandidates && candidates[nread].score == candidates[nread - 1].score)
		nread++;

	/*
	 * Many as similar as the last wanted ("schol" is as like "school" in every
	 * School District): order them by name here, from the state's districts
	 * by name, rather than read every one of them.
	 */
	if (nread - (limit + excluded) > TIES_READ_MAX)
	{
		rank_by_name(state, candidates, ncandidates);
		qsort(candidates, ncandidates, sizeof(Candidate), compare_candidates_by_name);
		nread = limit + excluded;
	}

	ids = palloc(sizeof(Datum) * nread);
	scores = palloc(sizeof(Datum) * nread);
	for (int c = 0; c < nread; c++)
	{
		ids[c] = Int64GetDatum(candidates[c].id);
		scores[c] = Float8GetDatum(candidates[c].score);
	}
	args[0] = PointerGetDatum(construct_array(ids, nread, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(scores, nread, FLOAT8OID, sizeof(float8),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = Int64GetDatum(district_id);
	args[3] = CStringGetTextDatum(search->lowered);
	args[4] = Int32GetDatum(limit);
	(void) sg_execute(&similar_statement, args);
	(void) store_results(rsinfo);
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
		 * found without reading every district that holds the search.
		 */
		if (find_domain_prefixes(state, district_id, &search, limit))
		{
			SPITupleTable *prefixes = SPI_tuptable;
			uint64		nprefixes = SPI_processed;

			if (nprefixes == (uint64) limit)
			{
				(void) store_results(rsinfo);
				goto done;
			}
			if (!find_word_prefixes(state, district_id, &search, limit - (int32) nprefixes))
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
			find_similar(rsinfo, state, district_id, &search, limit - found, found + 1);
	}

done:
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	return (Datum) 0;
}
