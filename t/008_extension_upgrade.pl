# The 0.1 -> 0.2 extension upgrade, as users do it: a database is set up and
# used by the real smig 0.1 (its library and scripts, built from the 0.1
# release commit by tools/test.sh into a copy of the PostgreSQL tree, passed
# in SMIG_OLD_INSTALL), then the server is restarted on this build, and
#  - before ALTER EXTENSION smig UPDATE, every state-changing call is refused
#    with one clear error (the library serves 0.2's objects only), while DDL
#    is still logged and status() works;
#  - ALTER EXTENSION smig UPDATE keeps the registry, history and audit log
#    row for row, and 0.2's features work on the upgraded database;
#  - the upgraded catalog is the one a new CREATE EXTENSION smig makes
#    (pg_dump --binary-upgrade, which dumps extension members, of both).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename;

my $old_install = $ENV{SMIG_OLD_INSTALL};
plan skip_all => 'SMIG_OLD_INSTALL is not set (tools/test.sh builds smig 0.1 for this test)'
  unless $old_install;

# this build's installation: the one whose pg_config is first in PATH
my $new_bindir = `pg_config --bindir`;
chomp $new_bindir;
my $new_install = dirname($new_bindir);

my $node = PostgreSQL::Test::Cluster->new('upgrade', install_path => $old_install);
$node->init;
$node->append_conf('postgresql.conf', 'max_prepared_transactions = 2');
$node->start;

sub sql { my ($db, $q) = @_; return $node->safe_psql($db, $q); }

# what 0.1 and 0.2 both have, row for row
my $rows_query = q{
    SELECT 'migration', version || ' ' || name || ' ' || checksum || ' ' || coalesce(down_sql, '-')
      FROM smig.migration
    UNION ALL
    SELECT 'history', id || ' ' || action || ' ' || coalesce(version, '-') || ' ' ||
           coalesce(checksum, '-') || ' ' || role || ' ' || txid
      FROM smig.history
    UNION ALL
    SELECT 'applied', version || ' ' || kind || ' ' || coalesce(checksum, '-') || ' ' ||
           applied_by || ' ' || history_id
      FROM smig.applied
    UNION ALL
    SELECT 'ddl_log', id || ' ' || command_tag || ' ' || coalesce(object_identity, '-') || ' ' ||
           coalesce(version, 'unmanaged')
      FROM smig.ddl_log
    ORDER BY 1, 2};

#---- smig 0.1 ------------------------------------------------------------
sql('postgres', q{
    CREATE ROLE deployer LOGIN;
    CREATE DATABASE app;
    CREATE DATABASE legacy;
    CREATE DATABASE fresh;
});
is(sql('app', q{CREATE EXTENSION smig; SELECT extversion FROM pg_extension WHERE extname = 'smig'}),
   '0.1', 'the old installation installs 0.1');

# README's 0.1 deployer recipe, and a database in use
sql('app', q{
    GRANT USAGE ON SCHEMA smig TO deployer;
    GRANT EXECUTE ON FUNCTION smig.status(), smig.upgrade_head(),
        smig.register(text, text, text, text, jsonb), smig.load_dir(text),
        smig.repair() TO deployer;
    GRANT CREATE ON SCHEMA public TO deployer;
    SET client_min_messages = warning;
    SELECT smig.register('1', 'accounts', 'CREATE TABLE accounts (id int PRIMARY KEY);',
                         'DROP TABLE accounts;');
    SELECT smig.register('2', 'email', 'ALTER TABLE accounts ADD COLUMN email text;',
                         'ALTER TABLE accounts DROP COLUMN email;');
    SELECT count(*) FROM smig.upgrade_head();
    -- an edit of an applied migration, accepted by repair()
    SELECT smig.register('2', 'email', '-- the address\nALTER TABLE accounts ADD COLUMN email text;',
                         'ALTER TABLE accounts DROP COLUMN email;');
    SELECT count(*) FROM smig.repair();
    -- a change behind smig's back
    CREATE TABLE notes (id int);
    -- registered, not yet applied
    SELECT smig.register('3', 'names', 'CREATE TABLE names (id int);', 'DROP TABLE names;');
});
is(sql('app', q{SELECT string_agg(version || ':' || state, ' ' ORDER BY version) FROM smig.status()}),
   '1:applied 2:applied 3:pending', '0.1: two applied (one repaired), one pending');
