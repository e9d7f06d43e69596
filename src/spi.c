/*-------------------------------------------------------------------------
 *
 * spi.c
 *	  Kept statements: prepare once per session, run, check the exact
 *	  SPI_OK_* code, read int64 results.
 *
 * Modelled on ri_FetchPreparedPlan / ri_PlanCheck / ri_PerformCheck in
 * PostgreSQL's ri_triggers.c. A statement's plan slot is filled only by a
 * prepare that succeeded, and is emptied when its plan is no longer valid,
 * so the next use builds it again from the statement's text (SPI would
 * revalidate an invalidated plan by itself, but from the parse tree of the
 * first prepare, which fails when the objects it names were replaced or
 * their result type changed).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"

#include "spi.h"

void
sg_spi_connect(void)
{
	int			rc = SPI_connect();

	if (rc != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect returned %d", rc);
}

void
sg_spi_finish(void)
{
	int			rc = SPI_finish();

	if (rc != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish returned %d", rc);
}

/* Drop the statement's plan, if any; the next use prepares it again. */
void
sg_statement_forget(SgStatement *statement)
{
	SPIPlanPtr	plan = statement->plan;

	statement->plan = NULL;
	if (plan != NULL)
		SPI_freeplan(plan);
}

/*
 * The statement's kept plan, prepared now if there is none or the kept one
 * was invalidated. Needs SPI to be connected.
 */
SPIPlanPtr
sg_statement_plan(SgStatement *statement)
{
	SPIPlanPtr	plan;

	if (statement->plan != NULL && SPI_plan_is_valid(statement->plan))
		return statement->plan;
	sg_statement_forget(statement);

	Assert(statement->nargs >= 0 && statement->nargs <= SG_MAX_PARAMS);
	plan = SPI_prepare_cursor(statement->sql, statement->nargs, statement->argtypes,
							  statement->cursor_options);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_cursor failed for \"%s\": %s",
			 statement->sql, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed for \"%s\"", statement->sql);

	/* Only a plan that is kept fills the slot. */
	statement->plan = plan;
	return plan;
}

static uint64
check_result(const SgStatement *statement, int rc)
{
	if (rc != statement->expected)
		elog(ERROR, "SPI_execute_plan returned %s, expected %s, for \"%s\"",
			 SPI_result_code_string(rc), SPI_result_code_string(statement->expected),
			 statement->sql);
	return SPI_processed;
}

/*
 * Run the statement with these parameters (none NULL) and return the number
 * of rows it processed; the rows are in SPI_tuptable.
 */
uint64
sg_execute(SgStatement *statement, Datum *args)
{
	return sg_execute_nulls(statement, args, NULL);
}

/*
 * The same where isnull[i] tells that parameter i is NULL (isnull NULL: none
 * is).
 */
uint64
sg_execute_nulls(SgStatement *statement, Datum *args, const bool *isnull)
{
	SPIPlanPtr	plan = sg_statement_plan(statement);
	char		nulls[SG_MAX_PARAMS + 1];

	if (isnull != NULL)
	{
		for (int i = 0; i < statement->nargs; i++)
			nulls[i] = isnull[i] ? 'n' : ' ';
		nulls[statement->nargs] = '\0';
	}
	return check_result(statement,
						SPI_execute_plan(plan, args, isnull != NULL ? nulls : NULL,
										 statement->read_only, statement->max_rows));
}

/*
 * The same with the given snapshot, read-only and without firing triggers:
 * for a query that must see what committed after the transaction's snapshot
 * was taken.
 */
uint64
sg_execute_with_snapshot(SgStatement *statement, Datum *args, Snapshot snapshot)
{
	SPIPlanPtr	plan = sg_statement_plan(statement);

	return check_result(statement,
						SPI_execute_snapshot(plan, args, NULL, snapshot, InvalidSnapshot,
											 true, false, statement->max_rows));
}

/*
 * A bigint (or count) column of a row of the last result; 0 where it is NULL,
 * which the statements that read ids rule out.
 */
int64
sg_result_int64(uint64 row, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
									  column, &isnull);

	return isnull ? 0 : DatumGetInt64(value);
}

/* A bigint[] parameter holding these values. */
ArrayType *
sg_int64_array(const int64 *values, int count)
{
	Datum	   *datums = palloc(sizeof(Datum) * Max(count, 1));

	for (int i = 0; i < count; i++)
		datums[i] = Int64GetDatum(values[i]);
	return construct_array(datums, count, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
						   TYPALIGN_DOUBLE);
}

/* The count elements of a bigint[] without NULLs. */
int64 *
sg_int64_values(ArrayType *array, int count)
{
	Datum	   *datums;
	int64	   *values = palloc(sizeof(int64) * Max(count, 1));
	int			n;

	deconstruct_array(array, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &datums, NULL, &n);
	if (n != count)
		elog(ERROR, "bigint[] holds %d elements, expected %d", n, count);
	for (int i = 0; i < n; i++)
		values[i] = DatumGetInt64(datums[i]);
	return values;
}

/* qsort comparator for int64 values, and for structs that start with one. */
int
sg_compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}
