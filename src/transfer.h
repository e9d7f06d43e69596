/*-------------------------------------------------------------------------
 *
 * transfer.h
 *	  The transfer engine (transfer.c), apart from the SQL function that
 *	  calls it (transfer_sql.c), so that other features can run a transfer.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_TRANSFER_H
#define SAMEGOAL_TRANSFER_H

#include "fmgr.h"
#include "utils/array.h"

/*
 * What to transfer, as the caller has checked it: the 22023 rules of the
 * contract hold for every field (document_ids as sg_distinct_id_array makes
 * it; the strings neither NULL nor blank).
 */
typedef struct TransferRequest
{
	ArrayType  *document_ids;	/* sorted, distinct, no NULL */
	int			document_count; /* its number of elements */
	const char *receiving_domain;
	const char *receiving_sis_student_id;
	const char *receiving_owner;	/* username or email */
	bool		check_student_match;	/* compare the students (SG012): a call
										 * through a 1.1 declaration */
	bool		allow_mismatch; /* send even to a student who does not match */
	int64		request_id;		/* the transfer request it answers, or 0 */
} TransferRequest;

/* One result row of a transfer, in the contract's order of columns. */
typedef struct TransferResult
{
	bool		filled;			/* false until the row is known */
	int64		transfer_id;
	int64		source_document_id;
	int64		received_document_id;
	bool		copied;
} TransferResult;

extern void transfer_request_init(TransferRequest *request);
extern TransferResult *run_transfer(const TransferRequest *request, int *result_count);

/* transfer_sql.c: the results as the rows of a set-returning function */
extern void return_transfer_results(FunctionCallInfo fcinfo, const TransferResult *results,
									int count);

#endif							/* SAMEGOAL_TRANSFER_H */
