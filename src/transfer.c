/*-------------------------------------------------------------------------
 *
 * transfer.c
 *	  District-to-District Transfer: sg_transfer_documents copies documents of
 *	  one student of the acting admin's district to a student of another
 *	  district of the same state, and records the disclosure.
 *
 * Locking. Both district rows are locked FOR SHARE in id order before their
 * settings are read, so a transfer and a change of either district's setting
 * (an UPDATE of the row) never interleave, and two transfers in opposite
 * directions lock in the same order. The trigger on samegoal.transfers takes
 * the same locks. The original documents are locked FOR SHARE, so that they
 * cannot be deleted or changed while they are copied, and the receiving
 * student FOR NO KEY UPDATE, so that two transfers to one student take turns:
 * the second sees the first one's copies and does not copy them again.
 *
 * Every statement is prepared once per session and works on whole arrays of
 * ids: the documents, their files and the transfer_documents rows are each
 * copied by one INSERT ... SELECT, whatever the number of documents.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "samegoal.h"

/* How much of a caller's string an error message repeats. */
#define SG_ECHO_MAX_BYTES 100

/* A district row, as locked and read before the checks. */
typedef struct DistrictSettings
{
	int64		id;				/* 0 when there is no such district */
	char	   *state;
	bool		transfers_enabled;
} DistrictSettings;

/* Everything a transfer needs once the checks have passed. */
typedef struct TransferParties
{
	int64		admin_id;
	int64		sending_district_id;
	int64		receiving_district_id;
	int64		sending_student_id;
	int64		receiving_student_id;
	int64		receiving_owner_id;
} TransferParties;

/* One result row; filled is false until the row is known. */
typedef struct TransferResult
{
	bool		filled;
	int64		transfer_id;
	int64		source_document_id;
	int64		received_document_id;
	bool		copied;
} TransferResult;

/* Copies made by this transfer, sorted by source document id. */
typedef struct CopyPair
{
	int64		source_id;
	int64		copy_id;
} CopyPair;

static SPIPlanPtr find_district_plan = NULL;
static SPIPlanPtr lock_districts_plan = NULL;
static SPIPlanPtr lock_documents_plan = NULL;
static SPIPlanPtr lock_student_plan = NULL;
static SPIPlanPtr find_owner_plan = NULL;
static SPIPlanPtr live_copies_plan = NULL;
static SPIPlanPtr insert_transfer_plan = NULL;
static SPIPlanPtr copy_documents_plan = NULL;
static SPIPlanPtr copy_files_plan = NULL;
static SPIPlanPtr record_documents_plan = NULL;
static SPIPlanPtr notify_plan = NULL;

/* Prepare a statement the first time it is needed; keep it for the session. */
static SPIPlanPtr
kept_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	if (*slot == NULL)
		*slot = sg_prepare_kept(sql, nargs, argtypes);
	return *slot;
}

static void
check_spi(int rc, int expected)
{
	if (rc != expected)
		elog(ERROR, "SPI_execute_plan returned %d (expected %d)", rc, expected);
}

static int64
result_int64(int row, int column, bool *isnull)
{
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[row],
									   SPI_tuptable->tupdesc, column, isnull));
}

/* A caller's string for an error message: at most SG_ECHO_MAX_BYTES bytes. */
static char *
echo(const char *value)
{
	int			len = strlen(value);
	int			clip;

	if (len <= SG_ECHO_MAX_BYTES)
		return pstrdup(value);
	clip = pg_mbcliplen(value, len, SG_ECHO_MAX_BYTES);
	return psprintf("%.*s...", clip, value);
}

static ArrayType *
int64_array(const int64 *values, int count)
{
	Datum	   *datums = palloc(sizeof(Datum) * Max(count, 1));

	for (int i = 0; i < count; i++)
		datums[i] = Int64GetDatum(values[i]);
	return construct_array(datums, count, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
						   TYPALIGN_DOUBLE);
}

/* The elements of a bigint[] without NULLs. */
static int64 *
int64_values(ArrayType *array, int count)
{
	Datum	   *datums;
	int64	   *values = palloc(sizeof(int64) * Max(count, 1));
	int			n;

	deconstruct_array(array, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &datums, NULL, &n);
	Assert(n == count);
	for (int i = 0; i < n; i++)
		values[i] = DatumGetInt64(datums[i]);
	return values;
}

