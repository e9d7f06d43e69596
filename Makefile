# samegoal_transfer: PGXS build
EXTENSION = samegoal_transfer
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = $(EXTENSION)
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))

# The install script of the current version is built from the readable sources
# in src/sql, in name order. Released install scripts (samegoal_transfer--1.0.sql)
# and the update scripts between versions are kept as written, never rebuilt.
SQL_SOURCES = $(sort $(wildcard src/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard $(EXTENSION)--*.sql))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
# The test databases are UTF-8 whatever the server's default encoding.
REGRESS_OPTS = --encoding=UTF8
ISOLATION_OPTS = --encoding=UTF8

PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
EXTRA_CLEAN = $(DATA_built)
DOCS = $(wildcard docs/*.md)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(SQL_SOURCES) $(EXTENSION).control
	( printf '%s\n' '\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \quit'; \
	  for f in $(SQL_SOURCES); do printf '\n-- %s\n' "$$f"; cat "$$f"; done ) > $@

.PHONY: demo test bench
demo:
	examples/demo
test:
	test/run-tests
# make bench BENCH_ARGS=--quick for the short run
bench:
	test/bench/run $(BENCH_ARGS)
