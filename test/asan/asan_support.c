/*-------------------------------------------------------------------------
 *
 * asan_support.c
 *	  Linked into the module only by `test/run-tests --asan` (and the
 *	  AddressSanitizer pass of --extended), together with the static
 *	  AddressSanitizer runtime. Not instrumented itself.
 *
 * The runtime lives in the module, not in the server, so two things that
 * the runtime normally does by itself are done here:
 *
 * - Options. The runtime reads ASAN_OPTIONS from /proc/self/environ, which
 *   a backend overwrites with its process title; __asan_default_options
 *   hands it the variable from the process environment instead.
 *
 * - Stack after an error. PostgreSQL leaves a function on ERROR through
 *   siglongjmp. The runtime's interceptor of siglongjmp, which clears the
 *   poisoned red zones of the frames it skips, is not in effect (the server
 *   was linked against libc's), so stale red zones would stay on the stack
 *   and be reported when the server's own frames later reuse those
 *   addresses. The module is compiled with -finstrument-functions, and each
 *   time the server (not the module) calls into it the stack is cleared
 *   here, so only the module's own frames from then on are checked.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <sanitizer/asan_interface.h>

/* Hidden, so that the module calls these rather than libc's empty ones. */
#define HIDDEN __attribute__((visibility("hidden")))

const char *__asan_default_options(void);
HIDDEN void __cyg_profile_func_enter(void *fn, void *call_site);
HIDDEN void __cyg_profile_func_exit(void *fn, void *call_site);

extern void *__libc_stack_end;

/* How far below the current frame stale red zones are cleared. */
#define CLEAR_BELOW (4 * 1024 * 1024)

static uintptr_t module_start;
static uintptr_t module_end;

const char *
__asan_default_options(void)
{
	const char *options = getenv("ASAN_OPTIONS");

	return options != NULL ? options : "";
}

/* Find the executable segment of the object that holds this file. */
static int
find_module(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t	self = (uintptr_t) data;

	for (int i = 0; i < info->dlpi_phnum; i++)
	{
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t	start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
			self >= start && self < start + ph->p_memsz)
		{
			module_start = start;
			module_end = start + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

/*
 * On entry to a module function called by the server: clear the stack above
 * that function's frame (the server's frames) and below it (not in use yet),
 * leaving the function's own red zones in place.
 */
HIDDEN void
__cyg_profile_func_enter(void *fn, void *call_site)
{
	uintptr_t	site = (uintptr_t) call_site;
	uintptr_t	here = (uintptr_t) __builtin_frame_address(0);
	/* the module is built with frame pointers: this is the callee's frame */
	uintptr_t	callee = (uintptr_t) __builtin_frame_address(1);
	uintptr_t	top = (uintptr_t) __libc_stack_end;
	uintptr_t	bottom;

	if (module_end == 0)
		dl_iterate_phdr(find_module, (void *) (uintptr_t) __cyg_profile_func_enter);
	if (site >= module_start && site < module_end)
		return;					/* a call within the module */
	if (!(here < callee && callee + 16 < top))
		return;					/* not on the main stack */
	bottom = (here > CLEAR_BELOW ? here - CLEAR_BELOW : 0) & ~(uintptr_t) 4095;
	__asan_unpoison_memory_region((void *) bottom, here - bottom);
	/* above the saved frame pointer and return address: the server's frames */
	__asan_unpoison_memory_region((void *) (callee + 16), top - (callee + 16));
}

HIDDEN void
__cyg_profile_func_exit(void *fn, void *call_site)
{
}
