# No-transaction migrations at the edges of the background worker: no free
# worker slot (max_worker_processes = 1, which the logical replication
# launcher already takes) is a clear error that leaves the migration
# pending; a worker terminated in the middle of a migration is reported
# when it has stopped, not waited for, and the failed attempt names the
# statement it was running.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('no_transaction');
$node->init;
$node->append_conf('postgresql.conf', 'max_worker_processes = 1');
$node->start;
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE EXTENSION smig;
    CREATE TABLE t (id int);
    SELECT smig.register('1', 'cic', E'-- smig:no-transaction\nCREATE INDEX CONCURRENTLY t_id_idx ON t (id);');
});

# Wait until the smig worker of a CALL waits for a lock.
sub worker_waits_for_a_lock
{
    $node->poll_query_until('postgres', q{
        SELECT count(*) = 1 FROM pg_stat_activity
         WHERE backend_type = 'smig worker' AND wait_event_type = 'Lock'})
      or die 'the worker did not start waiting';
}

my ($rc, $out, $err) = $node->psql('postgres', 'CALL smig.upgrade()');
isnt($rc, 0, 'no worker slot: the CALL fails');
like($err, qr/could not start a background worker for migration "1" \("cic"\)/,
    'no worker slot: the error says so');
like($err, qr/max_worker_processes = 1/, 'no worker slot: the detail names max_worker_processes');
is($node->safe_psql('postgres', q{SELECT state FROM smig.status() WHERE version = '1'}),
    'pending', 'no worker slot: the migration stays pending');
is($node->safe_psql('postgres', q{SELECT sqlstate FROM smig.history WHERE action = 'failed'}),
    '53400', 'no worker slot: a failed attempt with SQLSTATE 53400');

# room for the worker; its first statement waits for an advisory lock
$node->append_conf('postgresql.conf', 'max_worker_processes = 8');
$node->restart;
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    SELECT smig.register('2', 'long', E'-- smig:no-transaction\nSELECT pg_advisory_lock(4501);\nCREATE INDEX CONCURRENTLY t_id2_idx ON t (id);');
});
my $holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(4501)');
my $caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/started/, q{
\echo started
CALL smig.upgrade();
\echo done
});
worker_waits_for_a_lock();
$node->safe_psql('postgres', q{
    SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'smig worker'});
$caller->query_until(qr/done/, '');
$caller->quit;
$holder->quit;
like($caller->{stderr}, qr/background worker of migration "2" \("long"\) exited before it finished/,
    'a terminated worker is reported');
is($node->safe_psql('postgres', q{SELECT state FROM smig.status() WHERE version = '2'}),
    'pending', 'terminated worker: the migration stays pending');
is($node->safe_psql('postgres', q{
    SELECT detail FROM smig.history WHERE action = 'failed' AND version = '2'}),
    'line 2: SELECT pg_advisory_lock(4501)', 'terminated worker: the failed attempt names the statement');
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM pg_locks WHERE locktype IN ('object', 'userlock')
       AND classid = 'pg_extension'::regclass AND objsubid IN (1, 2, 3)}),
    '0', 'no smig lock is left');

# and the next call applies it
$node->safe_psql('postgres', 'CALL smig.upgrade()');
is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id2_idx'::regclass}),
    't', 'the next call builds a valid index');

# issue 16 in the worker: a statement that times out on a lock is retried
# (the statement before it runs once), with the NOTICE relayed to the
# caller; when the retries run out the failure names the statement
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE TABLE runs (n int);
    SELECT smig.register('3', 'retried', E'-- smig:no-transaction\n-- smig:lock-timeout 200ms\nINSERT INTO runs VALUES (1);\nCREATE INDEX CONCURRENTLY t_id3_idx ON t (id);');
});
$holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN; LOCK TABLE t IN SHARE MODE');
$caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/started/, q{
\set SHOW_CONTEXT always
SET smig.retry_backoff = '300ms';
\echo started
CALL smig.upgrade();
\echo done
});
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM runs}) or die 'no first statement';
sleep(1);
$holder->query_safe('COMMIT');
$caller->query_until(qr/done/, '');
$caller->quit;
like($caller->{stderr}, qr/NOTICE:  statement timed out waiting for ShareUpdateExclusiveLock on relation "public.t", attempt 1 of 6/,
    'worker retry: the NOTICE reaches the caller');
