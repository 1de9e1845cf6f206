# smig — PGXS build.  See README.md "Contributing" for the test commands.

EXTENSION  = smig
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

MODULE_big = smig
OBJS       = $(patsubst %.c,%.o,$(wildcard src/*.c src/common/*.c))
# Install scripts: 0.1 and every upgrade script.  A new install of 0.2 runs
# smig--0.1.sql and then smig--0.1--0.2.sql (CREATE EXTENSION follows the
# update path), so a fresh and an upgraded database are built by one script.
DATA       = $(wildcard sql/$(EXTENSION)--*.sql)

# pg_regress files, in the order they run (sql/<name>.sql, expected/<name>.out)
REGRESS = install versions checksums lexing register upgrade_head failures \
          baseline out_of_order verify_repair fastpath load_dir sync readonly privileges \
          audit guard run_as run_as_attacks attacks_0_2 unregister downgrade procedure no_transaction arguments repeatable upgrade_0_1 snapshot drift
REGRESS_OPTS = --inputdir=. --encoding=UTF8 --no-locale
# isolation specs (specs/<name>.spec, expected/<name>.out)
ISOLATION = concurrent_upgrade repeatable_read audit_attribution register_race deploy_lock \
            concurrent_downgrade procedure_concurrency no_transaction_deadlock
ISOLATION_OPTS =
# TAP tests (t/*.pl): primary + standby, dump and restore, the deploy lock,
# the guard, the deployer recipe, PgBouncer, examples/ledger up-down-up,
# long deploys stopped by cancel, session end and SIGKILL
TAP_TESTS = 1

PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/common
PG_CFLAGS   = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: unitcheck installcheck-regress installcheck-isolation prove-tap bench demo test mutation

# The suites of "make installcheck", one at a time (tools/test.sh runs each
# against its own temporary instance through EXTRA_REGRESS_OPTS).
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

prove-tap:
	$(prove_installcheck)

# plain-C unit tests of src/common (lexer, versions, file names)
unitcheck:
	$(MAKE) -C test/unit check

bench:
	bench/run.sh

demo:
	tools/demo.sh

test:
	tools/test.sh

# mutation testing (slow, on demand): plants each bug of tools/mutants.txt
# in a copy of the tree and runs tools/test.sh; prints the score and the
# survivors
mutation:
	tools/mutation.sh
