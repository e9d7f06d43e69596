/*-------------------------------------------------------------------------
 *
 * args.h
 *	  The checks of the functions' arguments, for C and SQL alike (args.c):
 *	  the blank characters, text that must be given and not blank (22023),
 *	  and id arrays (sorted, distinct, no NULL).
 *
 *-------------------------------------------------------------------------
 */
#ifndef SAMEGOAL_ARGS_H
#define SAMEGOAL_ARGS_H

#include "fmgr.h"
#include "utils/array.h"

/*
 * The blank characters, wherever the extension ignores or refuses blanks: a
 * domain's surrounding blanks, a blank argument, a search's blanks, the text
 * it trims before storing. ASCII's six white-space characters: space, tab,
 * line feed, vertical tab, form feed, carriage return.
 */
#define SG_BLANKS	" \t\n\v\f\r"

extern char *sg_trim_blanks(const char *value);
extern bool sg_is_blank(const char *value);
extern char *sg_require_text_value(const char *value, const char *argname, int max_length);

extern ArrayType *sg_distinct_id_array(ArrayType *input, int *count);
extern ArrayType *sg_distinct_id_arg(FunctionCallInfo fcinfo, int argno, int *count);
extern char *sg_required_text_arg(FunctionCallInfo fcinfo, int argno, const char *argname);

#endif							/* SAMEGOAL_ARGS_H */
