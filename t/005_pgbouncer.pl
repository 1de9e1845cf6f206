# Behind a real PgBouncer in transaction pooling, what a migration SETs
# ends with the migration: the next client on the same server backend gets
# clean settings (0.1 leaked work_mem, search_path and lock_timeout to
# unrelated clients this way).
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

kill 'TERM', slurp_file("$dir/pgbouncer.pid") =~ /(\d+)/;
$node->stop;
done_testing();
