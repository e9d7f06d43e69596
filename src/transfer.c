/*-------------------------------------------------------------------------
 *
 * transfer.c
 *	  The District-to-District Transfer engine: run_transfer copies documents
 *	  of one student of the acting admin's district to a student of another
 *	  district of the same state, and records the disclosure. Its SQL entry,
 *	  sg_transfer_documents, is in transfer_sql.c.
 *
 * Locking. Both district rows are locked FOR SHARE in id order before their
 * settings are read, so a transfer and a change of either district's setting
 * (an UPDATE of the row) never interleave, and two transfers in opposite
 * directions lock in the same order (rules.c, as the trigger on
 * samegoal.transfers and sg_request_transfer lock them). The original
 * documents are locked FOR SHARE, so that they cannot be deleted or changed
 * while they are copied, and the receiving
 * student FOR NO KEY UPDATE, so that two transfers to one student take turns:
 * the second sees the first one's copies and does not copy them again.
 *
 * Every statement is prepared once per session and works on whole arrays of
 * ids: the documents, their files and the transfer_documents rows are each
 * copied by one INSERT ... SELECT, whatever the number of documents.
 *
 * Files stored once (1.3). A copy's file refers to the content of the
 * original's (samegoal.files.content_id) instead of copying its bytes, so a
 * transfer writes rows, never bytes, and the same statement writes the
 * manifest (samegoal.transfer_files) with each file's size and SHA-256 as
 * sent; transfer_documents keeps each original's content_sha256.
 *
 * Held arrivals (1.3). Where the catalog has samegoal.transfer_arrivals (as a
 * member of the extension), a transfer whose students do not match is not
 * refused: its copies arrive held. The sender must learn nothing from that, so
 * a held and a live arrival run the same statements and write the same rows
 * of the same sizes, the comparison included: the held flag is a parameter of
 * the copies' INSERTs (documents.held, files.held, rows the sender
 * cannot read), and the arrival row, written for every transfer, always
 * carries the sending student's names; the record the sender reads, the
 * result rows and the notification do not depend on it. A fulfilled request
 * keeps SG012: the requester told the sender whose documents it wants. For an
 * older catalog (a database between updates) the engine keeps that version's
 * behaviour and never prepares a statement that names the new columns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "samegoal.h"
#include "identity.h"
#include "owner.h"
#include "rules.h"
#include "spi.h"
#include "transfer.h"

/* Everything a transfer needs once the checks have passed. */
typedef struct TransferParties
{
	int64		admin_id;
	int64		sending_district_id;
	int64		receiving_district_id;
	int64		sending_student_id;
	int64		receiving_student_id;
	int64		receiving_owner_id;
	int64		request_id;		/* the request it answers, or 0 */
	bool		held_catalog;	/* the catalog has held arrivals (1.3) */
	bool		held;			/* the copies arrive held */
} TransferParties;

/* Present from version 1.3 on: the catalog has held arrivals. */
static SgKnownRelation arrivals_relation = {.name = "transfer_arrivals"};

/*
 * Whether the catalog is that of version 1.3 on: table
 * samegoal.transfer_arrivals, as a member of the extension, and with it the
 * held columns of documents and files, files stored once (samegoal.files,
 * samegoal.file_contents) and the manifest (samegoal.transfer_files), which
 * the same update script makes.
 */
bool
sg_has_held_arrivals(void)
{
	return OidIsValid(sg_known_relation(&arrivals_relation));
}

/* Copies made by this transfer, sorted by source document id. */
typedef struct CopyPair
{
	int64		source_id;		/* first: sorted with sg_compare_int64 */
	int64		copy_id;
} CopyPair;

/*
 * Lock the requested documents FOR SHARE and return their student. ids are
 * sorted and distinct. SG006 unless every one is a live document of the
 * sending district; SG007 when they belong to more than one student.
 */