/*
 * The id of the district with this domain (case-insensitive, blanks ignored), or
 * 0. The domain is folded once, in a subquery, not once per district scanned.
 */
static int64
find_district(const char *domain)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	SPIPlanPtr	plan;
	bool		isnull;

	plan = kept_plan(&find_district_plan,
					 "SELECT d.id FROM samegoal.districts d"
					 " WHERE lower(d.domain) OPERATOR(pg_catalog.=)"
					 "       (SELECT lower(btrim($1, E' \\t\\r\\n')))",
					 1, argtypes);
	args[0] = CStringGetTextDatum(domain);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 1), SPI_OK_SELECT);
	if (SPI_processed == 0)
		return 0;
	return result_int64(0, 1, &isnull);
}

/*
 * Lock the sending district and, when there is one, the receiving district
 * FOR SHARE, in id order, and read their settings.
 */
static void
lock_districts(int64 sending_id, int64 receiving_id,
			   DistrictSettings *sending, DistrictSettings *receiving)
{
	Oid			argtypes[2] = {INT8OID, INT8OID};
	Datum		args[2];
	SPIPlanPtr	plan;

	plan = kept_plan(&lock_districts_plan,
					 "SELECT d.id, d.state, d.transfers_enabled"
					 "  FROM samegoal.districts d"
					 " WHERE d.id OPERATOR(pg_catalog.=) ANY (ARRAY[$1, $2])"
					 " ORDER BY d.id"
					 "   FOR SHARE",
					 2, argtypes);
	args[0] = Int64GetDatum(sending_id);
	args[1] = Int64GetDatum(receiving_id);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_SELECT);

	memset(sending, 0, sizeof(DistrictSettings));
	memset(receiving, 0, sizeof(DistrictSettings));
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		bool		isnull;
		int64		id = result_int64(row, 1, &isnull);
		DistrictSettings settings;

		settings.id = id;
		settings.state = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 2);
		settings.transfers_enabled =
			DatumGetBool(SPI_getbinval(SPI_tuptable->vals[row],
									   SPI_tuptable->tupdesc, 3, &isnull));
		if (id == sending_id)
			*sending = settings;
		if (id == receiving_id)
			*receiving = settings;
	}
	if (sending->id == 0)
		elog(ERROR, "acting district " INT64_FORMAT " does not exist", sending_id);
}

/*
 * Lock the requested documents FOR SHARE and return their student. ids are
 * sorted and distinct. SG006 unless every one is a live document of the
 * sending district; SG007 when they belong to more than one student.
 */
static int64
lock_documents(ArrayType *id_array, const int64 *ids, int count, int64 district_id)
{
	Oid			argtypes[2] = {INT8ARRAYOID, INT8OID};
	Datum		args[2];
	SPIPlanPtr	plan;
	bool		isnull;
	int64		student_id;

	plan = kept_plan(&lock_documents_plan,
					 "SELECT d.id, d.student_id FROM samegoal.documents d"
					 " WHERE d.id OPERATOR(pg_catalog.=) ANY ($1)"
					 "   AND d.district_id OPERATOR(pg_catalog.=) $2"
					 "   AND d.deleted_at IS NULL"
					 " ORDER BY d.id"
					 "   FOR SHARE",
					 2, argtypes);
	args[0] = PointerGetDatum(id_array);
	args[1] = Int64GetDatum(district_id);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_SELECT);

	if (SPI_processed < (uint64) count)
	{
		/* Both lists are sorted; the first requested id not found is named. */
		int			i = 0;

		while ((uint64) i < SPI_processed && result_int64(i, 1, &isnull) == ids[i])
			i++;
		ereport(ERROR,
				(errcode(ERRCODE_SG_DOCUMENT_NOT_FOUND),
				 errmsg("document not found"),
				 errdetail("Document " INT64_FORMAT " does not exist, is deleted, or belongs to another district.",
						   ids[i])));
	}

	student_id = result_int64(0, 2, &isnull);
	for (int row = 1; row < count; row++)
		if (result_int64(row, 2, &isnull) != student_id)
			ereport(ERROR,
					(errcode(ERRCODE_SG_MIXED_STUDENTS),
					 errmsg("the documents belong to more than one student"),
					 errhint("Transfer the documents of one student at a time.")));
	return student_id;
}