sql('legacy', q{
    CREATE TABLE legacy_things (id int);
    CREATE EXTENSION smig;
    SELECT smig.baseline('5', 'legacy');
    SELECT smig.register('6', 'more', 'CREATE TABLE more_things (id int);');
    SELECT count(*) FROM smig.upgrade_head();
});
my $app_rows = sql('app', $rows_query);
my $legacy_rows = sql('legacy', $rows_query);
like($app_rows, qr/history\|\d+ repair 2 /, '0.1 recorded the repair');
like($app_rows, qr/ddl_log\|\d+ CREATE TABLE public\.notes unmanaged/, '0.1 logged the unmanaged change');

#---- this build's library, before ALTER EXTENSION UPDATE -------------------
$node->stop;
# the same data directory, served by this build (a package upgrade)
$node->{_install_path} = $new_install;
$node->start;

my ($ret, $out, $err);
for my $call ("SELECT smig.register('4', 'x', 'SELECT 1')", 'SELECT * FROM smig.upgrade_head()',
              'SELECT * FROM smig.repair()', "SELECT smig.baseline('9')")
{
    ($ret, $out, $err) = $node->psql('app', $call);
    like($err, qr/ERROR:  smig's objects in this database are version 0\.1, but its library is version 0\.2/,
         "before the update: $call is refused");
    like($err, qr/HINT:  Run ALTER EXTENSION smig UPDATE in this database\./, "... with the command to run");
}
sql('app', 'CREATE TABLE during_window (id int)');
is(sql('app', q{SELECT count(*) FROM smig.ddl_log WHERE object_identity = 'public.during_window'}),
   '1', 'before the update, DDL is still logged');
is(sql('app', q{SELECT count(*) FROM smig.status()}), '3', 'and status() works');
is(sql('app', q{SELECT string_agg(version, ',') FROM smig.pending()}), '3', 'pending() too');
is(sql('app', q{SELECT smig.current()}), '2', 'current() too');
is(sql('app', q{SELECT count(*) FROM smig.verify_checksum()}), '0', 'and verify_checksum()');
($ret, $out, $err) = $node->psql('app', 'SELECT smig.trim_ddl_log(now())');
like($err, qr/version 0\.1, but its library is version 0\.2/, 'trim_ddl_log() waits for the update too');
$app_rows = sql('app', $rows_query);    # now with the window's log row

#---- ALTER EXTENSION smig UPDATE -------------------------------------------
for my $db ('app', 'legacy')
{
    is(sql($db, q{ALTER EXTENSION smig UPDATE; SELECT extversion FROM pg_extension WHERE extname = 'smig'}),
       '0.2', "$db: updated to 0.2");
}
is(sql('app', $rows_query), $app_rows, 'app: registry, history, applied and log intact, row for row');
is(sql('legacy', $rows_query), $legacy_rows, 'legacy: the same');
is(sql('app', 'SELECT count(*) FROM smig.verify_checksum()'), '0', 'no checksum problem after the update');
is(sql('legacy', q{SELECT string_agg(version || ':' || state, ' ' ORDER BY version) FROM smig.status()}),
   '5:baselined 6:applied', 'legacy: the baseline and its successor');

# 0.2 at work on the upgraded database: the pending 0.1 registration records
# no author, so it is refused until registered again; the deployer then
# applies it as itself, takes it back and applies it again
($ret, $out, $err) = $node->psql('app', 'SET ROLE deployer; SELECT * FROM smig.upgrade_head()');
like($err, qr/registered by smig 0\.1/, 'a pending 0.1 registration must be registered again');
sql('app', q{
    SET ROLE deployer;
    SELECT smig.register('3', 'names', 'CREATE TABLE names (id int);', 'DROP TABLE names;');
});
is(sql('app', q{SET ROLE deployer; SELECT string_agg(version, ',') FROM smig.upgrade_head()}),
   '3', 'the deployer applies it');
