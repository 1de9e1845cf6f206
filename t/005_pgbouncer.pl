# Behind a real PgBouncer in transaction pooling, what a migration SETs
# ends with the migration: the next client on the same server backend gets
# clean settings (0.1 leaked work_mem, search_path and lock_timeout to
# unrelated clients this way).  And CALL smig.upgrade() from several
# clients at once applies each migration exactly once: PgBouncer keeps one
# server connection for the whole CALL, across its commits.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $pgbouncer = '/usr/sbin/pgbouncer';
plan skip_all => 'pgbouncer is not installed' unless -x $pgbouncer;

my $node = PostgreSQL::Test::Cluster->new('pooled');
$node->init;
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION smig;
    SELECT smig.register('1', 'sets', $$
        SET work_mem = '77MB';
        SET search_path = pg_catalog;
        SET lock_timeout = '50ms';
        SELECT set_config('statement_timeout', '123s', false);
        CREATE TABLE public.pooled (id int);
    $$);
});

# PgBouncer: transaction pooling, one server connection, Unix socket only
my $dir = PostgreSQL::Test::Utils::tempdir;
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $host = $node->host;
my $pgport = $node->port;
my $user = $ENV{USER} || getpwuid($<);
append_to_file("$dir/users.txt", qq{"$user" ""\n});
append_to_file("$dir/pgbouncer.ini", <<"INI");
[databases]
postgres = host=$host port=$pgport dbname=postgres
many = host=$host port=$pgport dbname=postgres pool_size=4
[pgbouncer]
listen_addr =
listen_port = $port
unix_socket_dir = $dir
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
system($pgbouncer, '-d', "$dir/pgbouncer.ini") == 0 or die 'pgbouncer did not start';
# the pooler is a daemon: stop it however the test ends (a die included)
END
{
    if (-f "$dir/pgbouncer.pid")
    {
        my ($pid) = slurp_file("$dir/pgbouncer.pid") =~ /(\d+)/;
        kill 'TERM', $pid if $pid;
    }
}
for (1 .. 100)
{
    last if -S "$dir/.s.PGSQL.$port";
    select(undef, undef, undef, 0.1);
}

# one client through the pooler; returns its output
sub pooled
{
    my ($sql) = @_;
    my ($out, $err) = ('', '');
    IPC::Run::run([ 'psql', '-XAtq', '-h', $dir, '-p', $port, '-U', $user,
                    '-d', 'postgres', '-c', $sql ], '>', \$out, '2>', \$err);
    chomp $out;
    diag($err) if $err ne '' && $err !~ /NOTICE/;
    return $out;
}

my $first_pid = pooled('SELECT pg_backend_pid()');
like($first_pid, qr/^\d+$/, 'a client gets through the pooler');
my $before = pooled(q{SELECT current_setting('work_mem') || ' ' || current_setting('search_path') || ' ' || current_setting('lock_timeout')});

is(pooled('SELECT version FROM smig.upgrade_head()'), '1', 'a client applies the migration through the pooler');

# the next client gets the same server backend, with clean settings
is(pooled('SELECT pg_backend_pid()'), $first_pid, 'the next client gets the same server backend');
is(pooled(q{SELECT current_setting('work_mem') || ' ' || current_setting('search_path') || ' ' || current_setting('lock_timeout')}),
   $before, 'and none of the settings the migration made');
is(pooled(q{SELECT current_setting('statement_timeout')}), '0',
   'not even one made with set_config()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_tables WHERE tablename = 'pooled'}), '1',
   'while the migration itself took effect');

# three clients CALL smig.upgrade() at once through a pool of four server
# connections; the first waits inside migration 3 for an advisory lock
# that a direct session holds, without a lock timeout (pg_stat_activity
# shows the migration and statement it runs), the others wait for the
# deploy lock
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE TABLE public.call_pids (version text, pid int);
    SELECT smig.register('2', 'two', 'INSERT INTO public.call_pids VALUES (''2'', pg_backend_pid())');
    SELECT smig.register('3', 'long', E'-- smig:lock-timeout 0\nSELECT pg_advisory_xact_lock(4343); INSERT INTO public.call_pids VALUES (''3'', pg_backend_pid())');
    SELECT smig.register('4', 'four', 'INSERT INTO public.call_pids VALUES (''4'', pg_backend_pid())');
});
my $holder = $node->background_psql('postgres');
$holder->query_safe('SELECT pg_advisory_lock(4343)');
my @clients;
for my $i (1 .. 3)
{
    my ($out, $err) = ('', '');
    push @clients, [ IPC::Run::start(
        [ 'psql', '-XAtq', '-h', $dir, '-p', $port, '-U', $user, '-d', 'many',
          '-c', 'CALL smig.upgrade()' ], '>', \$out, '2>', \$err), \$out, \$err ];
}
$node->poll_query_until('postgres', q{
    SELECT count(*) FILTER (WHERE wait_event = 'advisory') = 1
       AND count(*) FILTER (WHERE wait_event = 'object') = 2
      FROM pg_stat_activity
     WHERE query = 'CALL smig.upgrade()'
        OR query LIKE 'smig: applying 3 "long" %, line 2: SELECT pg_advisory_xact_lock(4343)%'})
  or die 'the three CALLs never got to wait';
is($node->safe_psql('postgres', 'SELECT string_agg(version, \',\' ORDER BY version) FROM smig.applied'),
   '1,2', 'while the first CALL waits in migration 3, migration 2 is committed');
$holder->query_safe('SELECT pg_advisory_unlock(4343)');
$holder->quit;
my $failed = 0;
for my $c (@clients)
{
    $c->[0]->finish or $failed++;
}
is($failed, 0, 'every CALL through the pooler ends without an error');
is($node->safe_psql('postgres', q{SELECT string_agg(action || ':' || version, ',' ORDER BY id) FROM smig.history}),
   'apply:1,apply:2,apply:3,apply:4', 'each migration is applied exactly once');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT pid) FROM public.call_pids}), '1',
   'all of them by one server backend: PgBouncer kept the connection for the whole CALL');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_locks WHERE locktype = 'object'
                                   AND classid = 'pg_extension'::regclass AND objsubid = 1}),
   '0', 'and no deploy lock is left');

$node->stop;
done_testing();