/* The setting checks, in the contract's order: SG001, SG003, SG009, SG010, SG002. */
static void
check_districts(const DistrictSettings *sending, const DistrictSettings *receiving,
				const char *domain)
{
	if (!sending->transfers_enabled)
		ereport(ERROR,
				(errcode(ERRCODE_SG_SENDER_DISABLED),
				 errmsg("district-to-district transfer is disabled in the sending district"),
				 errhint("An administrator of the sending district can enable it with samegoal.sg_set_transfers_enabled(true).")));
	if (receiving->id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_NO_SUCH_DISTRICT),
				 errmsg("no district with domain \"%s\"", echo(domain)),
				 errhint("Check the domain with the receiving district, or search for it with samegoal.sg_find_district().")));
	if (receiving->id == sending->id)
		ereport(ERROR,
				(errcode(ERRCODE_SG_SAME_DISTRICT),
				 errmsg("cannot transfer documents to the sending district itself"),
				 errdetail("The receiving domain is the sending district's own domain.")));
	if (strcmp(receiving->state, sending->state) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_OTHER_STATE),
				 errmsg("the receiving district is in another state"),
				 errdetail("Documents can only be transferred between districts of the same state.")));
	if (!receiving->transfers_enabled)
		ereport(ERROR,
				(errcode(ERRCODE_SG_RECEIVER_DISABLED),
				 errmsg("district-to-district transfer is disabled in the receiving district"),
				 errhint("Ask the receiving district to enable District-to-District Transfer.")));
}

/*
 * Lock the receiving student with this SIS Student ID (exact match) FOR NO KEY
 * UPDATE, so that transfers to one student take turns; SG004 when missing.
 */
static int64
lock_receiving_student(int64 district_id, const char *sis_student_id)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		args[2];
	SPIPlanPtr	plan;
	bool		isnull;

	plan = kept_plan(&lock_student_plan,
					 "SELECT s.id FROM samegoal.students s"
					 " WHERE s.district_id OPERATOR(pg_catalog.=) $1"
					 "   AND s.sis_student_id OPERATOR(pg_catalog.=) $2"
					 "   FOR NO KEY UPDATE",
					 2, argtypes);
	args[0] = Int64GetDatum(district_id);
	args[1] = CStringGetTextDatum(sis_student_id);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_NO_SUCH_STUDENT),
				 errmsg("no student with SIS Student ID \"%s\" in the receiving district",
						echo(sis_student_id)),
				 errhint("Add the student in the receiving district first.")));
	return result_int64(0, 1, &isnull);
}

/*
 * The active user of the receiving district whose username or email is this
 * login, case-insensitively; a username match wins. SG005 when there is none.
 */
static int64
find_receiving_owner(int64 district_id, const char *login)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		args[2];
	SPIPlanPtr	plan;
	bool		isnull;

	plan = kept_plan(&find_owner_plan,
					 "SELECT u.id FROM samegoal.users u"
					 " WHERE u.district_id OPERATOR(pg_catalog.=) $1"
					 "   AND (lower(u.username) OPERATOR(pg_catalog.=) lower($2)"
					 "        OR lower(u.email) OPERATOR(pg_catalog.=) lower($2))"
					 "   AND u.is_active"
					 " ORDER BY lower(u.username) OPERATOR(pg_catalog.=) lower($2) DESC"
					 " LIMIT 1",
					 2, argtypes);
	args[0] = Int64GetDatum(district_id);
	args[1] = CStringGetTextDatum(login);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 1), SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_NO_SUCH_USER),
				 errmsg("no active user with username or email \"%s\" in the receiving district",
						echo(login)),
				 errhint("Ask the receiving district which user should own the documents.")));
	return result_int64(0, 1, &isnull);
}

/*
 * Fill results[] for the requested documents of which the receiving student
 * already holds a live copy (the latest one, when there are several), and
 * return how many there are.
 *
 * Under REPEATABLE READ or SERIALIZABLE the transaction snapshot may predate
 * a concurrent transfer that committed while this one waited for the
 * student's lock; its copies would then be invisible and copied again. Such a
 * transfer must be retried, as PostgreSQL itself does on a concurrent update.
 */