like($caller->{stderr}, qr/DETAIL:  Held by PID \d+ in ShareLock mode.*Retrying in/, 'worker retry: the holder is named');
like($caller->{stderr}, qr/CONTEXT:  line 4 of the up script of migration "3" \("retried"\), in a background worker/,
    'worker retry: the NOTICE names the line');
is($node->safe_psql('postgres', q{SELECT state FROM smig.status() WHERE version = '3'}),
    'applied', 'worker retry: applied once the holder committed');
is($node->safe_psql('postgres', q{SELECT count(*) FROM runs}), '1', 'worker retry: the statement before ran once');
is($node->safe_psql('postgres', q{SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id3_idx'::regclass}),
    't', 'worker retry: the index is valid');

$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    SELECT smig.register('4', 'exhausted', E'-- smig:no-transaction\n-- smig:lock-timeout 100ms\n-- smig:lock-retries 1\nCREATE INDEX CONCURRENTLY t_id4_idx ON t (id);');
});
$holder->query_safe('BEGIN; LOCK TABLE t IN SHARE MODE');
($rc, $out, $err) = $node->psql('postgres', q{SET smig.retry_backoff = '100ms'; CALL smig.upgrade()});
$holder->query_safe('COMMIT');
$holder->quit;
isnt($rc, 0, 'retries used up: the CALL fails');
like($err, qr/could not obtain ShareUpdateExclusiveLock on relation "public.t" in 2 attempts/,
    'retries used up: the error says so');
is($node->safe_psql('postgres', q{
    SELECT sqlstate || ' ' || detail FROM smig.history WHERE action = 'failed' AND version = '4'}),
    '55P03 line 4: CREATE INDEX CONCURRENTLY t_id4_idx ON t (id)', 'retries used up: the failed attempt names the statement');
is($node->safe_psql('postgres', q{SELECT state FROM smig.status() WHERE version = '4'}),
    'pending', 'retries used up: the migration stays pending');

# Trap 2, the leftovers no name tells: an unnamed CREATE INDEX
# CONCURRENTLY, and REINDEX CONCURRENTLY's <name>_ccnew.  boom() fails
# while flag has a row; a user's own INVALID index on the same table
# (built outside smig) must survive every retry.
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE TABLE flag (b boolean);
    CREATE FUNCTION boom(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
      AS $$BEGIN IF EXISTS (SELECT FROM public.flag) THEN RAISE EXCEPTION 'boom'; END IF; RETURN $1; END$$;
    CREATE TABLE u (x int);
    INSERT INTO u SELECT generate_series(1, 10);
    CREATE INDEX u_r_idx ON u (boom(x));
    INSERT INTO flag VALUES (true);
    SELECT smig.register('5', 'unnamed', E'-- smig:no-transaction\nCREATE INDEX CONCURRENTLY ON u (boom(x));');
});
($rc, $out, $err) = $node->psql('postgres', 'CREATE INDEX CONCURRENTLY u_users_own ON u (boom(x))');
isnt($rc, 0, "the user's own concurrent build fails");
my $invalid_on_u = q{SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY indexrelid::regclass::text) FROM pg_index
     WHERE indrelid = 'u'::regclass AND NOT indisvalid};
is($node->safe_psql('postgres', $invalid_on_u), 'u_users_own', "the user's own index is INVALID");

($rc, $out, $err) = $node->psql('postgres', 'CALL smig.upgrade()');
isnt($rc, 0, 'unnamed build: the CALL fails');
like($err, qr/WARNING:  migration "5" \("unnamed"\) left invalid index public\.u_boom_idx\n/,
    'unnamed build: the failure names the index PostgreSQL named');
is($node->safe_psql('postgres', $invalid_on_u), 'u_boom_idx,u_users_own', 'unnamed build: its leftover is INVALID');
# a second failing attempt drops the first leftover: one leftover at a time
($rc, $out, $err) = $node->psql('postgres', 'CALL smig.upgrade()');
like($err, qr/NOTICE:  dropped invalid index public\.u_boom_idx before building it again/,
    'unnamed build, failing again: the first leftover is dropped');
