/*-------------------------------------------------------------------------
 *
 * spi.h
 *	  The one way samegoal_transfer runs SQL through SPI: a statement is
 *	  declared once with its parameter types and the SPI_OK_* code it must
 *	  return, prepared on first use, kept for the session, and run through
 *	  sg_execute().
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_SPI_H
#define SAMEGOAL_SPI_H

#include "executor/spi.h"
#include "utils/array.h"
#include "utils/snapshot.h"

#include "compat.h"

#define SG_MAX_PARAMS	8

/*
 * A statement kept for the session. Declare one as a static variable with
 * SG_STATEMENT, SG_STATEMENT_WITH or SG_QUERY below, the one way to spell a
 * statement; only spi.c touches plan.
 *
 * plan is assigned only once SPI_keepplan has succeeded, and every use goes
 * through sg_statement_plan(), which prepares the statement whenever plan is
 * NULL or no longer valid. So a prepare that fails (a lock_timeout, a
 * statement_timeout, a cancel) leaves the slot empty, never half-made, and
 * a module's statements are each either ready or prepared on their next use:
 * there is no "prepared them all" flag to get wrong.
 */
typedef struct SgStatement
{
	const char *sql;
	int			nargs;
	Oid			argtypes[SG_MAX_PARAMS];
	int			expected;		/* the SPI_OK_* code the statement returns */
	bool		read_only;		/* as SPI_execute_plan's read_only */
	long		max_rows;		/* as SPI_execute_plan's count: 0 for all */
	int			cursor_options; /* 0, or CURSOR_OPT_GENERIC_PLAN */
	SPIPlanPtr	plan;			/* NULL until prepared and kept */
} SgStatement;

/* Options of a statement, or'ed together; 0 for none. */
#define SG_READ_ONLY	0x01	/* run read-only, on the current snapshot */
#define SG_FIRST_ROW	0x02	/* stop after the first row */
#define SG_GENERIC_PLAN 0x04	/* one generic plan for every call */

/*
 * A statement with these options, its text, the SPI_OK_* code it returns, and
 * its n parameter types.
 */
#define SG_STATEMENT_WITH(options, text, expected_rc, n, ...) \
	{ \
		.sql = (text), \
		.nargs = (n), \
		.argtypes = {__VA_ARGS__}, \
		.expected = (expected_rc), \
		.read_only = ((options) & SG_READ_ONLY) != 0, \
		.max_rows = ((options) & SG_FIRST_ROW) != 0 ? 1 : 0, \
		.cursor_options = ((options) & SG_GENERIC_PLAN) != 0 ? CURSOR_OPT_GENERIC_PLAN : 0, \
	}

/*
 * A statement run for its writes or with a fresh snapshot, returning all its
 * rows, with a plan of SPI's choice.
 */
#define SG_STATEMENT(text, expected_rc, n, ...) \
	SG_STATEMENT_WITH(0, text, expected_rc, n, __VA_ARGS__)

/* A read-only SELECT with these further options. */
#define SG_QUERY(options, text, n, ...) \
	SG_STATEMENT_WITH(SG_READ_ONLY | (options), text, SPI_OK_SELECT, n, __VA_ARGS__)

extern void sg_spi_connect(void);
extern void sg_spi_finish(void);

extern SPIPlanPtr sg_statement_plan(SgStatement *statement);
extern void sg_statement_forget(SgStatement *statement);
extern uint64 sg_execute(SgStatement *statement, Datum *args);
extern uint64 sg_execute_nulls(SgStatement *statement, Datum *args, const bool *isnull);
extern uint64 sg_execute_with_snapshot(SgStatement *statement, Datum *args,
									   Snapshot snapshot);

extern int64 sg_result_int64(uint64 row, int column);
extern ArrayType *sg_int64_array(const int64 *values, int count);
extern int64 *sg_int64_values(ArrayType *array, int count);
extern int	sg_compare_int64(const void *a, const void *b);

#endif							/* SAMEGOAL_SPI_H */
