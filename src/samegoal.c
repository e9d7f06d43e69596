/*-------------------------------------------------------------------------
 *
 * samegoal.c
 *	  Module entry point of samegoal_transfer.
 *
 * The module is made of: spi.c (kept statements), owner.c (running as the
 * tables' owner), identity.c (the acting identity, its checks, lookups and
 * argument checks), transfer.c with transfer_sql.c (the transfer engine and
 * its SQL entry), directory*.c (the district directory) and purge.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "samegoal.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* The identity setting must exist before any function reads it. */
void
_PG_init(void)
{
	sg_define_identity_setting();
}
