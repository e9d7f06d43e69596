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
 * What to transfer, the engine's input, as the caller has checked it: the
 * acting administrator (42501) and the 22023 rules of the contract hold for
 * every field (document_ids as sg_distinct_id_array makes it; the strings
 * neither NULL nor blank). The receiving side comes by name, as a caller of
 * sg_transfer_documents gives it, or, answering a request (request_id not 0),
 * as the request's ids, which the engine locks and checks as it would the
 * rows it finds by name.
 */
typedef struct TransferOrder
{
	int64		admin_id;		/* the acting administrator */
	ArrayType  *document_ids;	/* sorted, distinct, no NULL */
	int			document_count; /* its number of elements */
	/* by name (request_id 0) */
	const char *receiving_domain;
	const char *receiving_sis_student_id;
	const char *receiving_owner;	/* username or email */
	/* by id (request_id not 0) */
	int64		receiving_district_id;
	int64		receiving_student_id;
	int64		receiving_owner_id;
	bool		check_student_match;	/* compare the students (SG012): a call
										 * through a 1.1 declaration */
	bool		allow_mismatch; /* send even to a student who does not match */
	int64		request_id;		/* the transfer request it answers, or 0 */
} TransferOrder;

/* One result row of a transfer, in the contract's order of columns. */
typedef struct TransferResult
{
	bool		filled;			/* false until the row is known */
	int64		transfer_id;
	int64		source_document_id;
	int64		received_document_id;
	bool		copied;
} TransferResult;

extern void transfer_order_init(TransferOrder *order, int64 admin_id);
extern TransferResult *run_transfer(const TransferOrder *order, int *result_count);

/* transfer.c: whether the catalog has held arrivals (1.3) */
extern bool sg_has_held_arrivals(void);

/* transfer_sql.c: the results as the rows of a set-returning function */
extern void return_transfer_results(FunctionCallInfo fcinfo, const TransferResult *results,
									int count);

#endif							/* SAMEGOAL_TRANSFER_H */
