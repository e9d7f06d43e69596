/*-------------------------------------------------------------------------
 *
 * files.c
 *	  Writes of samegoal.document_files, the view applications use for files
 *	  (1.3): its rows live in samegoal.files, and their bytes in
 *	  samegoal.file_contents, where a transfer shares them instead of copying
 *	  them (src/sql/40_documents.sql).
 *
 * The trigger runs as the caller, and decides as row-level security would on
 * the table of 1.2: when the policies of files apply to the caller
 * (check_enable_rls), a row written must pass files_own, that is belong to
 * the acting district and not be held; checked before anything is written, so
 * that no constraint or foreign key tells the caller of another district's
 * rows. The caller's column privileges were checked on the view. The rows are
 * then written as the owner of the tables, because the application has no
 * privilege on file_contents and must never choose a content_id: new bytes
 * always become new content of the file's own district, whatever exists
 * elsewhere, so no write tells a district that another holds the same bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "identity.h"
#include "owner.h"
#include "samegoal.h"
#include "spi.h"

/* The columns of document_files, in the view's order. */
enum FileColumn
{
	FILE_ID = 1,
	FILE_DISTRICT_ID,
	FILE_DOCUMENT_ID,
	FILE_FILENAME,
	FILE_CONTENT_TYPE,
	FILE_DATA,
	FILE_HELD,
	FILE_SHA256,
	FILE_NCOLUMNS = FILE_SHA256
};

static const char *const file_column_names[FILE_NCOLUMNS + 1] = {
	NULL, "id", "district_id", "document_id", "filename", "content_type", "data", "held", "sha256"
};

/* One row of document_files, as the trigger received it. */
typedef struct FileRow
{
	Datum		values[FILE_NCOLUMNS + 1];
	bool		nulls[FILE_NCOLUMNS + 1];
} FileRow;

static SgKnownRelation files_relation = {.name = "files"};

/*
 * $7, the id, is NULL but where the caller gave it: only the owner and
 * superusers have that privilege on the view, as COPY into the table of 1.2
 * could give it, and a dump of an earlier version restores its files so.
 */
static SgStatement insert_file_statement =
SG_STATEMENT("WITH c AS (INSERT INTO samegoal.file_contents (district_id, data)"
			 "           VALUES ($1, $5) RETURNING id, sha256)"
			 " INSERT INTO samegoal.files"
			 "        (id, district_id, document_id, filename, content_type, held, content_id)"
			 " OVERRIDING SYSTEM VALUE"
			 " SELECT coalesce($7, pg_catalog.nextval('samegoal.document_files_id_seq'::pg_catalog.regclass)),"
			 "        $1, $2, $3, $4, $6, c.id FROM c"
			 " RETURNING id, (SELECT c.sha256 FROM c)",
			 SPI_OK_INSERT_RETURNING, 7, INT8OID, INT8OID, TEXTOID, TEXTOID, BYTEAOID, BOOLOID,
			 INT8OID);

static SgStatement replace_file_statement =
SG_STATEMENT("WITH c AS (INSERT INTO samegoal.file_contents (district_id, data)"
			 "           VALUES ($1, $5) RETURNING id, sha256)"
			 " UPDATE samegoal.files f"
			 "    SET district_id = $1, document_id = $2, filename = $3, content_type = $4,"
			 "        held = $6, content_id = c.id"
			 "   FROM c WHERE f.id = $7"
			 " RETURNING f.id, c.sha256",
			 SPI_OK_UPDATE_RETURNING, 7, INT8OID, INT8OID, TEXTOID, TEXTOID, BYTEAOID, BOOLOID,
			 INT8OID);

/* $5, the bytes, is the file's own: not written. */
static SgStatement update_file_statement =
SG_STATEMENT("UPDATE samegoal.files f"
			 "    SET district_id = $1, document_id = $2, filename = $3, content_type = $4,"
			 "        held = $6"
			 "  WHERE f.id = $7"
			 " RETURNING f.id,"
			 "   (SELECT c.sha256 FROM samegoal.file_contents c WHERE c.id = f.content_id)",
			 SPI_OK_UPDATE_RETURNING, 7, INT8OID, INT8OID, TEXTOID, TEXTOID, BYTEAOID, BOOLOID,
			 INT8OID);

static SgStatement delete_file_statement =
SG_STATEMENT("DELETE FROM samegoal.files f WHERE f.id = $1",
			 SPI_OK_DELETE, 1, INT8OID);

static void
read_row(HeapTuple tuple, TupleDesc desc, FileRow *row)
{
	if (desc->natts != FILE_NCOLUMNS)
		elog(ERROR, "document_files has %d columns, expected %d", desc->natts, FILE_NCOLUMNS);
	for (int col = 1; col <= FILE_NCOLUMNS; col++)
	{
		if (strcmp(NameStr(TupleDescAttr(desc, col - 1)->attname), file_column_names[col]) != 0)
			elog(ERROR, "column %d of document_files is not %s", col, file_column_names[col]);
		row->values[col] = heap_getattr(tuple, col, desc, &row->nulls[col]);
	}
}

/* The errors the table of 1.2 gave, for the columns it had as NOT NULL. */
static void
check_not_null(const FileRow *row)
{
	static const int required[] = {FILE_DISTRICT_ID, FILE_DOCUMENT_ID, FILE_FILENAME,
	FILE_CONTENT_TYPE, FILE_DATA, FILE_HELD};

	for (size_t i = 0; i < lengthof(required); i++)
		if (row->nulls[required[i]])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"document_files\" violates not-null constraint",
							file_column_names[required[i]])));
}

/*
 * As a table refuses values for its generated columns, and an UPDATE of its
 * identity column; an INSERT may give the id (insert_file_statement).
 */