is($node->safe_psql('postgres', $invalid_on_u), 'u_boom_idx,u_users_own', 'unnamed build, failing again: one leftover');
$node->safe_psql('postgres', 'DELETE FROM flag');
($rc, $out, $err) = $node->psql('postgres', 'CALL smig.upgrade()');
is($rc, 0, 'unnamed build: the retry succeeds');
like($err, qr/NOTICE:  dropped invalid index public\.u_boom_idx before building it again\nDETAIL:  An earlier attempt of migration "5" \("unnamed"\) failed and left it INVALID\./,
    'unnamed build: the retry drops the leftover');
is($node->safe_psql('postgres', q{SELECT string_agg(indexrelid::regclass::text || ' ' || indisvalid, ',' ORDER BY indexrelid::regclass::text)
     FROM pg_index WHERE indrelid = 'u'::regclass}),
    'u_boom_idx true,u_r_idx true,u_users_own false', "unnamed build: one valid index, and the user's own INVALID one kept");

$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    INSERT INTO flag VALUES (true);
    SELECT smig.register('6', 'reindex', E'-- smig:no-transaction\nREINDEX INDEX CONCURRENTLY u_r_idx;');
});
($rc, $out, $err) = $node->psql('postgres', 'CALL smig.upgrade()');
isnt($rc, 0, 'REINDEX CONCURRENTLY: the CALL fails');
like($err, qr/WARNING:  migration "6" \("reindex"\) left invalid index public\.u_r_idx_ccnew\n/,
    'REINDEX CONCURRENTLY: the failure names the _ccnew index');
$node->safe_psql('postgres', 'DELETE FROM flag');
($rc, $out, $err) = $node->psql('postgres', 'CALL smig.upgrade()');
is($rc, 0, 'REINDEX CONCURRENTLY: the retry succeeds');
like($err, qr/NOTICE:  dropped invalid index public\.u_r_idx_ccnew before building it again/,
    'REINDEX CONCURRENTLY: the retry drops the _ccnew index');
is($node->safe_psql('postgres', q{SELECT string_agg(indexrelid::regclass::text || ' ' || indisvalid, ',' ORDER BY indexrelid::regclass::text)
     FROM pg_index WHERE indrelid = 'u'::regclass}),
    'u_boom_idx true,u_r_idx true,u_users_own false', "REINDEX CONCURRENTLY: no _ccnew or _ccold left, the user's own index kept");

# REINDEX TABLE CONCURRENTLY: each index of the table gets a _ccnew
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    INSERT INTO flag VALUES (true);
    SELECT smig.register('7', 'reindex_table', E'-- smig:no-transaction\nREINDEX TABLE CONCURRENTLY u;');
});
($rc, $out, $err) = $node->psql('postgres', 'CALL smig.upgrade()');
isnt($rc, 0, 'REINDEX TABLE CONCURRENTLY: the CALL fails');
like($err, qr/WARNING:  migration "7" \("reindex_table"\) left invalid index public\.u_boom_idx_ccnew, public\.u_r_idx_ccnew\n/,
    'REINDEX TABLE CONCURRENTLY: the failure names the _ccnew indexes');
$node->safe_psql('postgres', 'DELETE FROM flag');
($rc, $out, $err) = $node->psql('postgres', 'CALL smig.upgrade()');
is($rc, 0, 'REINDEX TABLE CONCURRENTLY: the retry succeeds');
is($node->safe_psql('postgres', q{SELECT string_agg(indexrelid::regclass::text || ' ' || indisvalid, ',' ORDER BY indexrelid::regclass::text)
     FROM pg_index WHERE indrelid = 'u'::regclass}),
    'u_boom_idx true,u_r_idx true,u_users_own false', "REINDEX TABLE CONCURRENTLY: no leftover, the user's own index kept");