static SgStatement lock_documents_statement =
SG_STATEMENT("SELECT d.id, d.student_id FROM samegoal.documents d"
			 " WHERE d.id = ANY ($1)"
			 "   AND d.district_id = $2"
			 "   AND d.deleted_at IS NULL"
			 " ORDER BY d.id"
			 "   FOR SHARE",
			 SPI_OK_SELECT, 2, INT8ARRAYOID, INT8OID);

/* From 1.3 on: a held copy is no document of its district's to send on. */
static SgStatement lock_unheld_documents_statement =
SG_STATEMENT("SELECT d.id, d.student_id FROM samegoal.documents d"
			 " WHERE d.id = ANY ($1)"
			 "   AND d.district_id = $2"
			 "   AND d.deleted_at IS NULL"
			 "   AND NOT d.held"
			 " ORDER BY d.id"
			 "   FOR SHARE",
			 SPI_OK_SELECT, 2, INT8ARRAYOID, INT8OID);

static int64
lock_documents(ArrayType *id_array, int count, int64 district_id, bool held_catalog)
{
	Datum		args[2];
	uint64		nrows;
	int64		student_id;

	args[0] = PointerGetDatum(id_array);
	args[1] = Int64GetDatum(district_id);
	nrows = sg_execute(held_catalog ? &lock_unheld_documents_statement
					   : &lock_documents_statement, args);

	if (nrows < (uint64) count)
		sg_document_not_found();

	student_id = sg_result_int64(0, 2);
	for (int row = 1; row < count; row++)
		if (sg_result_int64(row, 2) != student_id)
			ereport(ERROR,
					(errcode(ERRCODE_SG_MIXED_STUDENTS),
					 errmsg("the documents belong to more than one student"),
					 errhint("Transfer the documents of one student at a time.")));
	return student_id;
}

/*
 * Lock the receiving student with this SIS Student ID (exact match), or with
 * this id (a request's), FOR NO KEY UPDATE, so that transfers to one student
 * take turns; SG004 when missing.
 */
static SgStatement lock_student_statement =
SG_STATEMENT("SELECT s.id FROM samegoal.students s"
			 " WHERE s.district_id = $1"
			 "   AND s.sis_student_id = $2"
			 "   FOR NO KEY UPDATE",
			 SPI_OK_SELECT, 2, INT8OID, TEXTOID);

static SgStatement lock_student_by_id_statement =
SG_STATEMENT("SELECT s.id FROM samegoal.students s"
			 " WHERE s.district_id = $1"
			 "   AND s.id = $2"
			 "   FOR NO KEY UPDATE",
			 SPI_OK_SELECT, 2, INT8OID, INT8OID);

static int64
lock_receiving_student(int64 district_id, const TransferOrder *order)
{
	Datum		args[2];
	const char *sis_student_id = order->receiving_sis_student_id;

	args[0] = Int64GetDatum(district_id);
	if (order->request_id != 0)
	{
		/* The request's student, whom the sender was never told of. */
		args[1] = Int64GetDatum(order->receiving_student_id);
		if (sg_execute(&lock_student_by_id_statement, args) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_SG_NO_SUCH_STUDENT),
					 errmsg("the student the requesting district named is no longer there"),
					 errhint("Ask the requesting district to make the request again.")));
		return sg_result_int64(0, 1);
	}
	args[1] = CStringGetTextDatum(sis_student_id);
	if (sg_execute(&lock_student_statement, args) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_NO_SUCH_STUDENT),
				 errmsg("no student with SIS Student ID \"%s\" in the receiving district",
						sg_echo(sis_student_id)),
				 errhint("Add the student in the receiving district first.")));
	return sg_result_int64(0, 1);
}

/*
 * The owner of the copies, by login (sg_find_active_user), or the request's
 * owner while still active; SG005 when there is none. Answering a request,
 * the owner is the requester's choice, which the sender was never told: the
 * error does not show it.
 */
static SgStatement active_owner_statement =
SG_STATEMENT_WITH(SG_FIRST_ROW,
				  "SELECT u.id FROM samegoal.users u"
				  " WHERE u.district_id = $1 AND u.id = $2 AND u.is_active",
				  SPI_OK_SELECT, 2, INT8OID, INT8OID);

