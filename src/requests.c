/*-------------------------------------------------------------------------
 *
 * requests.c
 *	  sg_fulfill_transfer_request: the district asked answers a transfer
 *	  request with a transfer. The other request functions (request, decline,
 *	  cancel, acknowledge) need no cross-district reads beyond the request
 *	  itself and are PL/pgSQL (src/sql/55_requests.sql); this one is C because
 *	  it runs the transfer engine, every check of sg_transfer_documents
 *	  included.
 *
 * The request is locked FOR UPDATE before the transfer, so that two admins
 * answering one request take turns: the second finds it answered (SG011).
 * The transfer goes to the request's student and owner as they are now (by
 * the district's current domain, the student's SIS Student ID and the owner's
 * username), so a student or user changed since the request is checked
 * again, as in any transfer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "samegoal.h"
#include "spi.h"
#include "transfer.h"

/* SG011 comes from the locking function, shared with decline and cancel. */
static SgStatement lock_request_statement =
SG_STATEMENT("SELECT r.id, d.domain, s.sis_student_id, u.username"
			 "  FROM samegoal.sg_lock_open_request($1, true) r"
			 "  JOIN samegoal.districts d ON d.id = r.requesting_district_id"
			 "  JOIN samegoal.students s ON s.district_id = r.requesting_district_id"
			 "                          AND s.id = r.receiving_student_id"
			 "  JOIN samegoal.users u ON u.district_id = r.requesting_district_id"
			 "                       AND u.id = r.receiving_owner_id",
			 SPI_OK_SELECT, 1, INT8OID);

/* As a decline or a cancellation is recorded, with the notification. */
static SgStatement mark_fulfilled_statement =
SG_STATEMENT("SELECT samegoal.sg_set_request_status($1, 'fulfilled', $2, NULL, NULLIF($3, 0))",
			 SPI_OK_SELECT, 3, INT8OID, INT8OID, INT8OID);

/*
 * Lock the request and fill the receiving side of the transfer from it. The
 * strings are copied out of SPI's memory into the caller's.
 */
static void
lock_request(int64 request_id, TransferRequest *request)
{
	SgOwnerScope scope;
	Datum		arg = Int64GetDatum(request_id);
	MemoryContext caller = CurrentMemoryContext;

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	if (sg_execute(&lock_request_statement, &arg) != 1)
		elog(ERROR, "transfer request " INT64_FORMAT " has no student or owner", request_id);
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		request->receiving_domain = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		request->receiving_sis_student_id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		request->receiving_owner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
		MemoryContextSwitchTo(spi);
	}
	request->request_id = request_id;
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
}

/* The request becomes fulfilled, with the transfer that copied (or none). */
static void
mark_fulfilled(int64 request_id, int64 admin_id, const TransferResult *results, int count)
{
	SgOwnerScope scope;
	Datum		args[3];
	int64		transfer_id = 0;

	for (int i = 0; i < count; i++)
		if (results[i].copied)
			transfer_id = results[i].transfer_id;

	args[0] = Int64GetDatum(request_id);
	args[1] = Int64GetDatum(admin_id);
	args[2] = Int64GetDatum(transfer_id);

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	(void) sg_execute(&mark_fulfilled_statement, args);
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
}

/*
 * sg_fulfill_transfer_request(request_id bigint, document_ids bigint[],
 * allow_mismatch boolean) returns table: answer a request with a transfer
 */
PG_FUNCTION_INFO_V1(sg_fulfill_transfer_request);
Datum
sg_fulfill_transfer_request(PG_FUNCTION_ARGS)
{
	TransferRequest request;
	TransferResult *results;
	int64		admin_id;
	int64		request_id;
	int			count;

	/* 42501, then 22023, then SG011; the engine checks the rest in its order. */
	admin_id = sg_require_acting_admin();
	transfer_request_init(&request);
	request.document_ids = sg_distinct_id_arg(fcinfo, 1, &request.document_count);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("allow_mismatch must not be NULL")));
	request.allow_mismatch = PG_GETARG_BOOL(2);
	request.check_student_match = true;
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("request_id must not be NULL")));
	request_id = PG_GETARG_INT64(0);

	lock_request(request_id, &request);
	results = run_transfer(&request, &count);
	mark_fulfilled(request_id, admin_id, results, count);
	return_transfer_results(fcinfo, results, count);
	return (Datum) 0;
}
