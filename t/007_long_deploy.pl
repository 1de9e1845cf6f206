# Long deploys stopped in the middle of a long migration: CALL
# smig.upgrade() cancelled, its session terminated, its backend killed
# with SIGKILL (the postmaster then restarts every backend), and SELECT
# smig.upgrade_head() killed the same way.  Each time the registry and the
# history agree with the schema, no deploy lock is left, and a new call
# finishes the job.  The long migration waits for an advisory lock that a
# holder session keeps until the test lets it go.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('long');
$node->init;
# a killed backend makes the postmaster restart the others and go on
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE EXTENSION smig;
    SELECT smig.register('1', 'first', 'CREATE TABLE t1 (id int)');
    SELECT smig.register('2', 'long', 'SELECT pg_advisory_xact_lock(4242); CREATE TABLE t2 (id int)');
    SELECT smig.register('3', 'third', 'CREATE TABLE t3 (id int)');
});

sub sql { return $node->safe_psql('postgres', $_[0]); }

my $locks = q{SELECT count(*) FROM pg_locks WHERE locktype = 'object'
               AND classid = 'pg_extension'::regclass AND objsubid = 1};

# what smig.applied says, what the history says (the last apply or revert
# of each version), and which of the migrations' tables exist
sub state
{
    return sql(q{
        SELECT coalesce((SELECT string_agg(version, ',' ORDER BY version) FROM smig.applied), '-')
               || ' / ' ||
               coalesce((SELECT string_agg(version, ',' ORDER BY version)
                           FROM (SELECT DISTINCT ON (version_key) version, action
                                   FROM smig.history WHERE action IN ('apply', 'revert')
                                  ORDER BY version_key, id DESC) h
                          WHERE action = 'apply'), '-')
               || ' / ' ||
               coalesce((SELECT string_agg(substr(relname, 2), ',' ORDER BY relname)
                           FROM pg_class WHERE relname ~ '^t[0-9]$' AND relkind = 'r'), '-')});
}

# a deploy that is inside the long migration: the holder has the advisory
# lock, the deployer waits for it in the migration
sub start_long
{
    my ($deploy) = @_;
    my $holder = $node->background_psql('postgres');
    $holder->query_safe('SELECT pg_advisory_lock(4242)');
    my $deployer = $node->background_psql('postgres', on_error_stop => 0);
    my $pid = $deployer->query_safe('SELECT pg_backend_pid()');
    $deployer->query_until(qr/started/, "\\echo started\n$deploy;\n");
    $node->poll_query_until('postgres', qq{
        SELECT wait_event_type = 'Lock' AND wait_event = 'advisory'
          FROM pg_stat_activity WHERE pid = $pid})
      or die "the deploy never reached the long migration";
    return ($holder, $deployer, $pid);
}

sub quit_all { eval { $_->quit } for @_; }

# the server after a backend was killed: wait until it takes queries again
sub wait_for_restart
{
    $node->poll_query_until('postgres', 'SELECT 1', '1')
      or die 'the server did not come back';
}

# 1. CALL smig.upgrade() cancelled inside migration 2
my ($holder, $deployer, $pid) = start_long('CALL smig.upgrade()');
is(state(), '1 / 1 / 1', 'while migration 2 runs, migration 1 is committed');
is(sql("$locks AND pid = $pid"), '1', 'the CALL holds the deploy lock across its commits');
sql("SELECT pg_cancel_backend($pid)");
$deployer->query('SELECT 1');
like($deployer->{stderr}, qr/canceling statement due to user request/, 'the cancel stops the CALL');
is(sql(q{SELECT string_agg(version || ':' || direction || ':' || sqlstate, ',') FROM smig.history WHERE action = 'failed'}),
   '2:up:57014', 'the failed attempt is committed, with its SQLSTATE');
is(sql($locks), '0', 'no deploy lock is left after a cancel');
is(state(), '1 / 1 / 1', 'registry, history and schema agree');
quit_all($holder, $deployer);

# 2. its session terminated inside migration 2
($holder, $deployer, $pid) = start_long('CALL smig.upgrade()');
sql("SELECT pg_terminate_backend($pid)");
$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid")
  or die 'the terminated backend stayed';
is(sql($locks), '0', 'no deploy lock is left when the session ends');
is(state(), '1 / 1 / 1', 'registry, history and schema agree after the session ended');
quit_all($holder, $deployer);

# 3. its backend killed (SIGKILL) inside migration 2
($holder, $deployer, $pid) = start_long('CALL smig.upgrade()');
kill 'KILL', $pid;
wait_for_restart();
quit_all($holder, $deployer);
is(sql($locks), '0', 'no deploy lock is left after the backend crashed');
is(state(), '1 / 1 / 1', 'registry, history and schema agree after the crash');
my ($ret, $out, $err) = $node->psql('postgres', 'CALL smig.upgrade()');
is($ret, 0, 'a new CALL smig.upgrade() runs') or diag($err);
like($err, qr/applying migration "2" \("long"\), 1 of 2.*applying migration "3" \("third"\), 2 of 2/s,
     'and finishes the job, "k of n"');
is(state(), '1,2,3 / 1,2,3 / 1,2,3', 'everything applied, once');
is(sql(q{SELECT string_agg(action || ':' || version, ',' ORDER BY id) FROM smig.history}),
   'apply:1,failed:2,apply:2,apply:3', 'history: one failed attempt (the cancel), each migration applied once');

# 4. SELECT smig.upgrade_head() killed inside a long migration: all or nothing
sql(q{SET client_min_messages = warning;
      SELECT smig.register('4', 'fourth', 'CREATE TABLE t4 (id int)');
      SELECT smig.register('5', 'long_again', 'SELECT pg_advisory_xact_lock(4242); CREATE TABLE t5 (id int)')});
($holder, $deployer, $pid) = start_long('SELECT smig.upgrade_head()');
kill 'KILL', $pid;
wait_for_restart();
quit_all($holder, $deployer);
is(sql($locks), '0', 'no deploy lock is left after upgrade_head()\'s backend crashed');
is(state(), '1,2,3 / 1,2,3 / 1,2,3', 'nothing of that upgrade_head() remains (4 was in its transaction)');
is(sql(q{SELECT string_agg(version, ',') FROM smig.upgrade_head()}), '4,5',
   'a new upgrade_head() finishes the job');
is(state(), '1,2,3,4,5 / 1,2,3,4,5 / 1,2,3,4,5', 'registry, history and schema agree');

$node->stop;
done_testing();
