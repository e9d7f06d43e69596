/*-------------------------------------------------------------------------
 *
 * rules.c
 *	  The rules that C and SQL functions both apply, each written once and
 *	  exposed to SQL, so that every entry point applies the same one:
 *
 *	  - the district of a domain (sg_act_as, sg_transfer_documents,
 *		sg_request_transfer): case-insensitive, its surrounding blanks
 *		(SG_BLANKS, args.h) ignored; samegoal.sg_district_by_domain;
 *	  - the user of a login (sg_act_as, the owner of a transfer's copies and
 *		of a request's): the active user whose username or email it is,
 *		case-insensitively, the username winning; samegoal.sg_user_by_login;
 *	  - the setting rules SG001, SG002, SG003, SG009 and SG010, with both
 *		district rows locked FOR SHARE in id order first (the transfer engine,
 *		the trigger on samegoal.transfers, sg_request_transfer), so that a
 *		transfer or a request and a change of either district's setting
 *		never interleave, and two of them in opposite directions lock in the
 *		same order; samegoal.sg_check_districts;
 *	  - SG006 for documents (a transfer, a delete or restore, a purge), one
 *		message for every case; samegoal.sg_document_not_found;
 *	  - the names of the SQLSTATEs and channels of samegoal.h, for SQL:
 *		samegoal.sg_sqlstate and samegoal.sg_channel.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "samegoal.h"
#include "args.h"
#include "owner.h"
#include "rules.h"
#include "spi.h"

/* How much of a caller's string an error message repeats. */
#define SG_ECHO_MAX_BYTES 100

/* A caller's string for an error message: at most SG_ECHO_MAX_BYTES bytes. */
char *
sg_echo(const char *value)
{
	int			len = strlen(value);
	int			clip;

	if (len <= SG_ECHO_MAX_BYTES)
		return pstrdup(value);
	clip = pg_mbcliplen(value, len, SG_ECHO_MAX_BYTES);
	return psprintf("%.*s...", clip, value);
}

/* The district with this domain, or 0. */
static SgStatement find_district_statement =
SG_STATEMENT_WITH(SG_FIRST_ROW,
				  "SELECT d.id FROM samegoal.districts d WHERE " SG_DOMAIN_IS("d", "$1"),
				  SPI_OK_SELECT, 1, TEXTOID);

int64
sg_find_district_id(const char *domain)
{
	Datum		arg = CStringGetTextDatum(sg_trim_blanks(domain));

	if (sg_execute(&find_district_statement, &arg) == 0)
		return 0;
	return sg_result_int64(0, 1);
}

/*
 * The active user of this district with this login, or 0; found through the
 * per-district indexes on username and email.
 */
static SgStatement find_user_statement =
SG_STATEMENT_WITH(SG_FIRST_ROW,
				  "SELECT u.id FROM samegoal.users u"
				  " WHERE u.district_id = $1 AND " SG_ACTIVE_LOGIN_IS("u", "$2")
				  " ORDER BY " SG_USERNAME_FIRST("u", "$2")
				  " LIMIT 1",
				  SPI_OK_SELECT, 2, INT8OID, TEXTOID);

int64
sg_find_active_user(int64 district_id, const char *login)
{
	Datum		args[2];

	args[0] = Int64GetDatum(district_id);
	args[1] = CStringGetTextDatum(login);
	if (sg_execute(&find_user_statement, args) == 0)
		return 0;
	return sg_result_int64(0, 1);
}

/*
 * Lock the sending and the receiving district FOR SHARE, in id order, and
 * read their settings; a district id that is 0, or names no district, leaves
 * its settings with id 0.
 */
static SgStatement lock_districts_statement =
SG_STATEMENT("SELECT d.id, d.state, d.transfers_enabled"
			 "  FROM samegoal.districts d"
			 " WHERE d.id = ANY (ARRAY[$1, $2])"
			 " ORDER BY d.id"
			 "   FOR SHARE",
			 SPI_OK_SELECT, 2, INT8OID, INT8OID);

void
sg_lock_districts(int64 sending_id, int64 receiving_id,
				  SgDistrictSettings *sending, SgDistrictSettings *receiving)
{
	Datum		args[2];
	uint64		nrows;

	args[0] = Int64GetDatum(sending_id);
	args[1] = Int64GetDatum(receiving_id);
	nrows = sg_execute(&lock_districts_statement, args);

	memset(sending, 0, sizeof(SgDistrictSettings));
	memset(receiving, 0, sizeof(SgDistrictSettings));
	for (uint64 row = 0; row < nrows; row++)
	{
		bool		isnull;
		int64		id = sg_result_int64(row, 1);
		SgDistrictSettings settings;

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
}

static void
sender_disabled(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_SG_SENDER_DISABLED),
			 errmsg("district-to-district transfer is disabled in the sending district"),
			 errhint("An administrator of the sending district can enable it with samegoal.sg_set_transfers_enabled(true).")));
}

static void
receiver_disabled(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_SG_RECEIVER_DISABLED),
			 errmsg("district-to-district transfer is disabled in the receiving district"),
			 errhint("An administrator of the receiving district can enable it with samegoal.sg_set_transfers_enabled(true).")));
}

static void
no_such_district(const char *domain)
{
	ereport(ERROR,
			(errcode(ERRCODE_SG_NO_SUCH_DISTRICT),
			 errmsg("no district with domain \"%s\"", sg_echo(domain)),
			 errhint("Check the domain with the other district, or search for it with samegoal.sg_find_district().")));
}