static void
check_not_given(const FileRow *row, const FileRow *old)
{
	static const int computed[] = {FILE_ID, FILE_SHA256};

	for (size_t i = 0; i < lengthof(computed); i++)
	{
		int			col = computed[i];
		bool		given;

		if (old == NULL && col == FILE_ID)
			continue;
		if (old == NULL)
			given = !row->nulls[col];
		else if (row->nulls[col] || old->nulls[col])
			given = row->nulls[col] != old->nulls[col];
		else if (col == FILE_ID)
			given = DatumGetInt64(row->values[col]) != DatumGetInt64(old->values[col]);
		else
			given = !datumIsEqual(row->values[col], old->values[col], false, -1);
		if (!given)
			continue;
		if (old == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_GENERATED_ALWAYS),
					 errmsg("cannot insert a non-DEFAULT value into column \"%s\"", file_column_names[col]),
					 errdetail("Column \"%s\" is computed by the database.", file_column_names[col])));
		ereport(ERROR,
				(errcode(ERRCODE_GENERATED_ALWAYS),
				 errmsg("column \"%s\" can only be updated to DEFAULT", file_column_names[col]),
				 errdetail("Column \"%s\" is computed by the database.", file_column_names[col])));
	}
}

/*
 * The WITH CHECK of policy files_own, for a caller it applies to: the row must
 * be the acting district's, and not held.
 */
static void
check_row_security(const FileRow *row)
{
	Oid			files = sg_known_relation(&files_relation);
	int64		acting;

	if (!OidIsValid(files))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table samegoal.files of extension %s is missing", SG_EXTENSION_NAME)));
	if (check_enable_rls(files, InvalidOid, false) != RLS_ENABLED)
		return;
	acting = sg_acting_district_id();
	if (acting == 0 || DatumGetInt64(row->values[FILE_DISTRICT_ID]) != acting ||
		DatumGetBool(row->values[FILE_HELD]))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("new row violates row-level security policy for table \"document_files\"")));
}

/*
 * Runs one of the statements above as the owner, on the row (its id: the one
 * the row has, NULL for an insert that gives none); returns its id and sha256.
 */
static void
write_as_owner(SgStatement *statement, const FileRow *row, int64 *id, Datum *sha256)
{
	SgOwnerScope scope;
	Datum		args[7];
	bool		args_null[7] = {false, false, false, false, false, false, false};
	uint64		nrows;
	bool		isnull;

	args[0] = row->values[FILE_DISTRICT_ID];
	args[1] = row->values[FILE_DOCUMENT_ID];
	args[2] = row->values[FILE_FILENAME];
	args[3] = row->values[FILE_CONTENT_TYPE];
	args[4] = row->values[FILE_DATA];
	args[5] = row->values[FILE_HELD];
	args[6] = row->values[FILE_ID];
	args_null[6] = row->nulls[FILE_ID];

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	nrows = sg_execute_nulls(statement, args, args_null);
	if (nrows != 1)
		elog(ERROR, "wrote " UINT64_FORMAT " files instead of one", nrows);
	*id = sg_result_int64(0, 1);
	*sha256 = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	*sha256 = isnull ? (Datum) 0 : SPI_datumTransfer(*sha256, false, -1);
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
}

PG_FUNCTION_INFO_V1(sg_document_files_write);
Datum
sg_document_files_write(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	FileRow		row;
	FileRow		old;
	int64		id;
	Datum		sha256;
	int			columns[2] = {FILE_ID, FILE_SHA256};
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_INSTEAD(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("sg_document_files_write() must run as an INSTEAD OF row trigger")));
	desc = RelationGetDescr(trigdata->tg_relation);

	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		SgOwnerScope scope;
		Datum		args[1];

		read_row(trigdata->tg_trigtuple, desc, &old);
		args[0] = old.values[FILE_ID];
		sg_enter_owner_scope(&scope);
		sg_spi_connect();
		(void) sg_execute(&delete_file_statement, args);
		sg_spi_finish();
		sg_leave_owner_scope(&scope);
		return PointerGetDatum(trigdata->tg_trigtuple);
	}

	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
	{
		read_row(trigdata->tg_trigtuple, desc, &row);
		check_not_given(&row, NULL);
		check_not_null(&row);
		check_row_security(&row);
		write_as_owner(&insert_file_statement, &row, &id, &sha256);
		values[0] = Int64GetDatum(id);
		values[1] = sha256;
		nulls[1] = sha256 == (Datum) 0;
		return PointerGetDatum(heap_modify_tuple_by_cols(trigdata->tg_trigtuple, desc, 2,
														 columns, values, nulls));
	}

	/* UPDATE */
	read_row(trigdata->tg_trigtuple, desc, &old);
	read_row(trigdata->tg_newtuple, desc, &row);
	check_not_given(&row, &old);
	check_not_null(&row);
	/* As files_district_kept says it of files, in the view's name. */
	if (DatumGetInt64(row.values[FILE_DISTRICT_ID]) != DatumGetInt64(old.values[FILE_DISTRICT_ID]))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("a row of document_files cannot move to another district")));
	check_row_security(&row);
	/*
	 * Bytes not assigned come back as the very value read (the same TOAST
	 * pointer): the file keeps its content. Any other value, equal bytes
	 * included, is new content, as on insert.
	 */
	if (datumIsEqual(row.values[FILE_DATA], old.values[FILE_DATA], false, -1))
		write_as_owner(&update_file_statement, &row, &id, &sha256);
	else
		write_as_owner(&replace_file_statement, &row, &id, &sha256);
	values[0] = Int64GetDatum(id);
	values[1] = sha256;
	nulls[1] = sha256 == (Datum) 0;
	return PointerGetDatum(heap_modify_tuple_by_cols(trigdata->tg_newtuple, desc, 2,
													 columns, values, nulls));
}
