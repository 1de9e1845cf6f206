# examples/ledger/ up, down and up again: the schema (pg_dump -s) is the
# same each time the database is at the same version.  V2's down script
# keeps the tenants table by design (a downgrade never destroys
# customer-supplied configuration), so at version 1 after a downgrade the
# schema is version 1's plus tenants, and V2 applies again over it.  V1
# and V3 have no down script: a revert that reaches them is refused and
# changes nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename;
use File::Copy;
use File::Path qw(make_path);

my $node = PostgreSQL::Test::Cluster->new('updown');
$node->init;
$node->start;

# the example's files, where the server can read them
my $src = dirname(__FILE__) . '/../examples/ledger';
my $dir = $node->basedir . '/ledger';
make_path($dir);
opendir(my $dh, $src) or die "cannot open $src: $!";
for my $f (grep { /\.sql$/ } readdir($dh))
{
    copy("$src/$f", "$dir/$f") or die "cannot copy $f: $!";
}
closedir($dh);

$node->safe_psql('postgres', qq{
    SET client_min_messages = warning;
    CREATE EXTENSION smig;
    SELECT smig.load_dir('$dir');
});

# the schema as pg_dump -s prints it (a fixed \\restrict key, so two dumps
# of the same schema are the same text)
sub schema
{
    my @exclude = @_;
    my ($stdout, $stderr) = run_command(
        [ 'pg_dump', '-s', '--restrict-key=smig', (map { ('-T', $_) } @exclude),
          '-d', $node->connstr('postgres') ]);
    die "pg_dump failed: $stderr" if $stderr ne '';
    return $stdout;
}

sub sql { return $node->safe_psql('postgres', $_[0]); }

is(sql(q{SELECT string_agg(version, ',') FROM smig.upgrade_to('1')}), '1', 'up to 1');
my $v1 = schema();
is(sql(q{SELECT string_agg(version, ',') FROM smig.upgrade_to('2')}), '2', 'up to 2');
my $v2 = schema();
isnt($v2, $v1, 'version 2 has a different schema');
sql(q{UPDATE tenants SET buffer_retention_days = 90 WHERE tenant_id = 'default'});

# down
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT version FROM smig.rollback()');
is($ret, 0, 'rollback() reverts version 2') or diag($err);
is($out, '2', 'and returns it');
like($err, qr/NOTICE:  reverted migration "2" \("telemetry_buffer"\)/, 'with a NOTICE');
is(sql('SELECT smig.current()'), '1', 'current() is 1 again');
is(sql(q{SELECT string_agg(version, ',') FROM smig.pending()}), '2,3', 'and 2 is pending again');
my $down1 = schema();
is(schema('tenants'), $v1, 'after the downgrade the schema is version 1\'s (but for tenants)');
isnt($down1, $v1, 'tenants is kept, as the down script says');
like($down1, qr/CREATE TABLE public\.tenants/, 'namely tenants');

# up again
is(sql(q{SELECT string_agg(version, ',') FROM smig.upgrade_to('2')}), '2', 'up to 2 again');
is(schema(), $v2, 'version 2\'s schema is the same as the first time');
is(sql(q{SELECT tenant_id || ':' || buffer_retention_days FROM tenants}), 'default:90',
   'the tenants and their settings survived the round trip');

# and down again: the same as the first downgrade
is(sql(q{SELECT string_agg(version, ',') FROM smig.downgrade('1')}), '2', 'downgrade(\'1\') reverts 2');
is(schema(), $down1, 'the schema after the second downgrade is the same as after the first');
is(sql(q{SELECT string_agg(version, ',') FROM smig.upgrade_head()}), '2,3', 'up to head');
my $v3 = schema();

# V3 has no down script: refused, nothing reverted
($ret, $out, $err) = $node->psql('postgres', 'SELECT version FROM smig.rollback()');
isnt($ret, 0, 'rollback() at head is refused');
like($err, qr/migration "3" \("transcript_columns"\) has no down script/, 'naming the migration');
($ret, $out, $err) = $node->psql('postgres', q{SELECT version FROM smig.downgrade('base')});
like($err, qr/migration "3" \("transcript_columns"\) has no down script.*DETAIL:  Every migration on the way needs one, and these have none: "3" \("transcript_columns"\), "1" \("baseline"\)/s,
     'downgrade(\'base\') names every migration without one');
is(schema(), $v3, 'and the schema is unchanged');
is(sql('SELECT smig.current()'), '3', 'as is the current version');

# the history tells the whole story
is(sql(q{SELECT string_agg(action || ':' || version, ',' ORDER BY id) FROM smig.history}),
   'apply:1,apply:2,revert:2,apply:2,revert:2,apply:2,apply:3', 'history: up, down, up, down, up');
is(sql(q{SELECT count(*) FROM smig.migration_ddl WHERE action = 'revert' AND object_identity = 'public.telemetry_buffer'}),
   '2', 'the audit log attributes the down script\'s DROP TABLE to the migration');

$node->stop;
done_testing();
