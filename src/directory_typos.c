/*-------------------------------------------------------------------------
 *
 * directory_typos.c
 *	  The district directory's typo tolerance, through pg_trgm: the
 *	  vocabulary of names' words, the candidates by name and by domain
 *	  label, and their rank by similarity.
 *
 * Typos are corrected word by word: each word of the search against the
 * vocabulary of all names' words (directory_words, a few thousand short
 * entries) with pg_trgm's word similarity, then district_words gives the
 * state's districts holding the corrected words. A search of one word is
 * compared with the first label of each domain too, through the trigrams
 * they share (district_label_trigrams).
 *
 * pg_trgm may live in any schema, so its schema is looked up at run time and
 * the statements naming it are made again when pg_trgm has moved.
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
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "directory.h"

/*
 * The statements that name pg_trgm's functions and operators, whose text is
 * made for the schema pg_trgm is in (trgm_statements_schema).
 */
static SgStatement vocabulary_statement = DIRECTORY_STATEMENT(NULL, 1, TEXTARRAYOID);
static SgStatement trigrams_statement = DIRECTORY_STATEMENT(NULL, 1, TEXTOID);
static SgStatement label_statement = DIRECTORY_STATEMENT(NULL, 4, TEXTOID, TEXTOID,
														 TEXTARRAYOID, INT4OID);
static Oid	trgm_statements_schema = InvalidOid;

/* pg_trgm's word_similarity(text, text), called directly on a state's copy. */
static FmgrInfo word_similarity_fn;

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
 * first label holds $4 or more of the trigrams $3 (some of the search
 * label's), with the similarity of the search's label ($2) to theirs.
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
						 "  FROM (SELECT t.district_id FROM samegoal.district_label_trigrams t"
						 "         WHERE t.state = $1 AND t.trigram = ANY ($3)"
						 "         GROUP BY t.district_id"
						 "        HAVING count(*) >= $4) c"
						 " CROSS JOIN LATERAL (SELECT w.id, w.domain FROM samegoal.districts w"
						 "                      WHERE w.id = c.district_id) d",
						 trgm);
	MemoryContextSwitchTo(old);
	{
		Oid			argtypes[2] = {TEXTOID, TEXTOID};
		Oid			fn = LookupFuncName(list_make2(makeString(get_namespace_name(schema)),
												   makeString("word_similarity")),
										2, argtypes, false);

		fmgr_info_cxt(fn, &word_similarity_fn, TopMemoryContext);
	}

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
 * From the rows (word, district_id) of the last statement, in order of
 * district, the districts whose name holds, for every typo word, a word like
 * it, scored by the mean of the likest; returns how many.
 */
