/*-------------------------------------------------------------------------
 *
 * rules.h
 *	  The rules that C and SQL functions both apply, each written once
 *	  (rules.c) and exposed to SQL: the district of a domain, the user of a
 *	  login, the districts' settings (SG001, SG002, SG003, SG009, SG010) with
 *	  the order their rows are locked in, and SG006 for documents. The blank
 *	  characters and the argument checks are in args.h; the acting user and
 *	  administrator (42501) in identity.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_RULES_H
#define SAMEGOAL_RULES_H

#include "compat.h"

/*
 * The lookups as SQL conditions, for a statement that needs more of the rows
 * than the helpers below return (identity_cache.c): a district by its domain,
 * given with its blanks already trimmed (sg_trim_blanks), case-insensitively,
 * the domain folded once, in a subquery, not once per district scanned; an
 * active user by username or email, case-insensitively, the username first
 * (a login may be one user's username and another's email: the username
 * wins).
 */
#define SG_DOMAIN_IS(alias, trimmed) \
	"lower(" alias ".domain) = (SELECT lower(" trimmed "))"
#define SG_ACTIVE_LOGIN_IS(alias, login) \
	alias ".is_active" \
	" AND (lower(" alias ".username) = lower(" login ") OR lower(" alias ".email) = lower(" login "))"
#define SG_USERNAME_FIRST(alias, login) \
	"lower(" alias ".username) = lower(" login ") DESC"

/* A district row, as locked and read before the setting rules are checked. */
typedef struct SgDistrictSettings
{
	int64		id;				/* 0 when there is no such district */
	char	   *state;
	bool		transfers_enabled;
} SgDistrictSettings;

/*
 * The order of the setting rules: a transfer's (SG001, SG003, SG009, SG010,
 * SG002), which the trigger on samegoal.transfers follows too, or a
 * request's (SG003, SG009, SG010, SG002, SG001), where the acting district is
 * the receiving one. Each rule has one message and hint, whichever the
 * order.
 */
typedef enum SgSettingsOrder
{
	SG_SETTINGS_TRANSFER,
	SG_SETTINGS_REQUEST,
} SgSettingsOrder;

/* SPI connected, in an owner scope */
extern int64 sg_find_district_id(const char *domain);
extern int64 sg_find_active_user(int64 district_id, const char *login);
extern void sg_lock_districts(int64 sending_id, int64 receiving_id,
							  SgDistrictSettings *sending, SgDistrictSettings *receiving);

extern void sg_check_district_settings(const SgDistrictSettings *sending,
									   const SgDistrictSettings *receiving,
									   const char *domain, SgSettingsOrder order);
extern pg_noreturn void sg_document_not_found(void);
extern char *sg_echo(const char *value);

#endif							/* SAMEGOAL_RULES_H */
