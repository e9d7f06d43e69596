/*-------------------------------------------------------------------------
 *
 * purge.c
 *	  sg_purge_documents: permanently remove deleted documents of the acting
 *	  district.
 *
 * A purge removes the document rows and their files, the only rows that hold a
 * document's content, and leaves a tombstone without title, content or file.
 * Where a transfer delivered the document, the receiving side of the transfer
 * record is unlinked; the record itself, and the sending district's original,
 * stay: they are the sending district's record of disclosure.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"

#include "samegoal.h"

typedef struct PurgePlans
{
	SPIPlanPtr	lock_documents;
	SPIPlanPtr	write_tombstones;
	SPIPlanPtr	unlink_transfer_record;
	SPIPlanPtr	delete_files;
	SPIPlanPtr	delete_documents;
} PurgePlans;

static PurgePlans plans;

/* Statements take $1 = document ids, $2 = acting district, $3 = acting user. */
static void
prepare_purge_plans(void)
{
	Oid			argtypes[3] = {INT8ARRAYOID, INT8OID, INT8OID};

	if (plans.lock_documents != NULL)
		return;

	plans.lock_documents = sg_prepare_kept(
										   "SELECT count(*), count(*) FILTER (WHERE deleted_at IS NULL)"
										   "  FROM (SELECT deleted_at FROM samegoal.documents"
										   "         WHERE id = ANY ($1) AND district_id = $2"
										   "         ORDER BY id FOR UPDATE) locked",
										   2, argtypes);
	plans.write_tombstones = sg_prepare_kept(
											 "INSERT INTO samegoal.purged_documents"
											 "       (document_id, district_id, student_id, doc_type, purged_by)"
											 "SELECT id, district_id, student_id, doc_type, $3"
											 "  FROM samegoal.documents"
											 " WHERE id = ANY ($1) AND district_id = $2",
											 3, argtypes);
	plans.unlink_transfer_record = sg_prepare_kept(
												   "UPDATE samegoal.transfer_documents SET received_document_id = NULL"
												   " WHERE received_document_id = ANY ($1) AND receiving_district_id = $2",
												   2, argtypes);
	plans.delete_files = sg_prepare_kept(
										 "DELETE FROM samegoal.document_files"
										 " WHERE document_id = ANY ($1) AND district_id = $2",
										 2, argtypes);
	plans.delete_documents = sg_prepare_kept(
											 "DELETE FROM samegoal.documents"
											 " WHERE id = ANY ($1) AND district_id = $2",
											 2, argtypes);
}

static uint64
run_purge_statement(SPIPlanPtr plan, Datum *args, int expected_rc)
{
	int			rc = SPI_execute_plan(plan, args, NULL, false, 0);

	if (rc != expected_rc)
		elog(ERROR, "SPI_execute_plan returned %d", rc);
	return SPI_processed;
}

/* sg_purge_documents(document_ids bigint[]) returns integer: purge deleted documents */
PG_FUNCTION_INFO_V1(sg_purge_documents);
Datum
sg_purge_documents(PG_FUNCTION_ARGS)
{
	SgOwnerScope scope;
	ArrayType  *document_ids;
	int			requested;
	int64		admin_id;
	Datum		args[3];
	bool		isnull;
	int64		found;
	int64		live;
	uint64		purged;

	sg_enter_owner_scope(&scope);
	sg_connect_spi();
	admin_id = sg_require_acting_admin();
	document_ids = sg_distinct_id_array(fcinfo, 0, &requested);
	prepare_purge_plans();

	args[0] = PointerGetDatum(document_ids);
	args[1] = Int64GetDatum(sg_acting_district_id());
	args[2] = Int64GetDatum(admin_id);

	run_purge_statement(plans.lock_documents, args, SPI_OK_SELECT);
	found = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	live = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (found != requested)
		ereport(ERROR,
				(errcode(ERRCODE_SG_DOCUMENT_NOT_FOUND),
				 errmsg("document not found"),
				 errdetail("No document with that id exists in this district.")));
	if (live > 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_DOCUMENT_LIVE),
				 errmsg("cannot purge a live document"),
				 errhint("Delete it first with samegoal.sg_delete_documents().")));

	run_purge_statement(plans.write_tombstones, args, SPI_OK_INSERT);
	run_purge_statement(plans.unlink_transfer_record, args, SPI_OK_UPDATE);
	run_purge_statement(plans.delete_files, args, SPI_OK_DELETE);
	purged = run_purge_statement(plans.delete_documents, args, SPI_OK_DELETE);

	sg_finish_spi();
	sg_leave_owner_scope(&scope);
	PG_RETURN_INT32((int32) purged);
}
