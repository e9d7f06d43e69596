/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The differences between the PostgreSQL major versions samegoal_transfer
 *	  builds on (15 to 18), in one place, so that the rest of the code is
 *	  written once.
 *
 * Each guard names the version that changed the interface; code elsewhere
 * uses the macros below and never tests PG_VERSION_NUM itself.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_COMPAT_H
#define SAMEGOAL_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "samegoal_transfer requires PostgreSQL 15 or later"
#endif

/* 16 moved the varlena macros out of postgres.h. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * 16 frees a setting's check-hook "extra" with guc_free(), which is pfree()
 * of a block from the setting machinery's own context; before 16 it was
 * free(). A block from the wrong allocator ends every later change of the
 * setting (COMMIT included) in a crash.
 */
#if PG_VERSION_NUM >= 160000
#include "utils/guc.h"
#define sg_guc_extra_alloc(size)	guc_malloc(LOG, (size))
#else
#define sg_guc_extra_alloc(size)	malloc(size)
#endif

/* 17 grouped a backend's virtual transaction id in PGPROC.vxid. */
#if PG_VERSION_NUM >= 170000
#define SG_PROC_LXID(proc)	((proc)->vxid.lxid)
#else
#define SG_PROC_LXID(proc)	((proc)->lxid)
#endif

/* 18 added the deferrable-ok argument; a deferrable key is no key to us. */
#if PG_VERSION_NUM >= 180000
#define SG_PRIMARY_KEY_INDEX(rel)	RelationGetPrimaryKeyIndex((rel), false)
#else
#define SG_PRIMARY_KEY_INDEX(rel)	RelationGetPrimaryKeyIndex(rel)
#endif

/*
 * 18 replaced pg_attribute_noreturn(), written after a declarator, with
 * pg_noreturn, written before it; the attribute before works on 15 to 17.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

#endif							/* SAMEGOAL_COMPAT_H */