static int64
find_receiving_owner(int64 district_id, const TransferOrder *order)
{
	int64		owner_id = 0;
	const char *login = order->receiving_owner;

	if (order->request_id != 0)
	{
		Datum		args[2];

		args[0] = Int64GetDatum(district_id);
		args[1] = Int64GetDatum(order->receiving_owner_id);
		if (sg_execute(&active_owner_statement, args) == 1)
			owner_id = sg_result_int64(0, 1);
	}
	else
		owner_id = sg_find_active_user(district_id, login);

	if (owner_id == 0 && order->request_id != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_NO_SUCH_USER),
				 errmsg("the owner the requesting district named is no longer an active user there"),
				 errhint("Ask the requesting district to make the request again.")));
	if (owner_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_NO_SUCH_USER),
				 errmsg("no active user with username or email \"%s\" in the receiving district",
						sg_echo(login)),
				 errhint("Ask the receiving district which user should own the documents.")));
	return owner_id;
}

/*
 * The wrong-student guard (SG012): whether the receiving student matches the
 * student whose documents are sent. They match when their birth dates are
 * equal or either is unknown, and their normalised last names or their
 * normalised first names are equal; a name that normalises to '' matches
 * nothing. Normalising lower-cases the name and drops every character that
 * is neither a letter nor a digit; what a letter is depends on the encoding.
 *
 * In a UTF-8 database the name is first composed (NFC, so that an "é" typed
 * as "e" and a combining accent is the "é" of the other side), and letters
 * and digits are those of Unicode, whatever the database's locale: under the
 * ctype C (or POSIX) lower() and [[:alnum:]]
 * know ASCII only, so "José" would become "jos" and a Cyrillic or Chinese
 * name ''. The ICU root collation (und-x-icu, which initdb creates in every
 * cluster of a server built with ICU) classifies and lower-cases by Unicode
 * instead; the database's default collation serves a server built without
 * ICU.
 *
 * In any other encoding the name is lower-cased with its ASCII letters and
 * digits kept, and nothing else: the ICU collations do not exist in a
 * SQL_ASCII database (its bytes above 127 have no meaning to classify), and
 * a rule that held in LATIN1 but not in SQL_ASCII would make the answer
 * depend on more than the README says. "José" is then "jos", as is "Josè".
 * The collation "C" exists in every encoding and makes lower() touch ASCII
 * alone. The database's encoding never changes, so each session prepares the
 * one statement its database needs.
 *
 * The comparison runs here, as the tables' owner, and only its result leaves
 * the statement: the error never carries the receiving student's data.
 */
#ifdef USE_ICU
#define SG_NAME_COLLATION " COLLATE pg_catalog.\"und-x-icu\""
#else
#define SG_NAME_COLLATION ""
#endif
#define SG_NORMALISED_UTF8(column) \
	"pg_catalog.regexp_replace(pg_catalog.lower(pg_catalog.normalize(" column ", 'NFC')" \
	SG_NAME_COLLATION "), '[^[:alnum:]]', '', 'g')"
#define SG_NORMALISED_ASCII(column) \
	"pg_catalog.regexp_replace(pg_catalog.lower(" column " COLLATE pg_catalog.\"C\")," \
	" '[^a-z0-9]', '', 'g')"

#define SG_STUDENTS_MATCH_SQL(normalised) \
	"SELECT (s.birth_date IS NULL OR r.birth_date IS NULL" \
	"        OR s.birth_date = r.birth_date)" \
	"   AND ((n.s_last <> '' AND n.s_last = n.r_last)" \
	"        OR (n.s_first <> '' AND n.s_first = n.r_first))" \
	"  FROM samegoal.students s, samegoal.students r," \
	"       LATERAL (SELECT " normalised("s.last_name") " AS s_last," \
	"                       " normalised("r.last_name") " AS r_last," \
	"                       " normalised("s.first_name") " AS s_first," \
	"                       " normalised("r.first_name") " AS r_first) n" \
	" WHERE s.id = $1 AND s.district_id = $2" \
	"   AND r.id = $3 AND r.district_id = $4"

