/*-------------------------------------------------------------------------
 *
 * owner.h
 *	  Running SQL as the owner of the extension's tables with a pinned
 *	  search_path, and finding the extension's own relations (owner.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_OWNER_H
#define SAMEGOAL_OWNER_H

/*
 * State saved while a function runs its SPI work as the owner of the
 * extension's tables, with a fixed search_path.
 */
typedef struct SgOwnerScope
{
	Oid			saved_userid;
	int			saved_sec_context;
	int			guc_nestlevel;
} SgOwnerScope;

/*
 * A relation of the extension that the C code reads by name, found once and
 * kept until its relcache entry is invalidated. Declare one as a static
 * variable with its name set.
 */
typedef struct SgKnownRelation
{
	const char *name;
	Oid			relid;			/* InvalidOid: not known yet, or missing */
	bool		registered;
} SgKnownRelation;

extern Oid	sg_extension_relation(const char *relname);
extern Oid	sg_known_relation(SgKnownRelation *known);
extern void sg_enter_owner_scope(SgOwnerScope *scope);
extern void sg_leave_owner_scope(SgOwnerScope *scope);

#endif							/* SAMEGOAL_OWNER_H */