/*
 * The setting rules, in the given order. The district that the caller named
 * by domain (the receiving one in a transfer, the sending one in a request)
 * may be missing: SG003 with that domain.
 */
void
sg_check_district_settings(const SgDistrictSettings *sending,
						   const SgDistrictSettings *receiving,
						   const char *domain, SgSettingsOrder order)
{
	const SgDistrictSettings *named = order == SG_SETTINGS_REQUEST ? sending : receiving;

	if (order == SG_SETTINGS_TRANSFER && !sending->transfers_enabled)
		sender_disabled();
	if (named->id == 0)
		no_such_district(domain != NULL ? domain : "");
	if (receiving->id == sending->id)
		ereport(ERROR,
				(errcode(ERRCODE_SG_SAME_DISTRICT),
				 errmsg("cannot transfer documents to the sending district itself"),
				 errdetail("The sending and the receiving district are one district.")));
	if (strcmp(receiving->state, sending->state) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SG_OTHER_STATE),
				 errmsg("the receiving district is in another state"),
				 errdetail("Documents can only be transferred between districts of the same state.")));
	if (!receiving->transfers_enabled)
		receiver_disabled();
	if (!sending->transfers_enabled)
		sender_disabled();
}

/* SG006: one error for every document that is not there to use. */
void
sg_document_not_found(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_SG_NOT_FOUND),
			 errmsg("document not found"),
			 errdetail("A requested document does not exist in this district, is a held copy awaiting the district's decision, or is deleted (a transfer sends live documents only).")));
	pg_unreachable();
}

/*
 * sg_district_by_domain(domain text) returns bigint: the district with that
 * domain, or NULL
 */
PG_FUNCTION_INFO_V1(sg_district_by_domain);
Datum
sg_district_by_domain(PG_FUNCTION_ARGS)
{
	SgOwnerScope scope;
	int64		district_id;

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	district_id = sg_find_district_id(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	if (district_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(district_id);
}

/*
 * sg_user_by_login(district_id bigint, login text) returns bigint: the active
 * user of that district with that username or email, or NULL
 */
PG_FUNCTION_INFO_V1(sg_user_by_login);
Datum
sg_user_by_login(PG_FUNCTION_ARGS)
{
	SgOwnerScope scope;
	int64		user_id;

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	user_id = sg_find_active_user(PG_GETARG_INT64(0), text_to_cstring(PG_GETARG_TEXT_PP(1)));
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	if (user_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(user_id);
}

/*
 * sg_check_districts(sending_district_id bigint, receiving_district_id bigint,
 * domain text, requesting boolean) returns void: lock both districts and check
 * the setting rules, in a request's order or a transfer's. Without a domain
 * (the trigger on transfers), a missing district is left to the foreign keys.
 */
PG_FUNCTION_INFO_V1(sg_check_districts);
Datum
sg_check_districts(PG_FUNCTION_ARGS)
{
	SgOwnerScope scope;
	SgDistrictSettings sending;
	SgDistrictSettings receiving;
	const char *domain = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	SgSettingsOrder order = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3) ?
		SG_SETTINGS_REQUEST : SG_SETTINGS_TRANSFER;

	sg_enter_owner_scope(&scope);
	sg_spi_connect();
	sg_lock_districts(PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0),
					  PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1),
					  &sending, &receiving);
	if (domain != NULL || (sending.id != 0 && receiving.id != 0))
		sg_check_district_settings(&sending, &receiving, domain, order);
	sg_spi_finish();
	sg_leave_owner_scope(&scope);
	PG_RETURN_VOID();
}

/* sg_document_not_found() returns void: SG006, always */
PG_FUNCTION_INFO_V1(sg_document_not_found_sql);
Datum
sg_document_not_found_sql(PG_FUNCTION_ARGS)
{
	sg_document_not_found();
	PG_RETURN_VOID();
}

/* The SQLSTATEs of samegoal.h by name, and the channels. */
typedef struct SgName
{
	const char *name;
	const char *value;
} SgName;

#define SG_SQLSTATE_NAME(name, c1, c2, c3, c4, c5) \
	{#name, (const char[]) {c1, c2, c3, c4, c5, '\0'}},
static const SgName sqlstates[] = {SG_SQLSTATE_LIST(SG_SQLSTATE_NAME)};

#define SG_CHANNEL_NAME(name, channel) {#name, channel},
static const SgName channels[] = {SG_CHANNEL_LIST(SG_CHANNEL_NAME)};

static text *
lookup_name(const SgName *names, int count, text *name, const char *what)
{
	char	   *wanted = text_to_cstring(name);

	for (int i = 0; i < count; i++)
		if (pg_strcasecmp(names[i].name, wanted) == 0)
			return cstring_to_text(names[i].value);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("samegoal_transfer has no %s named \"%s\"", what, wanted)));
	return NULL;				/* keep compiler quiet */
}

/* sg_sqlstate(name text) returns text: the SQLSTATE of that name (samegoal.h) */
PG_FUNCTION_INFO_V1(sg_sqlstate);
Datum
sg_sqlstate(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(lookup_name(sqlstates, lengthof(sqlstates), PG_GETARG_TEXT_PP(0),
								 "SQLSTATE"));
}

/* sg_channel(name text) returns text: the notification channel of that name (samegoal.h) */
PG_FUNCTION_INFO_V1(sg_channel);
Datum
sg_channel(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(lookup_name(channels, lengthof(channels), PG_GETARG_TEXT_PP(0),
								 "notification channel"));
}
