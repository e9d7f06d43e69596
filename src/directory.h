/*-------------------------------------------------------------------------
 *
 * directory.h
 *	  The search state and settings shared by the files of the district
 *	  directory: directory.c (sg_find_district: the exact, prefix, word and
 *	  substring ranks, and the listing), directory_text.c (the words,
 *	  patterns and labels of a search; pure text work), directory_similar.c
 *	  (the similar rank: a large state's from its copy in memory, top-k),
 *	  directory_typos.c (the pg_trgm layer: the vocabulary, the candidates of
 *	  the similar rank read by SQL) and directory_cache.c (a large state's
 *	  copy in memory and its version row).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_DIRECTORY_H
#define SAMEGOAL_DIRECTORY_H

#include "fmgr.h"
#include "funcapi.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "utils/array.h"

#include "spi.h"

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
 * Every directory statement is a read-only SELECT kept with a generic plan
 * (SG_QUERY(SG_GENERIC_PLAN, ...)): its parameters only decide which index
 * entries are read, so one plan suits every call, and no call pays for
 * planning.
 */

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

/*
 * A large state's directory in the session's memory (directory_cache.c):
 * its districts in name order (their place is their rank), and for each label
 * trigram and each word of a name, bytewise sorted, the ranks of the districts
 * holding it, ascending.
 */
typedef struct StateDirectory
{
	MemoryContext cxt;
	char	   *state;
	int64		xmin;			/* of the directory_states row read under */
	int64		version;
	int			ndistricts;
	int64	   *ids;			/* by rank */
	text	  **labels;			/* first label of the domain, lowered, by rank */
	int			ntrigrams;
	char	  **trigrams;
	int32	   *trigram_starts; /* ntrigrams + 1 offsets into trigram_postings */
	int32	   *trigram_postings;
	int			nwords;
	char	  **words;
	int32	   *word_starts;
	int32	   *word_postings;
} StateDirectory;

/* A word of the vocabulary and its similarity to each search word. */
typedef struct VocabularyMatch
{
	char	   *word;
	float4		similarity[SIMILARITY_MAX_WORDS];	/* -1 where it does not match */
} VocabularyMatch;

/* A district of the similar rank: its id and its score. */
typedef struct SimilarDistrict
{
	int64		id;
	float8		score;
} SimilarDistrict;

/* directory.c */
extern int32 directory_store_results(ReturnSetInfo *rsinfo);
extern bool directory_state_is_large(Datum state);

/* directory_text.c */
extern bool directory_prepare_search(text *search, DirectorySearch *out);
extern text *directory_above_prefix(const char *prefix);

/* directory_cache.c */
extern const StateDirectory *directory_state_copy(Datum state);
extern int32 directory_state_list(char *const *keys, const int32 *starts, int nkeys,
								  const char *key, const int32 **ranks,
								  const int32 *postings);

/* directory_typos.c */
extern void directory_use_trgm(void);
extern int	directory_match_vocabulary(const DirectorySearch *search,
									   VocabularyMatch **matches);
extern ArrayType *directory_trigrams(const char *text);
extern float4 directory_label_similarity(text *search_label, text *label);
extern int	directory_similar_by_sql(Datum state, const DirectorySearch *search, int32 wanted,
									 SimilarDistrict **best);

/* directory_similar.c */
extern void directory_find_similar(ReturnSetInfo *rsinfo, Datum state, int64 district_id,
								   const DirectorySearch *search, int32 limit,
								   int32 excluded);

#endif							/* SAMEGOAL_DIRECTORY_H */
