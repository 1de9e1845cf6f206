#!/usr/bin/env bash
# tools/demo.sh — smig's main job, end to end, on a throwaway local server.
#
# Run as root (or with sudo) on a fresh Debian 12 machine: installs what is
# missing, builds and installs smig, starts a temporary PostgreSQL 15 as the
# postgres OS user, creates the extension, registers examples/ledger/ with
# smig.load_dir, runs smig.upgrade_head(), prints smig.status(), the history
# and the audit trail, then stops the server and removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/common.sh

ensure_packages $BASE_PACKAGES
build_install
trap 'cleanup_dirs; echo "== server stopped and removed"' EXIT

make_pg_dir DEMO demo
cp -r examples/ledger "$DEMO/migrations"
chown -R postgres: "$DEMO/migrations"
echo "== starting a throwaway server in $DEMO"
start_cluster "$DEMO"

psql_demo() { as_postgres "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -d postgres "$@"; }

psql_demo -e <<SQL
CREATE EXTENSION smig;
-- register every migration file of the example project
SELECT smig.load_dir('$DEMO/migrations') AS registered;
SELECT * FROM smig.pending();
-- apply them, in the caller's transaction (all or nothing)
SELECT version, name FROM smig.upgrade_head();
SELECT version, name, state, applied_by, run_as, left(checksum, 12) AS checksum, has_down FROM smig.status();
SELECT id, action, version, name, role, duration, left(checksum, 12) AS checksum
  FROM smig.history ORDER BY id;
-- a second run has nothing to do
SELECT count(*) AS applied_now FROM smig.upgrade_head();
-- the audit trail: what each migration created, altered, dropped
SELECT version, change, command_tag, object_type, object_identity
  FROM smig.migration_ddl ORDER BY ddl_log_id;
-- a change made by hand, outside smig, is logged as such
ALTER TABLE tenants ADD COLUMN region text;
SELECT role, command_tag, object_identity,
       coalesce(version, 'NOT A MIGRATION') AS through, statement
  FROM smig.ddl_log WHERE object_identity = 'public.tenants' ORDER BY id;
-- an edited applied migration is caught
SELECT smig.register('1', 'baseline', 'CREATE TABLE ledger_entries (id int);');
SELECT version, name, problem FROM smig.verify_checksum();
\d ledger_entries
SQL