static int
find_live_copies(const TransferParties *parties, ArrayType *id_array,
				 const int64 *ids, int count, TransferResult *results)
{
	Oid			argtypes[3] = {INT8OID, INT8OID, INT8ARRAYOID};
	Datum		args[3];
	SPIPlanPtr	plan;
	int			row = 0;
	int			existing = 0;

	plan = kept_plan(&live_copies_plan,
					 "SELECT DISTINCT ON (c.source_document_id)"
					 "       c.source_document_id, c.id, c.transfer_id"
					 "  FROM samegoal.documents c"
					 " WHERE c.student_id OPERATOR(pg_catalog.=) $1"
					 "   AND c.district_id OPERATOR(pg_catalog.=) $2"
					 "   AND c.source_document_id OPERATOR(pg_catalog.=) ANY ($3)"
					 "   AND c.deleted_at IS NULL"
					 " ORDER BY c.source_document_id, c.id DESC",
					 3, argtypes);
	args[0] = Int64GetDatum(parties->receiving_student_id);
	args[1] = Int64GetDatum(parties->receiving_district_id);
	args[2] = PointerGetDatum(id_array);

	if (IsolationUsesXactSnapshot())
	{
		uint64		found;

		check_spi(SPI_execute_snapshot(plan, args, NULL, GetLatestSnapshot(),
									   InvalidSnapshot, true, false, 0),
				  SPI_OK_SELECT);
		found = SPI_processed;
		check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_SELECT);
		if (SPI_processed != found)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent transfer to the same student"),
					 errhint("Retry the transaction.")));
	}
	else
		check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_SELECT);

	/* Both lists are sorted by source document id. */
	for (int i = 0; i < count && (uint64) row < SPI_processed; i++)
	{
		bool		isnull;

		if (result_int64(row, 1, &isnull) != ids[i])
			continue;
		results[i].filled = true;
		results[i].source_document_id = ids[i];
		results[i].received_document_id = result_int64(row, 2, &isnull);
		results[i].transfer_id = result_int64(row, 3, &isnull);
		results[i].copied = false;
		row++;
		existing++;
	}
	return existing;
}

/* Write the transfers row (its trigger checks the settings again) and return its id. */
static int64
insert_transfer(const TransferParties *parties, int document_count)
{
	Oid			argtypes[7] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT4OID};
	Datum		args[7];
	SPIPlanPtr	plan;
	bool		isnull;

	plan = kept_plan(&insert_transfer_plan,
					 "INSERT INTO samegoal.transfers"
					 " (sending_district_id, receiving_district_id, sending_student_id,"
					 "  receiving_student_id, receiving_owner_id, initiated_by, document_count)"
					 " VALUES ($1, $2, $3, $4, $5, $6, $7)"
					 " RETURNING id",
					 7, argtypes);
	args[0] = Int64GetDatum(parties->sending_district_id);
	args[1] = Int64GetDatum(parties->receiving_district_id);
	args[2] = Int64GetDatum(parties->sending_student_id);
	args[3] = Int64GetDatum(parties->receiving_student_id);
	args[4] = Int64GetDatum(parties->receiving_owner_id);
	args[5] = Int64GetDatum(parties->admin_id);
	args[6] = Int32GetDatum(document_count);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_INSERT_RETURNING);
	return result_int64(0, 1, &isnull);
}

static int
compare_copy_pairs(const void *a, const void *b)
{
	int64		x = ((const CopyPair *) a)->source_id;
	int64		y = ((const CopyPair *) b)->source_id;

	return (x > y) - (x < y);
}

/*
 * Copy the documents in one statement; return the (original, copy) pairs,
 * sorted by original.
 */
static CopyPair *
copy_documents(const TransferParties *parties, int64 transfer_id,
			   const int64 *source_ids, int count)
{
	Oid			argtypes[6] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8ARRAYOID, INT8OID};
	Datum		args[6];
	SPIPlanPtr	plan;
	CopyPair   *pairs;

	plan = kept_plan(&copy_documents_plan,
					 "INSERT INTO samegoal.documents"
					 " (district_id, student_id, owner_id, doc_type, title, content,"
					 "  transfer_id, source_document_id)"
					 " SELECT $1, $2, $3, d.doc_type, d.title, d.content, $4, d.id"
					 "   FROM samegoal.documents d"
					 "  WHERE d.id OPERATOR(pg_catalog.=) ANY ($5)"
					 "    AND d.district_id OPERATOR(pg_catalog.=) $6"
					 "  ORDER BY d.id"
					 " RETURNING source_document_id, id",
					 6, argtypes);
	args[0] = Int64GetDatum(parties->receiving_district_id);
	args[1] = Int64GetDatum(parties->receiving_student_id);
	args[2] = Int64GetDatum(parties->receiving_owner_id);
	args[3] = Int64GetDatum(transfer_id);
	args[4] = PointerGetDatum(int64_array(source_ids, count));
	args[5] = Int64GetDatum(parties->sending_district_id);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_INSERT_RETURNING);
	if (SPI_processed != (uint64) count)
		elog(ERROR, "copied " UINT64_FORMAT " documents instead of %d", SPI_processed, count);

	pairs = palloc(sizeof(CopyPair) * count);
	for (int i = 0; i < count; i++)
	{
		bool		isnull;

		pairs[i].source_id = result_int64(i, 1, &isnull);
		pairs[i].copy_id = result_int64(i, 2, &isnull);
	}
	qsort(pairs, count, sizeof(CopyPair), compare_copy_pairs);
	return pairs;
}

