/*-------------------------------------------------------------------------
 *
 * directory_text.c
 *	  The district directory's pure text work: the words of a name or a
 *	  search, LIKE patterns, the label a search is compared with, and
 *	  sg_directory_words, which splits names as searches are split.
 *
 * Nothing here reads a table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"

#include "args.h"
#include "directory.h"

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
bool
directory_prepare_search(text *search, DirectorySearch *out)
{
	/* A word of a name starts the name or follows one of these. */
	static const char *const word_starts[] = {"", "% ", "%-", "%/", "%("};
	const char *blanks = SG_BLANKS;
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
text *
directory_above_prefix(const char *prefix)
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