static SgStatement students_match_utf8_statement =
SG_STATEMENT(SG_STUDENTS_MATCH_SQL(SG_NORMALISED_UTF8),
			 SPI_OK_SELECT, 4, INT8OID, INT8OID, INT8OID, INT8OID);

static SgStatement students_match_ascii_statement =
SG_STATEMENT(SG_STUDENTS_MATCH_SQL(SG_NORMALISED_ASCII),
			 SPI_OK_SELECT, 4, INT8OID, INT8OID, INT8OID, INT8OID);

static bool
students_match(const TransferParties *parties)
{
	Datum		args[4];
	bool		isnull;
	bool		match;

	args[0] = Int64GetDatum(parties->sending_student_id);
	args[1] = Int64GetDatum(parties->sending_district_id);
	args[2] = Int64GetDatum(parties->receiving_student_id);
	args[3] = Int64GetDatum(parties->receiving_district_id);
	if (sg_execute(GetDatabaseEncoding() == PG_UTF8 ? &students_match_utf8_statement
				   : &students_match_ascii_statement, args) != 1)
		elog(ERROR, "student " INT64_FORMAT " or " INT64_FORMAT " was not found",
			 parties->sending_student_id, parties->receiving_student_id);
	match = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									   1, &isnull));
	return !isnull && match;
}

/* SG012: one error whatever differs, nothing of the receiving student in it. */
static void
refuse_mismatch(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_SG_STUDENT_MISMATCH),
			 errmsg("the receiving student does not match the student whose documents are sent"),
			 errdetail("The students must have the same birth date, or one of them none, and the same last name or the same first name."),
			 errhint("Check the SIS Student ID with the receiving district, or pass allow_mismatch => true when the difference is known (a changed name, a corrected birth date).")));
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
static SgStatement live_copies_statement =
SG_STATEMENT("SELECT DISTINCT ON (c.source_document_id)"
			 "       c.source_document_id, c.id, c.transfer_id"
			 "  FROM samegoal.documents c"
			 " WHERE c.student_id = $1"
			 "   AND c.district_id = $2"
			 "   AND c.source_document_id = ANY ($3)"
			 "   AND c.deleted_at IS NULL"
			 " ORDER BY c.source_document_id, c.id DESC",
			 SPI_OK_SELECT, 3, INT8OID, INT8OID, INT8ARRAYOID);

static int
find_live_copies(const TransferParties *parties, ArrayType *id_array,
				 const int64 *ids, int count, TransferResult *results)
{
	Datum		args[3];
	uint64		nrows;
	int			row = 0;
	int			existing = 0;

	args[0] = Int64GetDatum(parties->receiving_student_id);
	args[1] = Int64GetDatum(parties->receiving_district_id);
	args[2] = PointerGetDatum(id_array);

	if (IsolationUsesXactSnapshot())
	{
		uint64		found = sg_execute_with_snapshot(&live_copies_statement, args,
													 GetLatestSnapshot());

		nrows = sg_execute(&live_copies_statement, args);
		if (nrows != found)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent transfer to the same student"),
					 errhint("Retry the transaction.")));
	}
	else
		nrows = sg_execute(&live_copies_statement, args);

	/* Both lists are sorted by source document id. */
	for (int i = 0; i < count && (uint64) row < nrows; i++)
	{
		if (sg_result_int64(row, 1) != ids[i])
			continue;
		results[i].filled = true;
		results[i].source_document_id = ids[i];
		results[i].received_document_id = sg_result_int64(row, 2);
		results[i].transfer_id = sg_result_int64(row, 3);
		results[i].copied = false;
		row++;
		existing++;
	}
	return existing;
}

/*
 * Write the transfers row (its triggers check the settings again and name the
 * parties) and return its id. A transfer that answers a request names it; the
 * other statement names no request_id, so that the same library still serves a
 * database whose catalog is that of version 1.0, which has no such column.
 */
