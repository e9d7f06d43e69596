/*-------------------------------------------------------------------------
 *
 * xact_block.h
 *	  Whether the top-level transaction is a transaction block, from any
 *	  nesting level (xact_block.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_XACT_BLOCK_H
#define SAMEGOAL_XACT_BLOCK_H

extern void sg_track_transaction_blocks(void);
extern bool sg_in_transaction_block(void);

#endif							/* SAMEGOAL_XACT_BLOCK_H */
