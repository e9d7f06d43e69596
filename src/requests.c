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
 * The transfer goes to the request's district, student and owner by their
 * ids, which the engine locks and checks as it does the rows a transfer names
 * (the owner must still be an active user there, SG005), without turning them
 * into names and back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "samegoal.h"
#include "args.h"
#include "identity.h"
#include "owner.h"
#include "spi.h"
#include "transfer.h"

/* SG011 comes from the locking function, shared with decline and cancel. */
static SgStatement lock_request_statement =
SG_STATEMENT("SELECT r.id, r.requesting_district_id, r.receiving_student_id, r.receiving_owner_id"
			 "  FROM samegoal.sg_lock_open_request($1, true) r",
			 SPI_OK_SELECT, 1, INT8OID);

/*
 * As a decline or a cancellation is recorded, with the notification; the
 * transfer is NULL when nothing was copied.
 */
static SgStatement mark_fulfilled_statement =
SG_STATEMENT("SELECT samegoal.sg_set_request_status($1, 'fulfilled', $2, NULL, $3)",
			 SPI_OK_SELECT, 3, INT8OID, INT8OID, INT8OID);

/* Lock the request and fill the receiving side of the order with its ids. */
static void
lock_request(int64 request_id, TransferOrder *order)
{
	SgOwnerScope scope;
	Datum		arg = Int64GetDatum(request_id);

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	if (sg_execute(&lock_request_statement, &arg) != 1)
		elog(ERROR, "transfer request " INT64_FORMAT " was not locked", request_id);
	order->request_id = sg_result_int64(0, 1);
	order->receiving_district_id = sg_result_int64(0, 2);
	order->receiving_student_id = sg_result_int64(0, 3);
	order->receiving_owner_id = sg_result_int64(0, 4);
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
}

/* The request becomes fulfilled, with the transfer that copied (or none). */
static void
mark_fulfilled(int64 request_id, int64 admin_id, const TransferResult *results, int count)
{
	SgOwnerScope scope;
	Datum		args[3];
	bool		isnull[3] = {false, false, true};

	args[0] = Int64GetDatum(request_id);
	args[1] = Int64GetDatum(admin_id);
	args[2] = (Datum) 0;
	for (int i = 0; i < count; i++)
		if (results[i].copied)
		{
			args[2] = Int64GetDatum(results[i].transfer_id);
			isnull[2] = false;
		}

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	(void) sg_execute_nulls(&mark_fulfilled_statement, args, isnull);
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
	TransferOrder order;
	TransferResult *results;
	int64		request_id;
	int			count;

	/* 42501, then 22023, then SG011; the engine checks the rest in its order. */
	transfer_order_init(&order, sg_require_acting_admin());
	order.document_ids = sg_distinct_id_arg(fcinfo, 1, &order.document_count);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("allow_mismatch must not be NULL")));
	order.allow_mismatch = PG_GETARG_BOOL(2);
	order.check_student_match = true;
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("request_id must not be NULL")));
	request_id = PG_GETARG_INT64(0);

	lock_request(request_id, &order);
	results = run_transfer(&order, &count);
	mark_fulfilled(request_id, order.admin_id, results, count);
	return_transfer_results(fcinfo, results, count);
	return (Datum) 0;
}
