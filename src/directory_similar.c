/*-------------------------------------------------------------------------
 *
 * directory_similar.c
 *	  The district directory's similar rank: districts like the search that
 *	  do not hold it (typos), most similar first, then by name. A large
 *	  state's rank is computed top-k from its copy in memory
 *	  (directory_cache.c); any other state's candidates come from SQL
 *	  (directory_typos.c). Only the districts of the result are read from
 *	  districts.
 *
 * Both ways give the same candidates, scores and order: a search word
 * matches a word of the vocabulary when pg_trgm's <% says so
 * (directory_match_vocabulary), a name scores the mean over the search
 * words of the similarity of the likest, a domain's first label scores
 * pg_trgm's word similarity to the search's label when it reaches the
 * threshold, and a district scores the greater of the two.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "directory.h"

/*
 * The similar rank of a large state, from its copy in memory, as the SQL of
 * directory_typos.c would give it: the same candidates, scores and order,
 * but only the best "wanted" of them, by score and then by name, are found,
 * and a domain label is compared only while it can still be among them.
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
	int			nmatches = directory_match_vocabulary(search, &matches);
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
 * The best "wanted" districts of the similar rank, in order; returns how
 * many.
 */
static int
similar_in_memory(const StateDirectory *dir, const DirectorySearch *search, int32 wanted,
				  Ranked **result)
{
	float8	   *name_scores;
	TopRanked	top = {.items = palloc(sizeof(Ranked) * Max(wanted, 1)),.n = 0,.k = wanted};
	uint16	   *counts = NULL;
	ArrayType  *trigrams;
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
	if (search->label != NULL && (trigrams = directory_trigrams(search->label)) != NULL)
	{
		Datum	   *elems;
		bool	   *elem_nulls;

		deconstruct_array(trigrams, TEXTOID, -1, false, TYPALIGN_INT, &elems, &elem_nulls,
						  &ntrigrams);
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
			similarity = directory_label_similarity(label, dir->labels[r]);
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
 * The districts of best, with their scores, that do not hold the search and
 * do not act, in the order of the result, up to limit, appended to the
 * function's result.
 */
static SgStatement similar_statement =
SG_QUERY(SG_GENERIC_PLAN, "SELECT " DIRECTORY_SELECT_LIST
					"  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) c(id, score)"
					" CROSS JOIN LATERAL (SELECT w.* FROM samegoal.districts w"
					"                      WHERE w.id = c.id OFFSET 0) d"
					" WHERE d.id <> $3"
					"   AND strpos(lower(d.domain), $4) = 0 AND strpos(lower(d.name), $4) = 0"
					" ORDER BY c.score DESC, d.name, d.domain"
					" LIMIT $5",
					5, INT8ARRAYOID, FLOAT8ARRAYOID, INT8OID, TEXTOID, INT4OID);

static void
read_similar(ReturnSetInfo *rsinfo, int64 district_id, const DirectorySearch *search,
			 int32 limit, const SimilarDistrict *best, int nbest)
{
	Datum	   *ids = palloc(sizeof(Datum) * nbest);
	Datum	   *scores = palloc(sizeof(Datum) * nbest);
	Datum		args[5];

	for (int c = 0; c < nbest; c++)
	{
		ids[c] = Int64GetDatum(best[c].id);
		scores[c] = Float8GetDatum(best[c].score);
	}
	args[0] = PointerGetDatum(construct_array(ids, nbest, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[1] = PointerGetDatum(construct_array(scores, nbest, FLOAT8OID, sizeof(float8),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[2] = Int64GetDatum(district_id);
	args[3] = CStringGetTextDatum(search->lowered);
	args[4] = Int32GetDatum(limit);
	(void) sg_execute(&similar_statement, args);
	(void) directory_store_results(rsinfo);
}

/*
 * The similar rank: districts similar to the search that do not hold it, up
 * to limit, most similar first, then by name, appended to the function's
 * result. At most excluded districts of the state hold the search or act, so
 * the best limit + excluded candidates (and, from SQL, those as similar as
 * the last) are all that can be in the result: every other candidate is
 * less similar than each of them, so no leaving out can bring one in.
 *
 * A large state is ranked from its copy in memory. When none can be had (the
 * state has no version row and none can be made here: see
 * directory_state_copy), its candidates come from SQL, as a smaller
 * state's do: the same result, in more time.
 */
void
directory_find_similar(ReturnSetInfo *rsinfo, Datum state, int64 district_id,
					   const DirectorySearch *search, int32 limit, int32 excluded)
{
	const StateDirectory *dir = NULL;
	SimilarDistrict *best;
	int			nbest;

	directory_use_trgm();
	if (directory_state_is_large(state))
		dir = directory_state_copy(state);

	if (dir != NULL)
	{
		Ranked	   *ranked;

		nbest = similar_in_memory(dir, search, limit + excluded, &ranked);
		best = palloc(sizeof(SimilarDistrict) * Max(nbest, 1));
		for (int c = 0; c < nbest; c++)
		{
			best[c].id = dir->ids[ranked[c].rank];
			best[c].score = ranked[c].score;
		}
	}
	else
		nbest = directory_similar_by_sql(state, search, limit + excluded, &best);

	if (nbest > 0)
		read_similar(rsinfo, district_id, search, limit, best, nbest);
}
