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
$node->poll_query_until('postgres', q{
    SELECT count(*) = 1 FROM pg_stat_activity
     WHERE backend_type = 'smig worker' AND wait_event_type = 'Lock'})
  or die 'the worker did not start waiting';
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
    SELECT count(*) FROM pg_locks WHERE locktype = 'object'
       AND classid = 'pg_extension'::regclass AND objsubid IN (1, 2)}),
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

$node->stop;
done_testing();
