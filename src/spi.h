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
 * designated initializers; only spi.c touches plan.
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

/*
 * The initializer of a statement run for its writes or with a fresh snapshot
 * (read_only false), returning all its rows, with a plan of SPI's choice.
 */
#define SG_STATEMENT(text, expected_rc, n, ...) \
	{ \
		.sql = (text), \
		.nargs = (n), \
		.argtypes = {__VA_ARGS__}, \
		.expected = (expected_rc), \
	}

extern void sg_spi_connect(void);
extern void sg_spi_finish(void);

extern SPIPlanPtr sg_statement_plan(SgStatement *statement);
extern void sg_statement_forget(SgStatement *statement);
extern uint64 sg_execute(SgStatement *statement, Datum *args);
extern uint64 sg_execute_with_snapshot(SgStatement *statement, Datum *args,
									   Snapshot snapshot);

extern int64 sg_result_int64(uint64 row, int column);
extern ArrayType *sg_int64_array(const int64 *values, int count);
extern int64 *sg_int64_values(ArrayType *array, int count);
extern int	sg_compare_int64(const void *a, const void *b);

#endif							/* SAMEGOAL_SPI_H */
