# The deploy lock: a deployer that has to wait is told who holds the lock
# (role, process, application), then proceeds when the holder commits; a
# role with no smig rights holding 0.1's advisory key blocks nobody.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lock');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION smig;
    CREATE ROLE regress_squatter LOGIN;
    SELECT smig.register('1', 'create_t', 'CREATE TABLE t (id int)');
});

# a role with no smig rights holds the key 0.1 locked
my $squatter = $node->background_psql('postgres',
    extra_params => ['-U', 'regress_squatter']);
$squatter->query_safe('SELECT pg_advisory_lock(1936550247, 1)');
my ($ret, $out, $err) = $node->psql('postgres',
    'SELECT version FROM smig.upgrade_head()', timeout => 30);
is($ret, 0, 'an advisory lock on 0.1\'s key does not stop a deploy');
is($out, '1', 'and the migration was applied');
$squatter->quit;

# a deploy in progress holds the lock ...
$node->safe_psql('postgres',
    q{SELECT smig.register('2', 'add_col', 'ALTER TABLE t ADD COLUMN c int')});
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{SET application_name = 'deploy_one'});
$holder->query_safe('SET client_min_messages = warning');
my $holder_pid = $holder->query_safe('SELECT pg_backend_pid()');
$holder->query_safe('BEGIN');
$holder->query_safe('SELECT version FROM smig.upgrade_head()');

# ... so a second one waits, and is told by whom
my $waiter = $node->background_psql('postgres', on_error_stop => 0);
$waiter->query_until(qr/started/, q{
    \echo started
    SELECT count(*) AS applied_by_waiter FROM smig.upgrade_head();
});
$node->poll_query_until('postgres', q{
    SELECT count(*) = 1 FROM pg_stat_activity
     WHERE wait_event_type = 'Lock' AND query LIKE '%smig.upgrade_head%'})
  or die 'the second deploy never waited';
my $blockers = $node->safe_psql('postgres', q{
    SELECT pg_blocking_pids(pid) FROM pg_stat_activity
     WHERE wait_event_type = 'Lock' AND query LIKE '%smig.upgrade_head%'});
is($blockers, "{$holder_pid}", 'pg_blocking_pids names the deploy that holds the lock');
is($node->safe_psql('postgres', q{
    SELECT l.mode || ' ' || l.granted FROM pg_locks l
     WHERE l.locktype = 'object' AND l.classid = 'pg_extension'::regclass
       AND l.objsubid = 1 AND l.pid = } . $holder_pid),
   'ExclusiveLock true', 'the lock is an object lock on smig\'s pg_extension row');

$holder->query_safe('COMMIT');
my $rows = $waiter->query('SELECT 1');
like($waiter->{stderr}, qr/NOTICE:  waiting for the deploy lock held by role "\w+"/,
     'the waiting deploy is told which role holds the lock');
like($waiter->{stderr}, qr/DETAIL:  Process $holder_pid \(application "deploy_one"\) holds it in a transaction started at /,
     'and which process, from which application');
$holder->quit;
$waiter->quit;

is($node->safe_psql('postgres',
       q{SELECT string_agg(action || ' ' || version, ',' ORDER BY id) FROM smig.history}),
   'apply 1,apply 2', 'each migration was applied once');

$node->stop;
done_testing();
