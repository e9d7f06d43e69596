/*-------------------------------------------------------------------------
 *
 * samegoal.c
 *	  Module entry point of samegoal_transfer.
 *
 * The module is made of: spi.c (kept statements), owner.c (running as the
 * tables' owner), identity.c and identity_cache.c (the acting identity and
 * its checks), args.c (the argument checks), rules.c (the rules C and SQL
 * both apply, and the names of samegoal.h for SQL), transfer.c with
 * transfer_sql.c and requests.c (the transfer engine and its SQL entries),
 * directory*.c (the district directory), purge.c, node.c (the fence of a
 * state served elsewhere), and xact_block.c (whether the top-level
 * transaction is a transaction block).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "identity.h"
#include "xact_block.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * The identity setting must exist before any function reads it; the
 * transaction-block tracking of sg_act_as starts with the module.
 */
void
_PG_init(void)
{
	sg_define_identity_setting();
	sg_track_transaction_blocks();
}