static SgStatement insert_transfer_statement =
SG_STATEMENT("INSERT INTO samegoal.transfers"
			 " (sending_district_id, receiving_district_id, sending_student_id,"
			 "  receiving_student_id, receiving_owner_id, initiated_by, document_count)"
			 " VALUES ($1, $2, $3, $4, $5, $6, $7)"
			 " RETURNING id",
			 SPI_OK_INSERT_RETURNING, 7, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT4OID);

static SgStatement insert_requested_transfer_statement =
SG_STATEMENT("INSERT INTO samegoal.transfers"
			 " (sending_district_id, receiving_district_id, sending_student_id,"
			 "  receiving_student_id, receiving_owner_id, initiated_by, document_count,"
			 "  request_id)"
			 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
			 " RETURNING id",
			 SPI_OK_INSERT_RETURNING, 8, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT4OID,
			 INT8OID);

static int64
insert_transfer(const TransferParties *parties, int document_count)
{
	Datum		args[8];

	args[0] = Int64GetDatum(parties->sending_district_id);
	args[1] = Int64GetDatum(parties->receiving_district_id);
	args[2] = Int64GetDatum(parties->sending_student_id);
	args[3] = Int64GetDatum(parties->receiving_student_id);
	args[4] = Int64GetDatum(parties->receiving_owner_id);
	args[5] = Int64GetDatum(parties->admin_id);
	args[6] = Int32GetDatum(document_count);
	args[7] = Int64GetDatum(parties->request_id);
	(void) sg_execute(parties->request_id != 0 ? &insert_requested_transfer_statement
					  : &insert_transfer_statement, args);
	return sg_result_int64(0, 1);
}

/*
 * Copy the documents in one statement; return the (original, copy) pairs,
 * sorted by original.
 */
static SgStatement copy_documents_statement =
SG_STATEMENT("INSERT INTO samegoal.documents"
			 " (district_id, student_id, owner_id, doc_type, title, content,"
			 "  transfer_id, source_document_id)"
			 " SELECT $1, $2, $3, d.doc_type, d.title, d.content, $4, d.id"
			 "   FROM samegoal.documents d"
			 "  WHERE d.id = ANY ($5)"
			 "    AND d.district_id = $6"
			 "  ORDER BY d.id"
			 " RETURNING source_document_id, id",
			 SPI_OK_INSERT_RETURNING, 6, INT8OID, INT8OID, INT8OID, INT8OID, INT8ARRAYOID, INT8OID);

/* From 1.3 on, with the held flag: one statement for a held and a live arrival. */
static SgStatement copy_documents_held_statement =
SG_STATEMENT("INSERT INTO samegoal.documents"
			 " (district_id, student_id, owner_id, doc_type, title, content,"
			 "  transfer_id, source_document_id, held, content_sha256)"
			 " SELECT $1, $2, $3, d.doc_type, d.title, d.content, $4, d.id, $7, d.content_sha256"
			 "   FROM samegoal.documents d"
			 "  WHERE d.id = ANY ($5)"
			 "    AND d.district_id = $6"
			 "  ORDER BY d.id"
			 " RETURNING source_document_id, id",
			 SPI_OK_INSERT_RETURNING, 7, INT8OID, INT8OID, INT8OID, INT8OID, INT8ARRAYOID, INT8OID,
			 BOOLOID);

static CopyPair *
copy_documents(const TransferParties *parties, int64 transfer_id,
			   const int64 *source_ids, int count)
{
	Datum		args[7];
	uint64		nrows;
	CopyPair   *pairs;

	args[0] = Int64GetDatum(parties->receiving_district_id);
	args[1] = Int64GetDatum(parties->receiving_student_id);
	args[2] = Int64GetDatum(parties->receiving_owner_id);
	args[3] = Int64GetDatum(transfer_id);
	args[4] = PointerGetDatum(sg_int64_array(source_ids, count));
	args[5] = Int64GetDatum(parties->sending_district_id);
	args[6] = BoolGetDatum(parties->held);
	nrows = sg_execute(parties->held_catalog ? &copy_documents_held_statement
					   : &copy_documents_statement, args);
	if (nrows != (uint64) count)
		elog(ERROR, "copied " UINT64_FORMAT " documents instead of %d", nrows, count);

	pairs = palloc(sizeof(CopyPair) * count);
	for (int i = 0; i < count; i++)
	{
		pairs[i].source_id = sg_result_int64(i, 1);
		pairs[i].copy_id = sg_result_int64(i, 2);
	}
	qsort(pairs, count, sizeof(CopyPair), sg_compare_int64);
	return pairs;
}