# smig.ddl_log of the worker's DDL: session_role is the caller's session
# user, role the run-as role, as for a migration in a transaction, for a
# NOLOGIN run-as role as for a LOGIN one
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE ROLE deployer LOGIN SUPERUSER;
    CREATE ROLE mig_nologin NOLOGIN;
    CREATE ROLE mig_login LOGIN;
    GRANT CREATE ON SCHEMA public TO mig_nologin, mig_login;
    CREATE TABLE owned_n (x int);
    ALTER TABLE owned_n OWNER TO mig_nologin;
    CREATE TABLE owned_l (x int);
    ALTER TABLE owned_l OWNER TO mig_login;
});
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    SELECT smig.register('8', 'nologin', E'-- smig:no-transaction\n-- smig:run-as mig_nologin\nCREATE INDEX CONCURRENTLY owned_n_idx ON owned_n (x);');
    SELECT smig.register('9', 'login', E'-- smig:no-transaction\n-- smig:run-as mig_login\nCREATE INDEX CONCURRENTLY owned_l_idx ON owned_l (x);');
    SELECT smig.register('10', 'in_transaction', E'-- smig:run-as mig_nologin\nCREATE INDEX owned_n_idx2 ON owned_n (x);');
}, extra_params => ['-U', 'deployer']);
$node->safe_psql('postgres', 'CALL smig.upgrade()', extra_params => ['-U', 'deployer']);
is($node->safe_psql('postgres', q{
    SELECT string_agg(version || ' ' || session_role || ' ' || role, ',' ORDER BY id)
      FROM smig.ddl_log WHERE version IN ('8', '9', '10') AND command_tag = 'CREATE INDEX'}),
    '8 deployer mig_nologin,9 deployer mig_login,10 deployer mig_nologin',
    'ddl_log: the worker records the caller as session_role, NOLOGIN or LOGIN run-as role, as a transaction does');

# a caller whose LOGIN was revoked since it connected: the worker connects
# as the bootstrap superuser and takes the caller's session user
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE ROLE deployer2 LOGIN SUPERUSER;
    SELECT smig.register('11', 'revoked', E'-- smig:no-transaction\n-- smig:run-as mig_nologin\nCREATE INDEX CONCURRENTLY owned_n_idx3 ON owned_n (x);');
});
my $revoked = $node->background_psql('postgres', extra_params => ['-U', 'deployer2']);
$node->safe_psql('postgres', 'ALTER ROLE deployer2 NOLOGIN');
$revoked->query_safe('SET client_min_messages = warning; CALL smig.upgrade()');
$revoked->quit;
is($node->safe_psql('postgres', q{
    SELECT string_agg(session_role || ' ' || role, ',' ORDER BY id)
      FROM smig.ddl_log WHERE version = '11' AND command_tag = 'CREATE INDEX'}),
    'deployer2 mig_nologin', 'ddl_log: a caller no longer LOGIN is still the session_role');

# A concurrent build of another role on a table of the run-as role is not
# the worker's leftover.  pg_stat_progress_create_index shows the run-as
# role (no pg_read_all_stats) only its own sessions' builds, so the
# superuser's build below, INVALID while it waits, passed for a leftover of
# the statement that timed out on a lock, and the retry tried to drop it
# (DROP INDEX CONCURRENTLY, waiting for that build) until its retries ran
# out, failing on a table the migration never names.
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE TABLE cc_a (x int);
    CREATE TABLE cc_b (x int);
    ALTER TABLE cc_a OWNER TO mig_nologin;
    ALTER TABLE cc_b OWNER TO mig_nologin;
    SELECT smig.register('12', 'beside_a_build', E'-- smig:no-transaction\n-- smig:run-as mig_nologin\n-- smig:lock-timeout 2s\n-- smig:lock-retries 3\nCREATE INDEX CONCURRENTLY cc_b_idx ON cc_b (x);');
});
my $lock_b = $node->background_psql('postgres');
$lock_b->query_safe('BEGIN; LOCK TABLE cc_b IN SHARE MODE');
$caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/started/, q{
SET smig.retry_backoff = '200ms';
\echo started
CALL smig.upgrade();
\echo done
});
worker_waits_for_a_lock();
# the superuser's build: its INVALID index exists while it waits for lock_a
my $lock_a = $node->background_psql('postgres');
$lock_a->query_safe('BEGIN; INSERT INTO cc_a VALUES (1)');
my $dba = $node->background_psql('postgres', on_error_stop => 0);
$dba->query_until(qr/building/, q{
\echo building
CREATE INDEX CONCURRENTLY cc_a_dba ON cc_a (x);
\echo built
});
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_class WHERE relname = 'cc_a_dba'})
  or die 'no concurrent build';
# the worker's first attempt times out; the second waits for lock_b again
sleep(3);
$lock_b->query_safe('COMMIT');
$caller->query_until(qr/done/, '');
$caller->quit;
$lock_b->quit;
unlike($caller->{stderr}, qr/cc_a/, 'a concurrent build of another role: the worker does not touch its index');
is($node->safe_psql('postgres', q{SELECT state FROM smig.status() WHERE version = '12'}),
    'applied', 'a concurrent build of another role: the migration applies');
