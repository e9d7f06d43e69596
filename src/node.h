/*-------------------------------------------------------------------------
 *
 * node.h
 *	  The fence of a state this node does not serve, SG014 (node.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_NODE_H
#define SAMEGOAL_NODE_H

#include "utils/snapshot.h"

extern void sg_check_state_served(const char *state, Snapshot snapshot);

#endif							/* SAMEGOAL_NODE_H */
