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
 * From version 1.3 on a held copy (documents.held) is not the district's to
 * purge: its ids are SG006, as unknown ones; sg_return_transfer purges it.
 * The statement that says so is used only where the catalog has held
 * arrivals, found as a member of the extension.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"

#include "samegoal.h"
#include "args.h"
#include "identity.h"
#include "owner.h"
#include "rules.h"
#include "spi.h"
#include "transfer.h"

/*
 * The statements take $1 = document ids, $2 = acting district, and the
 * tombstones $3 = acting user. Each is prepared on its first use (spi.h), so
 * a first purge that fails while preparing one of them leaves the others
 * ready and that one to be prepared by the next purge.
 */
static SgStatement lock_documents =
SG_STATEMENT("SELECT count(*), count(*) FILTER (WHERE deleted_at IS NULL)"
			 "  FROM (SELECT deleted_at FROM samegoal.documents"
			 "         WHERE id = ANY ($1) AND district_id = $2"
			 "         ORDER BY id FOR UPDATE) locked",
			 SPI_OK_SELECT, 2, INT8ARRAYOID, INT8OID);

static SgStatement lock_unheld_documents =
SG_STATEMENT("SELECT count(*), count(*) FILTER (WHERE deleted_at IS NULL)"
			 "  FROM (SELECT deleted_at FROM samegoal.documents"
			 "         WHERE id = ANY ($1) AND district_id = $2 AND NOT held"
			 "         ORDER BY id FOR UPDATE) locked",
			 SPI_OK_SELECT, 2, INT8ARRAYOID, INT8OID);

static SgStatement write_tombstones =
SG_STATEMENT("INSERT INTO samegoal.purged_documents"
			 "       (document_id, district_id, student_id, doc_type, purged_by)"
			 "SELECT id, district_id, student_id, doc_type, $3"
			 "  FROM samegoal.documents"
			 " WHERE id = ANY ($1) AND district_id = $2",
			 SPI_OK_INSERT, 3, INT8ARRAYOID, INT8OID, INT8OID);

static SgStatement unlink_transfer_record =
SG_STATEMENT("UPDATE samegoal.transfer_documents SET received_document_id = NULL"
			 " WHERE received_document_id = ANY ($1) AND receiving_district_id = $2",
			 SPI_OK_UPDATE, 2, INT8ARRAYOID, INT8OID);

static SgStatement delete_files =
SG_STATEMENT("DELETE FROM samegoal.document_files"
			 " WHERE document_id = ANY ($1) AND district_id = $2",
			 SPI_OK_DELETE, 2, INT8ARRAYOID, INT8OID);

/* From 1.3 on: the content goes with its last file (files_free_deleted). */
static SgStatement delete_shared_files =
SG_STATEMENT("DELETE FROM samegoal.files"
			 " WHERE document_id = ANY ($1) AND district_id = $2",
			 SPI_OK_DELETE, 2, INT8ARRAYOID, INT8OID);

static SgStatement delete_documents =
SG_STATEMENT("DELETE FROM samegoal.documents"
			 " WHERE id = ANY ($1) AND district_id = $2",
			 SPI_OK_DELETE, 2, INT8ARRAYOID, INT8OID);

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
	int64		found;
	int64		live;
	uint64		purged;

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	admin_id = sg_require_acting_admin();
	document_ids = sg_distinct_id_arg(fcinfo, 0, &requested);

	args[0] = PointerGetDatum(document_ids);
	args[1] = Int64GetDatum(sg_acting_district_id());
	args[2] = Int64GetDatum(admin_id);

	(void) sg_execute(sg_has_held_arrivals()
					  ? &lock_unheld_documents : &lock_documents, args);
	found = sg_result_int64(0, 1);
	live = sg_result_int64(0, 2);
	if (found != requested)
		sg_document_not_found();
	if (live > 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_DOCUMENT_LIVE),
				 errmsg("cannot purge a live document"),
				 errhint("Delete it first with samegoal.sg_delete_documents().")));

	(void) sg_execute(&write_tombstones, args);
	(void) sg_execute(&unlink_transfer_record, args);
	(void) sg_execute(sg_has_held_arrivals() ? &delete_shared_files : &delete_files, args);
	purged = sg_execute(&delete_documents, args);

	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	PG_RETURN_INT32((int32) purged);
}
