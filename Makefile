# samegoal_transfer: PGXS build
EXTENSION = samegoal_transfer
# The source directory: "./", or another one in a build directory of its own
# (make -f SRC/Makefile VPATH=SRC, as Debian's pg_buildext builds one
# directory per PostgreSQL version). File lists are taken from it and named
# relative to it, as PGXS expects.
SG_SRC := $(dir $(firstword $(MAKEFILE_LIST)))
sg_files = $(patsubst $(SG_SRC)%,%,$(wildcard $(addprefix $(SG_SRC),$(1))))
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(SG_SRC)$(EXTENSION).control)

MODULE_big = $(EXTENSION)
OBJS = $(patsubst %.c,%.o,$(call sg_files,src/*.c))

# The install script of the current version is built from the readable sources
# in src/sql, in name order. Released install scripts (samegoal_transfer--1.0.sql)
# and the update scripts between versions are kept as written, never rebuilt.
SQL_SOURCES = $(sort $(call sg_files,src/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(call sg_files,$(EXTENSION)--*.sql))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(call sg_files,sql/*.sql)))
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(call sg_files,specs/*.spec)))
# The test databases are UTF-8 whatever the server's default encoding.
REGRESS_OPTS = --encoding=UTF8
ISOLATION_OPTS = --encoding=UTF8

PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
EXTRA_CLEAN = $(DATA_built)
DOCS = $(call sg_files,docs/*.md)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The documents under a directory of their own (PGXS would put them straight
# in the shared extension/ one, where another package's performance.md would
# clash with ours).
docmoduledir = $(EXTENSION)

# A build directory has no src/ for the objects until one is made.
$(OBJS): | $(CURDIR)/src
$(CURDIR)/src:
	mkdir -p $@

$(DATA_built): $(addprefix $(SG_SRC),$(SQL_SOURCES) $(EXTENSION).control)
	( printf '%s\n' '\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \quit'; \
	  for f in $(SQL_SOURCES); do printf '\n-- %s\n' "$$f"; cat "$(SG_SRC)$$f"; done ) > $@

# The entry scripts, which make lets install no packages: a missing one is an
# error that names test/install-packages (the scripts run alone install them).
.PHONY: demo test bench
demo:
	SG_NO_INSTALL=yes examples/demo
test:
	SG_NO_INSTALL=yes test/run-tests
# make bench BENCH_ARGS=--quick for the short run
bench:
	SG_NO_INSTALL=yes test/bench/run $(BENCH_ARGS)
