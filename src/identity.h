/*-------------------------------------------------------------------------
 *
 * identity.h
 *	  The acting identity and the checks on it (identity.c), and the cached
 *	  lookup behind sg_act_as (identity_cache.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_IDENTITY_H
#define SAMEGOAL_IDENTITY_H

/* identity.c */
extern void sg_define_identity_setting(void);
extern int64 sg_acting_district_id(void);
extern int64 sg_require_acting_user(void);
extern int64 sg_require_acting_admin(void);

/* identity_cache.c: the lookup of sg_act_as, cached per session */
extern bool sg_resolve_identity(const char *domain, const char *login, int64 *user_id,
								int64 *district_id);

#endif							/* SAMEGOAL_IDENTITY_H */
