/*-------------------------------------------------------------------------
 *
 * args.c
 *	  The checks of the functions' arguments, one implementation for the C
 *	  functions and, through sg_trim, sg_require_text and sg_distinct_ids,
 *	  for the PL/pgSQL ones: the blank characters (SG_BLANKS), text that must
 *	  be given and not blank, and arrays of ids. NULL, blank, empty or holding
 *	  a NULL is 22023.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "args.h"
#include "spi.h"

/* The value without its surrounding blanks (SG_BLANKS), in a new string. */
char *
sg_trim_blanks(const char *value)
{
	const char *start = value + strspn(value, SG_BLANKS);
	size_t		len = strlen(start);

	while (len > 0 && strchr(SG_BLANKS, start[len - 1]) != NULL)
		len--;
	return pnstrdup(start, len);
}

/* Whether the value is empty or holds blanks (SG_BLANKS) only. */
bool
sg_is_blank(const char *value)
{
	return value[strspn(value, SG_BLANKS)] == '\0';
}

/*
 * The value when it is given, not blank, and, when max_length is not
 * negative, at most max_length characters long; else 22023 naming argname.
 */
char *
sg_require_text_value(const char *value, const char *argname, int max_length)
{
	if (value == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", argname)));
	if (sg_is_blank(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be blank", argname)));
	if (max_length >= 0 && pg_mbstrlen(value) > max_length)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be at most %d characters long", argname, max_length)));
	return (char *) value;
}

/* A text argument of a C function that must be neither NULL nor blank (22023). */
char *
sg_required_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	return sg_require_text_value(PG_ARGISNULL(argno) ? NULL :
								 text_to_cstring(PG_GETARG_TEXT_PP(argno)),
								 argname, -1);
}

/*
 * sg_require_text(value text, argument_name text, max_length integer) returns
 * text: the value, or 22023 when it is NULL, blank, or longer than max_length
 * (when max_length is not NULL)
 */
PG_FUNCTION_INFO_V1(sg_require_text);
Datum
sg_require_text(PG_FUNCTION_ARGS)
{
	const char *argname = PG_ARGISNULL(1) ? "value" : text_to_cstring(PG_GETARG_TEXT_PP(1));

	(void) sg_require_text_value(PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0)),
								 argname, PG_ARGISNULL(2) ? -1 : Max(PG_GETARG_INT32(2), 0));
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/* sg_trim(value text) returns text: the value without its surrounding blanks */
PG_FUNCTION_INFO_V1(sg_trim);
Datum
sg_trim(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(sg_trim_blanks(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}

/*
 * The ids of a bigint[] (of any number of dimensions), sorted and distinct,
 * as a one-dimensional array; NULL, empty, or holding a NULL is 22023.
 */
ArrayType *
sg_distinct_id_array(ArrayType *input, int *count)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	int64	   *ids;
	int			ndistinct = 0;

	if (input == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("document_ids must not be NULL")));
	if (ARR_ELEMTYPE(input) != INT8OID)
		elog(ERROR, "document_ids must be bigint[]");
	deconstruct_array(input, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &nelems);
	if (nelems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("document_ids must not be empty")));
	ids = palloc(sizeof(int64) * nelems);
	for (int i = 0; i < nelems; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("document_ids must not contain NULL")));
		ids[i] = DatumGetInt64(elems[i]);
	}

	qsort(ids, nelems, sizeof(int64), sg_compare_int64);
	for (int i = 0; i < nelems; i++)
		if (ndistinct == 0 || ids[i] != ids[ndistinct - 1])
			ids[ndistinct++] = ids[i];

	*count = ndistinct;
	return sg_int64_array(ids, ndistinct);
}

/* A bigint[] argument of a C function, as sg_distinct_id_array makes it. */
ArrayType *
sg_distinct_id_arg(FunctionCallInfo fcinfo, int argno, int *count)
{
	return sg_distinct_id_array(PG_ARGISNULL(argno) ? NULL : PG_GETARG_ARRAYTYPE_P(argno),
								count);
}

/* sg_distinct_ids(document_ids bigint[]) returns bigint[]: sorted, distinct, checked */
PG_FUNCTION_INFO_V1(sg_distinct_ids);
Datum
sg_distinct_ids(PG_FUNCTION_ARGS)
{
	int			count;

	PG_RETURN_ARRAYTYPE_P(sg_distinct_id_arg(fcinfo, 0, &count));
}