is(sql('app', q{SELECT run_as FROM smig.history WHERE version = '3' AND action = 'apply'}),
   'deployer', 'as itself');
sql('app', q{SELECT count(*) FROM smig.rollback(1); SELECT count(*) FROM smig.upgrade_head()});
is(sql('app', q{SELECT string_agg(action, ',' ORDER BY id) FROM smig.history WHERE version = '3'}),
   'apply,revert,apply', 'rollback and upgrade_head work on the upgraded database');
like(sql('app', 'SELECT smig.verify()'), qr/3/, 'verify() passes');
is(sql('app', q{SELECT fingerprint = smig.fingerprint() FROM smig.history ORDER BY id DESC LIMIT 1}),
   't', 'the last action recorded the schema it left');
sql('app', q{CALL smig.upgrade()});
is(sql('app', q{SELECT smig.current()}), '3', 'CALL smig.upgrade() with nothing to do');

# the grants the deployer had are the deployer's: a plain pg_dump carries them
{
    my ($stdout, $stderr) = run_command(
        [ 'pg_dump', '-s', '--restrict-key=smig', '-d', $node->connstr('app') ]);
    for my $f ('status()', 'upgrade_head()', 'repair()', 'load_dir(path text, sync boolean)')
    {
        like($stdout, qr/^GRANT ALL ON FUNCTION smig\.\Q$f\E TO deployer;$/m,
             "pg_dump of the upgraded database keeps the deployer's grant on $f");
    }
}

#---- the upgraded catalog is a new install's ---------------------------------
is(sql('fresh', q{CREATE EXTENSION smig; SELECT extversion FROM pg_extension WHERE extname = 'smig'}),
   '0.2', 'a new install is 0.2');
# the grants the upgrade keeps (load_dir(text) became load_dir(text, boolean))
sql('fresh', q{
    GRANT USAGE ON SCHEMA smig TO deployer;
    GRANT EXECUTE ON FUNCTION smig.status(), smig.upgrade_head(),
        smig.register(text, text, text, text, jsonb), smig.load_dir(text, boolean),
        smig.repair() TO deployer;
    GRANT CREATE ON SCHEMA public TO deployer;
});

# pg_dump --binary-upgrade dumps the extension's members; what differs by
# database and not by catalog is left out: OIDs, frozen xids, sequence values
sub catalog
{
    my ($db) = @_;
    my ($stdout, $stderr) = run_command(
        [ 'pg_dump', '--binary-upgrade', '-s', '-N', 'public', '--restrict-key=smig',
          '-d', $node->connstr($db) ]);
    die "pg_dump failed: $stderr" if $stderr ne '';
    my @lines = grep {
        !/binary_upgrade_set_next_/ && !/^SET relfrozenxid = / && !/^WHERE oid = '\d+';/
          && !/pg_catalog\.setval\(/
    } split /\n/, $stdout;
    s/(binary_upgrade_create_empty_extension\('smig', 'smig', false, '[^']*', )'\{[\d,]*\}'/$1'{oids}'/
      for @lines;
    return join("\n", @lines) . "\n";
}
my $fresh = catalog('fresh');
like($fresh, qr/CREATE TABLE smig\.history/, 'the dump holds the extension members');
my $upgraded = catalog('app');
if ($upgraded eq $fresh)
{
    pass('the upgraded catalog is the same as a new install');
}
else
{
    my $dir = $node->basedir;
    open(my $a, '>', "$dir/fresh.sql") or die;
    print $a $fresh;
    close $a;
    open(my $b, '>', "$dir/upgraded.sql") or die;
    print $b $upgraded;
    close $b;
    my ($diff) = run_command([ 'diff', '-u', "$dir/fresh.sql", "$dir/upgraded.sql" ]);
    fail('the upgraded catalog is the same as a new install');
    diag($diff);
}

$node->stop;
done_testing();