/* Before 1.3: copy the originals' files onto the copies, byte for byte, in one statement. */
static SgStatement copy_files_statement =
SG_STATEMENT("INSERT INTO samegoal.document_files"
			 " (district_id, document_id, filename, content_type, data)"
			 " SELECT $1, m.copy_id, f.filename, f.content_type, f.data"
			 "   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) AS m(source_id, copy_id)"
			 "   JOIN samegoal.document_files f"
			 "     ON f.district_id = $4"
			 "    AND f.document_id = m.source_id"
			 "  ORDER BY f.id",
			 SPI_OK_INSERT, 4, INT8OID, INT8ARRAYOID, INT8ARRAYOID, INT8OID);

/*
 * From 1.3 on: the copies' files refer to the originals' content instead of
 * copying the bytes, are held with their documents, and the manifest records
 * each with its size and SHA-256 as sent, in the same statement. The
 * originals' files are locked FOR SHARE: their content cannot be replaced
 * (and freed) before the copies' references commit. Ids come from the
 * sequence here, so that each manifest row names its source and its copy.
 */
static SgStatement share_files_statement =
SG_STATEMENT("WITH source AS MATERIALIZED ("
			 "  SELECT f.id AS source_file_id, m.source_id, m.copy_id, f.filename, f.content_type,"
			 "         f.content_id, pg_catalog.nextval('samegoal.document_files_id_seq'::pg_catalog.regclass) AS copy_file_id"
			 "    FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) AS m(source_id, copy_id)"
			 "    JOIN samegoal.files f"
			 "      ON f.district_id = $4"
			 "     AND f.document_id = m.source_id"
			 "   ORDER BY f.id"
			 "     FOR SHARE OF f),"
			 " copied AS ("
			 "  INSERT INTO samegoal.files"
			 "         (id, district_id, document_id, filename, content_type, held, content_id)"
			 "  OVERRIDING SYSTEM VALUE"
			 "  SELECT s.copy_file_id, $1, s.copy_id, s.filename, s.content_type, $5, s.content_id"
			 "    FROM source s)"
			 " INSERT INTO samegoal.transfer_files"
			 "        (transfer_id, source_file_id, received_file_id, filename, byte_size, sha256,"
			 "         sending_district_id, receiving_district_id, source_document_id)"
			 " SELECT $6, s.source_file_id, s.copy_file_id, s.filename, c.byte_size, c.sha256,"
			 "        $4, $1, s.source_id"
			 "   FROM source s"
			 "   JOIN samegoal.file_contents c ON c.id = s.content_id",
			 SPI_OK_INSERT, 6, INT8OID, INT8ARRAYOID, INT8ARRAYOID, INT8OID, BOOLOID, INT8OID);

static void
copy_files(const TransferParties *parties, int64 transfer_id,
		   ArrayType *sources, ArrayType *copies)
{
	Datum		args[6];

	args[0] = Int64GetDatum(parties->receiving_district_id);
	args[1] = PointerGetDatum(sources);
	args[2] = PointerGetDatum(copies);
	args[3] = Int64GetDatum(parties->sending_district_id);
	args[4] = BoolGetDatum(parties->held);
	args[5] = Int64GetDatum(transfer_id);
	(void) sg_execute(parties->held_catalog ? &share_files_statement
					  : &copy_files_statement, args);
}