/* Copy the originals' files onto the copies, byte for byte, in one statement. */
static void
copy_files(const TransferParties *parties, ArrayType *sources, ArrayType *copies)
{
	Oid			argtypes[4] = {INT8OID, INT8ARRAYOID, INT8ARRAYOID, INT8OID};
	Datum		args[4];
	SPIPlanPtr	plan;

	plan = kept_plan(&copy_files_plan,
					 "INSERT INTO samegoal.document_files"
					 " (district_id, document_id, filename, content_type, data)"
					 " SELECT $1, m.copy_id, f.filename, f.content_type, f.data"
					 "   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) AS m(source_id, copy_id)"
					 "   JOIN samegoal.document_files f"
					 "     ON f.district_id OPERATOR(pg_catalog.=) $4"
					 "    AND f.document_id OPERATOR(pg_catalog.=) m.source_id"
					 "  ORDER BY f.id",
					 4, argtypes);
	args[0] = Int64GetDatum(parties->receiving_district_id);
	args[1] = PointerGetDatum(sources);
	args[2] = PointerGetDatum(copies);
	args[3] = Int64GetDatum(parties->sending_district_id);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_INSERT);
}

/* One transfer_documents row per copy, in one statement. */
static void
record_documents(const TransferParties *parties, int64 transfer_id,
				 ArrayType *sources, ArrayType *copies)
{
	Oid			argtypes[5] = {INT8OID, INT8OID, INT8OID, INT8ARRAYOID, INT8ARRAYOID};
	Datum		args[5];
	SPIPlanPtr	plan;

	plan = kept_plan(&record_documents_plan,
					 "INSERT INTO samegoal.transfer_documents"
					 " (transfer_id, sending_district_id, receiving_district_id,"
					 "  source_document_id, received_document_id)"
					 " SELECT $1, $2, $3, m.source_id, m.copy_id"
					 "   FROM ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5)) AS m(source_id, copy_id)",
					 5, argtypes);
	args[0] = Int64GetDatum(transfer_id);
	args[1] = Int64GetDatum(parties->sending_district_id);
	args[2] = Int64GetDatum(parties->receiving_district_id);
	args[3] = PointerGetDatum(sources);
	args[4] = PointerGetDatum(copies);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_INSERT);
}

/*
 * Queue the notification, delivered when the transaction commits. Any
 * session may LISTEN on any channel: ids and a count only.
 */
static void
notify_transfer(const TransferParties *parties, int64 transfer_id, int document_count)
{
	Oid			argtypes[4] = {INT8OID, INT8OID, INT8OID, INT4OID};
	Datum		args[4];
	SPIPlanPtr	plan;

	plan = kept_plan(&notify_plan,
					 "SELECT pg_catalog.pg_notify('samegoal_transfer',"
					 " pg_catalog.json_build_object('transfer_id', $1,"
					 "  'receiving_district_id', $2, 'receiving_owner_id', $3,"
					 "  'document_count', $4)::pg_catalog.text)",
					 4, argtypes);
	args[0] = Int64GetDatum(transfer_id);
	args[1] = Int64GetDatum(parties->receiving_district_id);
	args[2] = Int64GetDatum(parties->receiving_owner_id);
	args[3] = Int32GetDatum(document_count);
	check_spi(SPI_execute_plan(plan, args, NULL, false, 0), SPI_OK_SELECT);
}

/*
 * Copy the requested documents that the receiving student does not hold yet,
 * and fill their results[]. Nothing is written when there is nothing to copy.
 */
