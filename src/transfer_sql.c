/*-------------------------------------------------------------------------
 *
 * transfer_sql.c
 *	  sg_transfer_documents: the SQL entry of the transfer engine. It checks
 *	  the acting administrator once, converts the arguments into a
 *	  TransferOrder, runs it with
 *	  run_transfer (transfer.c), and returns the results as a table.
 *
 * The same library serves the 1.0 declaration, with four arguments, and the
 * later one with a fifth, allow_mismatch boolean DEFAULT false: PG_NARGS()
 * tells which one called. Only a call through the later one asks for the
 * wrong-student guard (SG012): a database still at 1.0 keeps 1.0's behaviour
 * until ALTER EXTENSION ... UPDATE, after which four-argument calls reach the
 * five-argument declaration through its default and are guarded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/tuplestore.h"

#include "samegoal.h"
#include "args.h"
#include "identity.h"
#include "transfer.h"

#define TRANSFER_RESULT_COLUMNS 4

/*
 * The order of a call, for this administrator; 22023 for an argument that is
 * NULL or blank, an empty array or one holding a NULL.
 */
static void
parse_transfer_arguments(FunctionCallInfo fcinfo, int64 admin_id, TransferOrder *request)
{
	transfer_order_init(request, admin_id);
	request->document_ids = sg_distinct_id_arg(fcinfo, 0, &request->document_count);
	request->receiving_domain = sg_required_text_arg(fcinfo, 1, "receiving_domain");
	request->receiving_sis_student_id =
		sg_required_text_arg(fcinfo, 2, "receiving_sis_student_id");
	request->receiving_owner = sg_required_text_arg(fcinfo, 3, "receiving_owner");
	if (PG_NARGS() > 4)
	{
		if (PG_ARGISNULL(4))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("allow_mismatch must not be NULL")));
		request->allow_mismatch = PG_GETARG_BOOL(4);
		request->check_student_match = true;
	}
}

/* One row per result, in the order of the results. */
void
return_transfer_results(FunctionCallInfo fcinfo, const TransferResult *results, int count)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < count; i++)
	{
		Datum		values[TRANSFER_RESULT_COLUMNS];
		bool		nulls[TRANSFER_RESULT_COLUMNS] = {false, false, false, false};

		values[0] = Int64GetDatum(results[i].transfer_id);
		values[1] = Int64GetDatum(results[i].source_document_id);
		values[2] = Int64GetDatum(results[i].received_document_id);
		values[3] = BoolGetDatum(results[i].copied);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/*
 * sg_transfer_documents(document_ids bigint[], receiving_domain text,
 * receiving_sis_student_id text, receiving_owner text [, allow_mismatch
 * boolean]) returns table: copy documents to another district
 */
PG_FUNCTION_INFO_V1(sg_transfer_documents);
Datum
sg_transfer_documents(PG_FUNCTION_ARGS)
{
	TransferOrder order;
	TransferResult *results;
	int			count;

	/* The contract orders 42501 before 22023. */
	parse_transfer_arguments(fcinfo, sg_require_acting_admin(), &order);
	results = run_transfer(&order, &count);
	return_transfer_results(fcinfo, results, count);
	return (Datum) 0;
}
