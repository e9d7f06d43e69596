/*-------------------------------------------------------------------------
 *
 * samegoal.c
 *	  Module entry point of samegoal_transfer.
 *
 * The module is made of: spi.c (kept statements), owner.c (running as the
 * tables' owner), identity.c (the acting identity, its checks, lookups and
 * argument checks), transfer.c with transfer_sql.c (the transfer engine and
 * its SQL entry), directory*.c (the district directory), purge.c, and
 * xact_block.c (whether the top-level transaction is a transaction block).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "samegoal.h"

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
