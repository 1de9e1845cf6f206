# On a standby, smig's read-only functions work and every state-changing
# one fails at once with a clear error naming the standby.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', q{
    CREATE EXTENSION smig;
    SELECT smig.register('1', 'create_t', 'CREATE TABLE t (id int)');
    SELECT smig.upgrade_head();
    SELECT smig.register('2', 'add_col', 'ALTER TABLE t ADD COLUMN name text');
});

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT smig.current()'), '1',
   'current() works on a standby');
is($standby->safe_psql('postgres',
       q{SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM smig.status()}),
   '1:applied,2:pending', 'status() works on a standby');
is($standby->safe_psql('postgres', 'SELECT version FROM smig.pending()'), '2',
   'pending() works on a standby');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM smig.verify_checksum()'), '0',
   'verify_checksum() works on a standby');
is($standby->safe_psql('postgres', q{SELECT step || ':' || version || ':' || kind FROM smig.plan()}),
   '1:2:versioned', 'plan() works on a standby');

my ($ret, $out, $err) = $standby->psql('postgres', 'SELECT smig.upgrade_head()');
isnt($ret, 0, 'upgrade_head() fails on a standby');
like($err, qr/cannot apply migrations on a standby server/, 'the error names the standby');
($ret, $out, $err) = $standby->psql('postgres', 'SELECT * FROM smig.rehearse()');
isnt($ret, 0, 'rehearse() fails on a standby');
like($err, qr/cannot apply migrations on a standby server/, 'its error names the standby');
like($err, qr/Connect to the primary server/, 'the hint says where to go');

($ret, $out, $err) = $standby->psql('postgres',
    q{SELECT smig.register('3', 'x', 'SELECT 1')});
like($err, qr/cannot register migrations on a standby server/, 'register() fails on a standby');

($ret, $out, $err) = $standby->psql('postgres', q{SELECT smig.baseline('9')});
like($err, qr/cannot set a baseline on a standby server/, 'baseline() fails on a standby');

# the primary is unaffected and goes on
$primary->safe_psql('postgres', 'SELECT smig.upgrade_head()');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT smig.current()'), '2',
   'the standby follows the primary');

$standby->stop;
$primary->stop;
done_testing();
