/*-------------------------------------------------------------------------
 *
 * samegoal.h
 *	  Declarations shared by the samegoal_transfer C modules: the contract's
 *	  SQLSTATEs, the owner scope, and the acting identity.
 *
 * What is written in C and what in plpgsql: C where the acting identity is
 * set or checked, where a function reads across districts, or where a
 * statement is hot enough to be kept prepared (src/spi.h); everything else is
 * plpgsql SECURITY DEFINER with a pinned search_path (src/sql).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_H
#define SAMEGOAL_H

#include "fmgr.h"
#include "utils/array.h"
#include "utils/snapshot.h"

#include "compat.h"

#define SG_EXTENSION_NAME "samegoal_transfer"

/* SQLSTATEs of the contract */
#define ERRCODE_SG_SENDER_DISABLED		MAKE_SQLSTATE('S','G','0','0','1')
#define ERRCODE_SG_RECEIVER_DISABLED	MAKE_SQLSTATE('S','G','0','0','2')
#define ERRCODE_SG_NO_SUCH_DISTRICT		MAKE_SQLSTATE('S','G','0','0','3')
#define ERRCODE_SG_NO_SUCH_STUDENT		MAKE_SQLSTATE('S','G','0','0','4')
#define ERRCODE_SG_NO_SUCH_USER			MAKE_SQLSTATE('S','G','0','0','5')
#define ERRCODE_SG_DOCUMENT_NOT_FOUND	MAKE_SQLSTATE('S','G','0','0','6')
#define ERRCODE_SG_MIXED_STUDENTS		MAKE_SQLSTATE('S','G','0','0','7')
#define ERRCODE_SG_DOCUMENT_LIVE		MAKE_SQLSTATE('S','G','0','0','8')
#define ERRCODE_SG_SAME_DISTRICT		MAKE_SQLSTATE('S','G','0','0','9')
#define ERRCODE_SG_OTHER_STATE			MAKE_SQLSTATE('S','G','0','1','0')
#define ERRCODE_SG_STUDENT_MISMATCH		MAKE_SQLSTATE('S','G','0','1','2')
#define ERRCODE_SG_SERVED_ELSEWHERE		MAKE_SQLSTATE('S','G','0','1','4')

/*
 * State saved while a function runs its SPI work as the owner of the
 * extension's tables, with a fixed search_path (owner.c).
 */
typedef struct SgOwnerScope
{
	Oid			saved_userid;
	int			saved_sec_context;
	int			guc_nestlevel;
} SgOwnerScope;

/*
 * A relation of the extension that the C code reads by name, found once and
 * kept until its relcache entry is invalidated (owner.c). Declare one as a
 * static variable with its name set.
 */
typedef struct SgKnownRelation
{
	const char *name;
	Oid			relid;			/* InvalidOid: not known yet, or missing */
	bool		registered;
} SgKnownRelation;

/* owner.c */
extern Oid	sg_extension_relation(const char *relname);
extern Oid	sg_known_relation(SgKnownRelation *known);
extern void sg_enter_owner_scope(SgOwnerScope *scope);
extern void sg_leave_owner_scope(SgOwnerScope *scope);

/* xact_block.c: whether the top-level transaction is a transaction block */
extern void sg_track_transaction_blocks(void);
extern bool sg_in_transaction_block(void);

/* identity.c: the acting identity and the checks on it */
extern void sg_define_identity_setting(void);
extern int64 sg_acting_district_id(void);
extern int64 sg_require_acting_user(void);
extern int64 sg_require_acting_admin(void);

/* identity.c: lookups; SPI connected, in an owner scope */
extern int64 sg_find_district_id(const char *domain);
extern int64 sg_find_active_user(int64 district_id, const char *login);

/* identity_cache.c: the lookup of sg_act_as, cached per session */
extern bool sg_resolve_identity(const char *domain, const char *login, int64 *user_id,
								int64 *district_id);

/* identity.c: arguments */
extern ArrayType *sg_distinct_id_array(ArrayType *input, int *count);
extern ArrayType *sg_distinct_id_arg(FunctionCallInfo fcinfo, int argno, int *count);
extern char *sg_required_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname);

/* transfer.c: whether the catalog has held arrivals (1.3) */
extern bool sg_has_held_arrivals(void);

/* node.c: the fence of a state this node does not serve (SG014) */
extern void sg_check_state_served(const char *state, Snapshot snapshot);

#endif							/* SAMEGOAL_H */