$lock_a->query_safe('COMMIT');
$dba->query_until(qr/built/, '');
$dba->quit;
$lock_a->quit;
is($node->safe_psql('postgres', q{
    SELECT indisvalid::text || ' ' || coalesce(obj_description(indexrelid, 'pg_class'), 'no comment')
      FROM pg_index WHERE indexrelid = 'cc_a_dba'::regclass}),
    'true no comment', 'a concurrent build of another role: its index is built, unmarked');

# a parallel build, as psql gets: the worker is in no lock group of the
# caller's, so it leads parallel workers of its own
# (max_parallel_maintenance_workers, the migration's or the server's).
# Its DEBUG1 line says how many it asks for; trace_sort's lines, from
# each participant of the sort, show a second one (worker 1: the
# worker's own part is one of them).  A worker in the caller's lock group
# cannot ask for any.
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE TABLE p (id int);
    INSERT INTO p SELECT generate_series(1, 100000);
    ALTER TABLE p SET (parallel_workers = 2);
    SELECT smig.register('13', 'parallel', E'-- smig:no-transaction\nSET max_parallel_maintenance_workers = 2;\nSET maintenance_work_mem = ''128MB'';\nSET client_min_messages = debug1;\nSET trace_sort = on;\nCREATE INDEX CONCURRENTLY p_id_idx ON p (id);');
    SELECT smig.register('14', 'serial', E'-- smig:no-transaction\nSET max_parallel_maintenance_workers = 0;\nSET client_min_messages = debug1;\nCREATE INDEX CONCURRENTLY p_id2_idx ON p (id);');
});
($rc, $out, $err) = $node->psql('postgres', q{SET client_min_messages = debug1; CALL smig.upgrade('13')});
is($rc, 0, 'parallel build: the CALL succeeds');
like($err, qr/building index "p_id_idx" on table "p" with request for 2 parallel workers/,
    'parallel build: the worker asks for parallel workers');
like($err, qr/performsort of worker 1 starting/,
    'parallel build: a parallel worker takes part in the sort');
($rc, $out, $err) = $node->psql('postgres', q{SET client_min_messages = debug1; CALL smig.upgrade()});
like($err, qr/building index "p_id2_idx" on table "p" serially/,
    'max_parallel_maintenance_workers = 0: a serial build');

# the caller terminated (pg_terminate_backend: FATAL, no PG_CATCH) stops its
# worker too: the migration's later statements do not run, unrecorded
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE TABLE after_kill (s text);
    CREATE TABLE go ();
    SELECT smig.register('15', 'orphan', E'-- smig:no-transaction\nDO $$ BEGIN WHILE NOT EXISTS (SELECT FROM go) LOOP PERFORM pg_sleep(0.05); END LOOP; END $$;\nINSERT INTO after_kill VALUES (''ran'');');
});
$caller = $node->background_psql('postgres', on_error_stop => 0);
$caller->query_until(qr/started/, q{
\echo started
SET application_name = 'smig_doomed_caller';
CALL smig.upgrade();
});
$node->poll_query_until('postgres', q{
    SELECT count(*) = 1 FROM pg_stat_activity
     WHERE backend_type = 'smig worker' AND query LIKE 'DO %'})
  or die 'the worker did not start its loop';
$node->safe_psql('postgres', q{
    SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
     WHERE application_name = 'smig_doomed_caller'});
my $stopped = 0;
for (1 .. 100)
{
    $stopped = $node->safe_psql('postgres', q{
        SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'smig worker'}) eq 't';
    last if $stopped;
    usleep(100_000);
}
ok($stopped, 'terminated caller: its worker stops');
# an orphan that went on would end its loop now, then run the INSERT
$node->safe_psql('postgres', 'INSERT INTO go DEFAULT VALUES');
$node->poll_query_until('postgres', q{
    SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'smig worker'});
eval { $caller->quit; };
is($node->safe_psql('postgres', q{SELECT count(*) FROM after_kill}), '0',
    'terminated caller: the statement after the one running does not run');
is($node->safe_psql('postgres', q{SELECT state FROM smig.status() WHERE version = '15'}),
    'pending', 'terminated caller: the migration stays pending');

$node->stop;
done_testing();