static void
copy_missing(const TransferParties *parties, const int64 *ids, int count,
			 int existing, TransferResult *results)
{
	int			to_copy_count = count - existing;
	int64	   *to_copy;
	int64	   *copy_ids;
	CopyPair   *pairs;
	int64		transfer_id;
	int			n = 0;
	ArrayType  *sources;
	ArrayType  *copies;

	if (to_copy_count == 0)
		return;

	to_copy = palloc(sizeof(int64) * to_copy_count);
	for (int i = 0; i < count; i++)
		if (!results[i].filled)
			to_copy[n++] = ids[i];
	Assert(n == to_copy_count);

	transfer_id = insert_transfer(parties, to_copy_count);
	pairs = copy_documents(parties, transfer_id, to_copy, to_copy_count);

	/* to_copy and pairs are both sorted by original. */
	copy_ids = palloc(sizeof(int64) * to_copy_count);
	for (int i = 0; i < to_copy_count; i++)
	{
		if (pairs[i].source_id != to_copy[i])
			elog(ERROR, "document " INT64_FORMAT " was copied instead of " INT64_FORMAT,
				 pairs[i].source_id, to_copy[i]);
		copy_ids[i] = pairs[i].copy_id;
	}
	sources = int64_array(to_copy, to_copy_count);
	copies = int64_array(copy_ids, to_copy_count);
	copy_files(parties, sources, copies);
	record_documents(parties, transfer_id, sources, copies);
	notify_transfer(parties, transfer_id, to_copy_count);

	n = 0;
	for (int i = 0; i < count; i++)
	{
		if (results[i].filled)
			continue;
		results[i].filled = true;
		results[i].transfer_id = transfer_id;
		results[i].source_document_id = ids[i];
		results[i].received_document_id = copy_ids[n++];
		results[i].copied = true;
	}
}

/*
 * The transfer itself, inside the owner scope with SPI connected. Returns the
 * results, allocated in the caller's memory context, one per distinct id.
 */
static TransferResult *
transfer(FunctionCallInfo fcinfo, int *result_count)
{
	TransferParties parties;
	DistrictSettings sending;
	DistrictSettings receiving;
	ArrayType  *id_array;
	int64	   *ids;
	int			count;
	char	   *domain;
	char	   *sis_student_id;
	char	   *owner;
	TransferResult *results;
	int			existing;

	/* 42501, then 22023 */
	parties.admin_id = sg_require_acting_admin();
	parties.sending_district_id = sg_acting_district_id();
	id_array = sg_distinct_id_array(fcinfo, 0, &count);
	ids = int64_values(id_array, count);
	domain = sg_required_text_arg(fcinfo, 1, "receiving_domain");
	sis_student_id = sg_required_text_arg(fcinfo, 2, "receiving_sis_student_id");
	owner = sg_required_text_arg(fcinfo, 3, "receiving_owner");

	/* Lock both districts before anything is read from them. */
	parties.receiving_district_id = find_district(domain);
	lock_districts(parties.sending_district_id, parties.receiving_district_id,
				   &sending, &receiving);

	/* SG006, SG007; then SG001, SG003, SG009, SG010, SG002; then SG004, SG005 */
	parties.sending_student_id = lock_documents(id_array, ids, count,
												parties.sending_district_id);
	check_districts(&sending, &receiving, domain);
	parties.receiving_student_id = lock_receiving_student(parties.receiving_district_id,
														  sis_student_id);
	parties.receiving_owner_id = find_receiving_owner(parties.receiving_district_id, owner);

	results = SPI_palloc(sizeof(TransferResult) * count);
	memset(results, 0, sizeof(TransferResult) * count);
	existing = find_live_copies(&parties, id_array, ids, count, results);
	copy_missing(&parties, ids, count, existing, results);

	*result_count = count;
	return results;
}

/* sg_transfer_documents(bigint[], text, text, text): copy documents to another district */
PG_FUNCTION_INFO_V1(sg_transfer_documents);
Datum
sg_transfer_documents(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SgOwnerScope scope;
	TransferResult *results;
	int			count;

	sg_enter_owner_scope(&scope);
	sg_connect_spi();
	results = transfer(fcinfo, &count);
	sg_finish_spi();
	sg_leave_owner_scope(&scope);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < count; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int64GetDatum(results[i].transfer_id);
		values[1] = Int64GetDatum(results[i].source_document_id);
		values[2] = Int64GetDatum(results[i].received_document_id);
		values[3] = BoolGetDatum(results[i].copied);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
