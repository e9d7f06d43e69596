/*-------------------------------------------------------------------------
 *
 * directory_typos.c
 *	  The district directory's pg_trgm layer: the statements that name
 *	  pg_trgm, the vocabulary of names' words, the trigrams and similarity
 *	  of domain labels, and the candidates of the similar rank read by SQL.
 *
 * Typos are corrected word by word: each word of the search against the
 * vocabulary of all names' words (directory_words, a few thousand short
 * entries) with pg_trgm's word similarity, then district_words gives the
 * state's districts holding the corrected words. A search is compared with
 * the first label of each domain too, through the trigrams they share
 * (district_label_trigrams). The similar rank (directory_similar.c) ranks a
 * large state from its copy in memory with the vocabulary, trigrams and
 * similarity given here, and any other state from the candidates read here.
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
static SgStatement vocabulary_statement = SG_QUERY(SG_GENERIC_PLAN, NULL, 1, TEXTARRAYOID);
static SgStatement trigrams_statement = SG_QUERY(SG_GENERIC_PLAN, NULL, 1, TEXTOID);
static SgStatement label_statement = SG_QUERY(SG_GENERIC_PLAN, NULL, 4, TEXTOID, TEXTOID,
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

/*
 * Ready the statements that name pg_trgm, and set pg_trgm's threshold for
 * the rest of the search: restored when the owner scope ends.
 */
void
directory_use_trgm(void)
{
	point_trgm_statements();
	(void) set_config_option("pg_trgm.word_similarity_threshold", SIMILARITY_THRESHOLD,
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

/* pg_trgm's trigrams of a text (show_trgm); NULL when it gives none. */
ArrayType *
directory_trigrams(const char *text)
{
	Datum		arg = CStringGetTextDatum(text);
	bool		isnull;
	Datum		trigrams;

	(void) sg_execute(&trigrams_statement, &arg);
	trigrams = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : DatumGetArrayTypeP(trigrams);
}

/* pg_trgm's word similarity of the search's label to a district's. */
float4
directory_label_similarity(text *search_label, text *label)
{
	return DatumGetFloat4(FunctionCall2Coll(&word_similarity_fn, DEFAULT_COLLATION_OID,
											PointerGetDatum(search_label),
											PointerGetDatum(label)));
}

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
SG_QUERY(SG_GENERIC_PLAN, "SELECT d.id FROM samegoal.districts d WHERE d.state = $1"
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
int
directory_match_vocabulary(const DirectorySearch *search, VocabularyMatch **matches)
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
 * district_words, without the districts themselves: the state's districts
 * holding any word like a search word.
 */
static SgStatement state_words_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT w.word, w.district_id FROM samegoal.district_words w"
					" WHERE w.state = $1 AND w.word = ANY ($2)"
					" ORDER BY w.district_id",
					2, TEXTOID, TEXTARRAYOID);

static int
name_candidates(Datum state, const DirectorySearch *search, Candidate **candidates)
{
	VocabularyMatch *matches;
	int			nmatches = directory_match_vocabulary(search, &matches);
	Datum	   *words = palloc(sizeof(Datum) * Max(nmatches, 1));
	Datum		args[2];

	if (nmatches == 0)
		return 0;
	for (int m = 0; m < nmatches; m++)
		words[m] = CStringGetTextDatum(matches[m].word);
	args[0] = state;
	args[1] = PointerGetDatum(construct_array(words, nmatches, TEXTOID, -1, false, TYPALIGN_INT));
	(void) sg_execute(&state_words_statement, args);
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
 * Add to candidates the districts of the state whose domain's first label is
 * like the search's, scored by that similarity; a district already there
 * keeps the greater score. Returns how many candidates there are.
 *
 * pg_trgm's word similarity of the search's label (n trigrams) to another
 * cannot reach a bar unless that label holds at least "needed" of them, the
 * least count whose share of n reaches it: only the districts holding that
 * many are compared. The bar is the threshold, or, when the names already
 * gave wanted candidates, the wanted-th score (a slightly lower bar, for
 * rounding, only lets a few more be compared).
 */
static int
add_label_candidates(Datum state, const char *label, int32 wanted, Candidate **candidates,
					 int ncandidates)
{
	ArrayType  *trigrams = directory_trigrams(label);
	Datum		args[4];
	int			ntrigrams;
	int			needed = 0;
	float8		bar = SIMILARITY_THRESHOLD_VALUE;

	if (trigrams == NULL)
		return ncandidates;
	ntrigrams = ArrayGetNItems(ARR_NDIM(trigrams), ARR_DIMS(trigrams));
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

	args[0] = state;
	args[1] = CStringGetTextDatum(label);
	args[2] = PointerGetDatum(trigrams);
	args[3] = Int32GetDatum(needed);
	(void) sg_execute(&label_statement, args);
	return add_similar_labels(candidates, ncandidates);
}

/*
 * The candidates of the similar rank of a state, by SQL: the best "wanted",
 * most similar first, and those as similar as the last, in *best; returns how
 * many.
 *
 * Many may be as similar as the last wanted ("schol" is as like "school" in
 * every School District): then they are put in order by name here, from the
 * state's districts by name, and only the first wanted kept, rather than
 * read every one of them.
 */
#define TIES_READ_MAX	64

int
directory_similar_by_sql(Datum state, const DirectorySearch *search, int32 wanted,
						 SimilarDistrict **best)
{
	Candidate  *candidates = palloc(sizeof(Candidate));
	int			ncandidates = 0;
	int			nbest;

	if (!search->looks_like_domain && search->typo_words != NIL)
		ncandidates = name_candidates(state, search, &candidates);
	if (search->label != NULL)
		ncandidates = add_label_candidates(state, search->label, wanted, &candidates,
										   ncandidates);
	if (ncandidates == 0)
		return 0;

	qsort(candidates, ncandidates, sizeof(Candidate), compare_candidates);
	nbest = Min(ncandidates, wanted);
	while (nbest < ncandidates && candidates[nbest].score == candidates[nbest - 1].score)
		nbest++;
	if (nbest - wanted > TIES_READ_MAX)
	{
		rank_by_name(state, candidates, ncandidates);
		qsort(candidates, ncandidates, sizeof(Candidate), compare_candidates_by_name);
		nbest = wanted;
	}

	*best = palloc(sizeof(SimilarDistrict) * nbest);
	for (int c = 0; c < nbest; c++)
	{
		(*best)[c].id = candidates[c].id;
		(*best)[c].score = candidates[c].score;
	}
	return nbest;
}