/*
 * The receiving district's row of the arrival (1.3), written for every
 * transfer: held or not, and the sending student's names and birth date as
 * sent, always, so that the row's size does not depend on the match either.
 */
static SgStatement record_arrival_statement =
SG_STATEMENT("INSERT INTO samegoal.transfer_arrivals"
			 " (transfer_id, receiving_district_id, held,"
			 "  sent_first_name, sent_last_name, sent_birth_date)"
			 " SELECT $1, $2, $3, s.first_name, s.last_name, s.birth_date"
			 "   FROM samegoal.students s"
			 "  WHERE s.id = $4 AND s.district_id = $5",
			 SPI_OK_INSERT, 5, INT8OID, INT8OID, BOOLOID, INT8OID, INT8OID);

static void
record_arrival(const TransferParties *parties, int64 transfer_id)
{
	Datum		args[5];

	args[0] = Int64GetDatum(transfer_id);
	args[1] = Int64GetDatum(parties->receiving_district_id);
	args[2] = BoolGetDatum(parties->held);
	args[3] = Int64GetDatum(parties->sending_student_id);
	args[4] = Int64GetDatum(parties->sending_district_id);
	if (sg_execute(&record_arrival_statement, args) != 1)
		elog(ERROR, "student " INT64_FORMAT " was not found", parties->sending_student_id);
}

/* One transfer_documents row per copy, in one statement. */
static SgStatement record_documents_statement =
SG_STATEMENT("INSERT INTO samegoal.transfer_documents"
			 " (transfer_id, sending_district_id, receiving_district_id,"
			 "  source_document_id, received_document_id)"
			 " SELECT $1, $2, $3, m.source_id, m.copy_id"
			 "   FROM ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5)) AS m(source_id, copy_id)",
			 SPI_OK_INSERT, 5, INT8OID, INT8OID, INT8OID, INT8ARRAYOID, INT8ARRAYOID);

/* From 1.3 on: with the SHA-256 of each original's content as sent. */
static SgStatement record_documents_sha256_statement =
SG_STATEMENT("INSERT INTO samegoal.transfer_documents"
			 " (transfer_id, sending_district_id, receiving_district_id,"
			 "  source_document_id, received_document_id, content_sha256)"
			 " SELECT $1, $2, $3, m.source_id, m.copy_id, d.content_sha256"
			 "   FROM ROWS FROM (pg_catalog.unnest($4), pg_catalog.unnest($5)) AS m(source_id, copy_id)"
			 "   JOIN samegoal.documents d ON d.id = m.source_id AND d.district_id = $2",
			 SPI_OK_INSERT, 5, INT8OID, INT8OID, INT8OID, INT8ARRAYOID, INT8ARRAYOID);

static void
record_documents(const TransferParties *parties, int64 transfer_id,
				 ArrayType *sources, ArrayType *copies)
{
	Datum		args[5];

	args[0] = Int64GetDatum(transfer_id);
	args[1] = Int64GetDatum(parties->sending_district_id);
	args[2] = Int64GetDatum(parties->receiving_district_id);
	args[3] = PointerGetDatum(sources);
	args[4] = PointerGetDatum(copies);
	(void) sg_execute(parties->held_catalog ? &record_documents_sha256_statement
					  : &record_documents_statement, args);
}

/*
 * Queue the notification, delivered when the transaction commits. Any
 * session may LISTEN on any channel: ids and a count only.
 */
static SgStatement notify_statement =
SG_STATEMENT("SELECT pg_catalog.pg_notify('" SG_CHANNEL_TRANSFER "',"
			 " pg_catalog.json_build_object('transfer_id', $1,"
			 "  'receiving_district_id', $2, 'receiving_owner_id', $3,"
			 "  'document_count', $4)::pg_catalog.text)",
			 SPI_OK_SELECT, 4, INT8OID, INT8OID, INT8OID, INT4OID);