static int
score_candidates(const DirectorySearch *search, const VocabularyMatch *matches, int nmatches,
				 Candidate **candidates)
{
	int			nwords = list_length(search->typo_words);
	int			ncandidates = 0;
	int			complete = 0;

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
 * The districts of the state whose name holds, for every typo word of the
 * search, a word like it, scored by the mean over the search words of the
 * similarity of the likest; returns how many. Read from the vocabulary and
 * district_words, without the districts themselves.
 *
 * Every such district holds a word like each search word, so the districts
 * holding a word like the search word whose like words fewest districts hold
 * are all that can qualify ("maplfield" rather than "school"); while they are
 * many, those also holding a word like the next rarest are kept. Only then
 * are the words of the few left read, to score them.
 */
#define WORD_COUNT_MAX		256
#define FEW_CANDIDATES		128
#define INTERSECT_FACTOR	4

static SgStatement word_counts_statement =
DIRECTORY_STATEMENT("SELECT v.word, (SELECT count(*) FROM (SELECT FROM samegoal.district_words w"
					"                                   WHERE w.state = $1 AND w.word = v.word"
					"                                   LIMIT " CppAsString2(WORD_COUNT_MAX) ") w)"
					"  FROM pg_catalog.unnest($2::pg_catalog.text[]) WITH ORDINALITY v(word, n)"
					" ORDER BY v.n",
					2, TEXTOID, TEXTARRAYOID);

static SgStatement word_districts_statement =
DIRECTORY_STATEMENT("SELECT w.district_id"
					"  FROM (SELECT w.district_id FROM samegoal.district_words w"
					"         WHERE w.state = $1 AND w.word = ANY ($2)"
					"         LIMIT $3) w"
					" ORDER BY 1",
					3, TEXTOID, TEXTARRAYOID, INT4OID);

static SgStatement state_words_statement =
DIRECTORY_STATEMENT("SELECT w.word, w.district_id FROM samegoal.district_words w"
					" WHERE w.state = $1 AND w.word = ANY ($2)"
					" ORDER BY w.district_id",
					2, TEXTOID, TEXTARRAYOID);

static SgStatement district_words_statement =
DIRECTORY_STATEMENT("SELECT w.word, w.district_id FROM samegoal.district_words w"
					" WHERE w.district_id = ANY ($1) AND w.word = ANY ($2)"
					" ORDER BY w.district_id",
					2, INT8ARRAYOID, TEXTARRAYOID);

/*
 * The districts of the state holding one of the matches like search word i;
 * NULL when they hold more than at_most such words.
 */
static int64 *
districts_like_word(Datum state, const VocabularyMatch *matches, int nmatches, int i,
					int32 at_most, int *count)
{
	Datum	   *words = palloc(sizeof(Datum) * Max(nmatches, 1));
	int			nwords = 0;
	Datum		args[3];
	int64	   *ids;

	*count = 0;
	for (int m = 0; m < nmatches; m++)
		if (matches[m].similarity[i] >= 0)
			words[nwords++] = CStringGetTextDatum(matches[m].word);
	args[0] = state;
	args[1] = PointerGetDatum(construct_array(words, nwords, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = Int32GetDatum(at_most < PG_INT32_MAX ? at_most + 1 : at_most);
	(void) sg_execute(&word_districts_statement, args);
	if (SPI_processed > (uint64) at_most)
		return NULL;
	ids = palloc(sizeof(int64) * Max(SPI_processed, 1));
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		int64		id = sg_result_int64(row, 1);

		/* In order: a district holding two such words comes twice. */
		if (*count == 0 || ids[*count - 1] != id)
			ids[(*count)++] = id;
	}
	return ids;
}

/* Keep in a (sorted) the ids also in b (sorted); returns how many. */
static int
intersect_ids(int64 *a, int na, const int64 *b, int nb)
{
	int			kept = 0;

	for (int i = 0, j = 0; i < na && j < nb;)
	{
		if (a[i] < b[j])
			i++;
		else if (a[i] > b[j])
			j++;
		else
		{
			a[kept++] = a[i];
			i++;
			j++;
		}
	}
	return kept;
}

static int
name_candidates(Datum state, bool large, const DirectorySearch *search, Candidate **candidates)
{
	int			nwords = list_length(search->typo_words);
	VocabularyMatch *matches;
	int			nmatches = match_vocabulary(search, &matches);
	Datum	   *words = palloc(sizeof(Datum) * Max(nmatches, 1));
	int64		frequency[SIMILARITY_MAX_WORDS] = {0};
	int			order[SIMILARITY_MAX_WORDS] = {0};
	int64	   *ids;
	int			nids;
	Datum		args[2];

	if (nmatches == 0)
		return 0;
	for (int m = 0; m < nmatches; m++)
		words[m] = CStringGetTextDatum(matches[m].word);
	args[0] = state;
	args[1] = PointerGetDatum(construct_array(words, nmatches, TEXTOID, -1, false, TYPALIGN_INT));

	/*
	 * One search word, or a state of modest size: the state's districts
	 * holding any like word are read at once.
	 */
	if (nwords == 1 || !large)
	{
		(void) sg_execute(&state_words_statement, args);
		return score_candidates(search, matches, nmatches, candidates);
	}

	/* How many districts hold words like each search word (counted up to a bound). */
	(void) sg_execute(&word_counts_statement, args);
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		int64		count = sg_result_int64(row, 2);

		for (int i = 0; i < nwords; i++)
			if (matches[row].similarity[i] >= 0)
				frequency[i] += count;
	}
	for (int i = 0; i < nwords; i++)
	{
		int			at = i;

		/* A search word like no word of the vocabulary: no district qualifies. */
		if (frequency[i] == 0)
			return 0;
		while (at > 0 && frequency[order[at - 1]] > frequency[i])
		{
			order[at] = order[at - 1];
			at--;
		}
		order[at] = i;
	}

	ids = districts_like_word(state, matches, nmatches, order[0], PG_INT32_MAX, &nids);
	for (int k = 1; k < nwords && nids > FEW_CANDIDATES; k++)
	{
		int			nother;
		int64	   *other = districts_like_word(state, matches, nmatches, order[k],
												nids * INTERSECT_FACTOR, &nother);

		/* Reading more than a few times as many costs more than it saves. */
		if (other == NULL)
			break;
		nids = intersect_ids(ids, nids, other, nother);
	}
	if (nids == 0)
		return 0;

	/* Many left: the words of the state are the cheaper read. */
	if (nids > FEW_CANDIDATES * 2)
		(void) sg_execute(&state_words_statement, args);
	else
	{
		args[0] = PointerGetDatum(sg_int64_array(ids, nids));
		(void) sg_execute(&district_words_statement, args);
	}

	return score_candidates(search, matches, nmatches, candidates);
}

/*
 * Add the districts of the label statement's result that reach the
 * threshold to candidates (a district already there keeps the greater
 * score); returns how many candidates there are.
 */
static int
add_similar_labels(Candidate **candidates, int ncandidates)
{
	bool		isnull;

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
 * How many districts of the state hold each trigram of the search's label,
 * counted up to TRIGRAM_COUNT_MAX: a few short index ranges.
 */
#define TRIGRAM_COUNT_MAX	256
#define RAREST_SHARE		8

static SgStatement trigram_counts_statement =
DIRECTORY_STATEMENT("SELECT t.trigram, (SELECT count(*) FROM (SELECT FROM samegoal.district_label_trigrams x"
					"                                      WHERE x.state = $1 AND x.trigram = t.trigram"
					"                                      LIMIT " CppAsString2(TRIGRAM_COUNT_MAX) ") x)"
					"  FROM pg_catalog.unnest($2::pg_catalog.text[]) t(trigram)"
					" ORDER BY 2, 1",
					2, TEXTOID, TEXTARRAYOID);

/*
 * Add to candidates the districts of the state whose domain's first label is
 * like the search's, scored by that similarity; a district already there
 * keeps the greater score. Returns how many candidates there are.
 *
 * pg_trgm's word similarity of the search's label (n trigrams) to another
 * cannot reach a bar unless that label holds at least "needed" of them, the
 * least count whose share of n reaches it. Such a label holds at least one of
 * any n - needed + 1 of the trigrams; so only the districts holding one of
 * the n - needed + 1 trigrams fewest districts hold need comparing, and among
 * them those holding as many of these as the others leave necessary. The bar
 * is the threshold, or, when the names already gave wanted candidates, the
 * wanted-th score (a slightly lower bar, for rounding, only lets a few more be
 * compared): a well-matched search compares only the few districts holding
 * its rarest trigrams.
 */
static int
add_label_candidates(Datum state, bool large, const char *label, int32 wanted,
					 Candidate **candidates, int ncandidates)
{
	Datum		args[4];
	Datum		trigrams;
	ArrayType  *trigram_array;
	int			ntrigrams;
	int			needed = 0;
	int			nread;
	float8		bar = SIMILARITY_THRESHOLD_VALUE;
	Datum	   *rarest;
	int64		rarest_count = 0;
	int64		all_count = 0;
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

	if (ncandidates >= wanted)
	{
		Candidate  *sorted = palloc(sizeof(Candidate) * ncandidates);

		memcpy(sorted, *candidates, sizeof(Candidate) * ncandidates);
		qsort(sorted, ncandidates, sizeof(Candidate), compare_candidates);
		bar = Max(bar, sorted[wanted - 1].score - 1e-6);
	}
	/* As pg_trgm's index decides, in single precision. */
	while ((float4) needed / (float4) ntrigrams < SIMILARITY_THRESHOLD_VALUE)
		needed++;
	while (needed < ntrigrams && (float8) ((float4) needed / (float4) ntrigrams) < bar)
		needed++;
	nread = ntrigrams - needed + 1;

	/* A state of modest size: count every district's trigrams among all. */
	if (!large)
	{
		args[0] = state;
		args[1] = CStringGetTextDatum(label);
		args[2] = PointerGetDatum(trigram_array);
		args[3] = Int32GetDatum(needed);
		(void) sg_execute(&label_statement, args);
		return add_similar_labels(candidates, ncandidates);
	}

	/* The nread trigrams fewest districts of the state hold. */
	args[0] = state;
	args[1] = PointerGetDatum(trigram_array);
	(void) sg_execute(&trigram_counts_statement, args);
	rarest = palloc(sizeof(Datum) * Max(SPI_processed, 1));
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		int64		count = sg_result_int64(row, 2);

		rarest[row] = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1, &isnull);
		all_count += count;
		if (row < (uint64) nread)
			rarest_count += count;
	}

	/*
	 * Every district holding one of the rarest trigrams is compared; when
	 * they are not many fewer than the entries of all the trigrams, it is
	 * cheaper to count each district's trigrams among all of them and compare
	 * only those that hold the needed number.
	 */
	if (rarest_count * RAREST_SHARE > all_count)
		nread = (int) SPI_processed;
	if (nread <= 0)
		return ncandidates;

	args[0] = state;
	args[1] = CStringGetTextDatum(label);
	args[2] = PointerGetDatum(construct_array(rarest, nread, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = Int32GetDatum(Max(1, needed - (ntrigrams - nread)));
	(void) sg_execute(&label_statement, args);

	return add_similar_labels(candidates, ncandidates);
}

/*
 * The similarity rank of a large state, from its copy in memory
 * (directory_cache.c), as the statements above would give it: the same
 * candidates, scores and order, but only the best "wanted" of them, by score
 * and then by name, are found, and a domain label is compared only while it
 * can still be among them.
 *
 * A name's score comes from the vocabulary and the state's words at once. A
 * label's word similarity to the search's is at most the share of the
 * search label's trigrams it holds (pg_trgm counts only those in the part of
 * the label it compares, and divides by at least their number): labels are
 * compared in order of that bound, and then by name, and the comparing stops
 * at the first that could not come before the wanted-th district found so
 * far. A district that is also a name candidate is ranked by its name score
 * when the label cannot raise it.
 */
typedef struct Ranked
{
	float8		score;
	int32		rank;			/* place in the state by name */
} Ranked;

/* Whether (score, rank) comes after b in the order of the result. */
static inline bool
ranked_after(float8 score, int32 rank, const Ranked *b)
{
	return score < b->score || (score == b->score && rank > b->rank);
}

/* The best k seen so far, the last of them at the root of a heap. */
typedef struct TopRanked
{
	Ranked	   *items;
	int			n;
	int			k;
} TopRanked;

static inline bool
top_admits(const TopRanked *top, float8 score, int32 rank)
{
	return top->n < top->k || !ranked_after(score, rank, &top->items[0]);
}

static void
top_add(TopRanked *top, float8 score, int32 rank)
{
	int			i;

	if (top->n < top->k)
	{
		i = top->n++;
		while (i > 0 && ranked_after(score, rank, &top->items[(i - 1) / 2]))
		{
			top->items[i] = top->items[(i - 1) / 2];
			i = (i - 1) / 2;
		}
	}
	else
	{
		i = 0;
		for (;;)
		{
			int			child = 2 * i + 1;

			if (child >= top->n)
				break;
			if (child + 1 < top->n &&
				ranked_after(top->items[child + 1].score, top->items[child + 1].rank,
							 &top->items[child]))
				child++;
			if (!ranked_after(top->items[child].score, top->items[child].rank,
							  &(Ranked) {.score = score,.rank = rank}))
				break;
			top->items[i] = top->items[child];
			i = child;
		}
	}
	top->items[i].score = score;
	top->items[i].rank = rank;
}

static int
compare_ranked(const void *a, const void *b)
{
	const Ranked *x = a;
	const Ranked *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->rank < y->rank ? -1 : (x->rank > y->rank ? 1 : 0);
}

/*
 * The name scores of the state's districts (-1: none), for the districts whose
 * name holds a word like every typo word of the search.
 */
static float8 *
name_scores_in_memory(const StateDirectory *dir, const DirectorySearch *search)
{
	int			nwords = list_length(search->typo_words);
	VocabularyMatch *matches;
	int			nmatches = match_vocabulary(search, &matches);
	float8	   *scores = palloc(sizeof(float8) * Max(dir->ndistricts, 1));
	float4	   *best;
	int32	   *touched;
	int			ntouched = 0;

	for (int r = 0; r < dir->ndistricts; r++)
		scores[r] = -1;
	if (nmatches == 0)
		return scores;
	best = palloc(sizeof(float4) * SIMILARITY_MAX_WORDS * Max(dir->ndistricts, 1));
	touched = palloc(sizeof(int32) * Max(dir->ndistricts, 1));
	for (int m = 0; m < nmatches; m++)
	{
		const int32 *ranks;
		int32		nranks = directory_state_list(dir->words, dir->word_starts, dir->nwords,
												  matches[m].word, &ranks, dir->word_postings);

		for (int32 p = 0; p < nranks; p++)
		{
			int32		r = ranks[p];
			float4	   *b = &best[(size_t) r * SIMILARITY_MAX_WORDS];

			/* scores[r] marks a district met: -2 until it is scored. */
			if (scores[r] == -1)
			{
				scores[r] = -2;
				touched[ntouched++] = r;
				for (int i = 0; i < SIMILARITY_MAX_WORDS; i++)
					b[i] = -1;
			}
			for (int i = 0; i < nwords; i++)
				b[i] = Max(b[i], matches[m].similarity[i]);
		}
	}
	for (int t = 0; t < ntouched; t++)
	{
		int32		r = touched[t];
		const float4 *b = &best[(size_t) r * SIMILARITY_MAX_WORDS];
		float8		total = 0;
		bool		all_words = true;

		for (int i = 0; i < nwords; i++)
		{
			all_words &= b[i] >= 0;
			total += b[i];
		}
		scores[r] = all_words ? total / nwords : -1;
	}
	return scores;
}

/*
 * The best "wanted" districts of the similarity rank, in order; returns how
 * many.
 */
static int
similar_in_memory(const StateDirectory *dir, const DirectorySearch *search, int32 wanted,
				  Ranked **result)
{
	float8	   *name_scores;
	TopRanked	top = {.items = palloc(sizeof(Ranked) * Max(wanted, 1)),.n = 0,.k = wanted};
	uint16	   *counts = NULL;
	int			ntrigrams = 0;
	int			needed = 0;

	if (!search->looks_like_domain && search->typo_words != NIL)
		name_scores = name_scores_in_memory(dir, search);
	else
	{
		name_scores = palloc(sizeof(float8) * Max(dir->ndistricts, 1));
		for (int r = 0; r < dir->ndistricts; r++)
			name_scores[r] = -1;
	}

	/* How many of the search label's trigrams each district's label holds. */
	if (search->label != NULL)
	{
		Datum		arg = CStringGetTextDatum(search->label);
		bool		isnull;
		Datum		trigrams;

		(void) sg_execute(&trigrams_statement, &arg);
		trigrams = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *elem_nulls;

			deconstruct_array(DatumGetArrayTypeP(trigrams), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &elem_nulls, &ntrigrams);
			/* A label holds each trigram once: the count fits. */
			ntrigrams = Min(ntrigrams, PG_UINT16_MAX);
			counts = palloc0(sizeof(uint16) * Max(dir->ndistricts, 1));
			for (int t = 0; t < ntrigrams; t++)
			{
				const int32 *ranks;
				int32		nranks = directory_state_list(dir->trigrams, dir->trigram_starts,
														  dir->ntrigrams,
														  TextDatumGetCString(elems[t]),
														  &ranks, dir->trigram_postings);

				for (int32 p = 0; p < nranks; p++)
					counts[ranks[p]]++;
			}
			/* As pg_trgm's index decides, in single precision. */
			while ((float4) needed / (float4) ntrigrams < SIMILARITY_THRESHOLD_VALUE)
				needed++;
		}
	}

	/*
	 * Districts whose score is known without comparing labels: names whose
	 * label cannot raise them.
	 */
	for (int r = 0; r < dir->ndistricts; r++)
	{
		if (name_scores[r] < 0)
			continue;
		if (counts != NULL && counts[r] >= needed &&
			(float8) ((float4) counts[r] / (float4) ntrigrams) > name_scores[r])
			continue;
		if (top_admits(&top, name_scores[r], r))
			top_add(&top, name_scores[r], r);
	}

	/* Labels, by the bound of their similarity and then by name. */
	if (counts != NULL && ntrigrams > 0)
	{
		int32	   *bucket_start = palloc0(sizeof(int32) * (ntrigrams + 2));
		int32	   *order;
		int32		nlabels = 0;
		text	   *label = cstring_to_text(search->label);

		for (int r = 0; r < dir->ndistricts; r++)
			if (counts[r] >= needed && counts[r] > 0)
			{
				/* Buckets from the most trigrams down. */
				bucket_start[ntrigrams - counts[r] + 1]++;
				nlabels++;
			}
		for (int c = 1; c <= ntrigrams + 1; c++)
			bucket_start[c] += bucket_start[c - 1];
		order = palloc(sizeof(int32) * Max(nlabels, 1));
		for (int r = 0; r < dir->ndistricts; r++)
			if (counts[r] >= needed && counts[r] > 0)
				order[bucket_start[ntrigrams - counts[r]]++] = r;

		/* order now holds the ranks by count descending, then rank ascending. */
		for (int32 o = 0; o < nlabels; o++)
		{
			int32		r = order[o];
			float8		bound = (float8) ((float4) counts[r] / (float4) ntrigrams);
			float8		score = -1;
			float4		similarity;

			if (name_scores[r] >= bound)
				continue;		/* known by its name */
			if (!top_admits(&top, bound, r))
				break;
			similarity = DatumGetFloat4(FunctionCall2Coll(&word_similarity_fn,
														  DEFAULT_COLLATION_OID,
														  PointerGetDatum(label),
														  PointerGetDatum(dir->labels[r])));
			/* As pg_trgm's <% decides. */
			if (similarity >= SIMILARITY_THRESHOLD_VALUE)
				score = similarity;
			score = Max(score, name_scores[r]);
			if (score >= 0 && top_admits(&top, score, r))
				top_add(&top, score, r);
		}
	}

	qsort(top.items, top.n, sizeof(Ranked), compare_ranked);
	*result = top.items;
	return top.n;
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
					" CROSS JOIN LATERAL (SELECT w.* FROM samegoal.districts w"
					"                      WHERE w.id = c.id OFFSET 0) d"
					" WHERE d.id <> $3"
					"   AND strpos(lower(d.domain), $4) = 0 AND strpos(lower(d.name), $4) = 0"
					" ORDER BY c.score DESC, d.name, d.domain"
					" LIMIT $5",
					5, INT8ARRAYOID, FLOAT8ARRAYOID, INT8OID, TEXTOID, INT4OID);

static void read_similar(ReturnSetInfo *rsinfo, int64 district_id,
						 const DirectorySearch *search, int32 limit, Datum *ids,
						 Datum *scores, int nread);

void
directory_find_similar(ReturnSetInfo *rsinfo, Datum state, int64 district_id,
			 const DirectorySearch *search, int32 limit, int32 excluded)
{
	Candidate  *candidates = palloc(sizeof(Candidate));
	int			ncandidates = 0;
	int			nread;
	Datum	   *ids;
	Datum	   *scores;
	bool		large;
	const StateDirectory *dir;

	point_trgm_statements();
	large = directory_state_is_large(state);

	/* Restored when the owner scope ends. */
	(void) set_config_option("pg_trgm.word_similarity_threshold", SIMILARITY_THRESHOLD,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);

	/* A large state: from its copy in memory, when it has one. */
	if (large && (dir = directory_state_copy(state)) != NULL)
	{
		Ranked	   *best;

		nread = similar_in_memory(dir, search, limit + excluded, &best);
		if (nread == 0)
			return;
		ids = palloc(sizeof(Datum) * nread);
		scores = palloc(sizeof(Datum) * nread);
		for (int c = 0; c < nread; c++)
		{
			ids[c] = Int64GetDatum(dir->ids[best[c].rank]);
			scores[c] = Float8GetDatum(best[c].score);
		}
		read_similar(rsinfo, district_id, search, limit, ids, scores, nread);
		return;
	}

	if (!search->looks_like_domain && search->typo_words != NIL)
		ncandidates = name_candidates(state, large, search, &candidates);
	if (search->label != NULL)
		ncandidates = add_label_candidates(state, large, search->label, limit + excluded,
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
	read_similar(rsinfo, district_id, search, limit, ids, scores, nread);
}

/* Read the districts of ids, with their scores, in the order of the result. */
static void
read_similar(ReturnSetInfo *rsinfo, int64 district_id, const DirectorySearch *search,
			 int32 limit, Datum *ids, Datum *scores, int nread)
{
	Datum		args[5];

	args[0] = PointerGetDatum(construct_array(ids, nread, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(scores, nread, FLOAT8OID, sizeof(float8),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = Int64GetDatum(district_id);
	args[3] = CStringGetTextDatum(search->lowered);
	args[4] = Int32GetDatum(limit);
	(void) sg_execute(&similar_statement, args);
	(void) directory_store_results(rsinfo);
}