static void
notify_transfer(const TransferParties *parties, int64 transfer_id, int document_count)
{
	Datum		args[4];

	args[0] = Int64GetDatum(transfer_id);
	args[1] = Int64GetDatum(parties->receiving_district_id);
	args[2] = Int64GetDatum(parties->receiving_owner_id);
	args[3] = Int32GetDatum(document_count);
	(void) sg_execute(&notify_statement, args);
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
	if (parties->held_catalog)
		record_arrival(parties, transfer_id);
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
	sources = sg_int64_array(to_copy, to_copy_count);
	copies = sg_int64_array(copy_ids, to_copy_count);
	/* The manifest's rows name their documents' rows of the record. */
	record_documents(parties, transfer_id, sources, copies);
	copy_files(parties, transfer_id, sources, copies);
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
transfer(const TransferOrder *order, int *result_count)
{
	TransferParties parties;
	SgDistrictSettings sending;
	SgDistrictSettings receiving;
	int			count = order->document_count;
	int64	   *ids = sg_int64_values(order->document_ids, count);
	TransferResult *results;
	int			existing;

	/* The caller checked the acting administrator (42501) once. */
	Assert(order->admin_id != 0);
	parties.admin_id = order->admin_id;
	parties.sending_district_id = sg_acting_district_id();
	parties.request_id = order->request_id;
	parties.held_catalog = sg_has_held_arrivals();
	parties.held = false;

	/* Lock both districts before anything is read from them. */
	parties.receiving_district_id = order->request_id != 0 ? order->receiving_district_id
		: sg_find_district_id(order->receiving_domain);
	sg_lock_districts(parties.sending_district_id, parties.receiving_district_id,
					  &sending, &receiving);
	if (sending.id == 0)
		elog(ERROR, "acting district " INT64_FORMAT " does not exist",
			 parties.sending_district_id);

	/* SG006, SG007; then SG001, SG003, SG009, SG010, SG002; then SG004, SG005, SG012 */
	parties.sending_student_id = lock_documents(order->document_ids, count,
												parties.sending_district_id,
												parties.held_catalog);
	sg_check_district_settings(&sending, &receiving, order->receiving_domain,
							   SG_SETTINGS_TRANSFER);
	parties.receiving_student_id = lock_receiving_student(parties.receiving_district_id,
														  order);
	parties.receiving_owner_id = find_receiving_owner(parties.receiving_district_id, order);

	/*
	 * The students compared, right after SG005. Only a call through a 1.1
	 * declaration asks for it: a 1.0 database served by this library (the
	 * four-argument declaration of 1.0, before ALTER EXTENSION ... UPDATE)
	 * keeps the behaviour of 1.0, without the guard. From 1.3 on the
	 * comparison runs whatever allow_mismatch says, so that its time is in
	 * every transfer, and a mismatch holds the copies; a request's fulfilment,
	 * and a catalog older than 1.3, refuse it (SG012).
	 */
	if (order->check_student_match)
	{
		bool		match = students_match(&parties);

		if (!match && !order->allow_mismatch)
		{
			if (parties.held_catalog && order->request_id == 0)
				parties.held = true;
			else
				refuse_mismatch();
		}
	}

	results = SPI_palloc(sizeof(TransferResult) * count);
	memset(results, 0, sizeof(TransferResult) * count);
	existing = find_live_copies(&parties, order->document_ids, ids, count, results);
	copy_missing(&parties, ids, count, existing, results);

	*result_count = count;
	return results;
}

/* An order with the defaults of the optional fields, for this administrator. */
void
transfer_order_init(TransferOrder *order, int64 admin_id)
{
	memset(order, 0, sizeof(TransferOrder));
	order->admin_id = admin_id;
	order->check_student_match = false;
	order->allow_mismatch = false;
	order->request_id = 0;
}

/*
 * Run a transfer for the acting administrator whom the caller checked, with
 * the checks of the contract in its order from SG006 on, all or nothing.
 * Returns one result per requested document, sorted by source document id,
 * allocated in the caller's memory context.
 */
TransferResult *
run_transfer(const TransferOrder *order, int *result_count)
{
	SgOwnerScope scope;
	TransferResult *results;

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	results = transfer(order, result_count);
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	return results;
}
