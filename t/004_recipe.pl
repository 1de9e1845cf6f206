# README's deployer recipe, run exactly as printed, then a deploy through
# each of its two logins: what one registered the other applies, the
# objects belong to the shared role, and both can read the history.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename;

# the block after the "recipe: deployer" marker in README.md
my $readme = slurp_file(dirname(__FILE__) . '/../README.md');
my ($recipe) = $readme =~ /<!-- recipe: deployer[^>]*-->\s*```sql\n(.*?)```/s;
ok(defined $recipe && $recipe =~ /CREATE ROLE smig_deployer/, 'README has the recipe');

my $node = PostgreSQL::Test::Cluster->new('recipe');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION smig; CREATE SCHEMA app;');
$node->safe_psql('postgres', $recipe);

my ($ret, $out, $err);
# the CI login registers and applies the first migration, unqualified names
($ret, $out, $err) = $node->psql('postgres', q{
    SELECT smig.register('1', 'customers', 'CREATE TABLE customers (id int PRIMARY KEY);');
    SELECT version FROM smig.upgrade_head();
}, extra_params => ['-U', 'deploy_ci']);
is($ret, 0, 'the first login deploys') or diag($err);

# the operator login registers the next one; the CI login applies it
($ret, $out, $err) = $node->psql('postgres',
    q{SELECT smig.register('2', 'email', 'ALTER TABLE customers ADD COLUMN email text;')},
    extra_params => ['-U', 'deploy_ops']);
is($ret, 0, 'the second login registers') or diag($err);
($ret, $out, $err) = $node->psql('postgres', 'SELECT version FROM smig.upgrade_head()',
    extra_params => ['-U', 'deploy_ci']);
is($ret, 0, 'the first login applies what the second registered') or diag($err);
is($out, '2', 'and it was applied');

# and the other way round, altering what the first one created
($ret, $out, $err) = $node->psql('postgres', q{
    SELECT smig.register('3', 'index', 'CREATE INDEX customers_email ON customers (email);');
    SELECT version FROM smig.upgrade_head();
}, extra_params => ['-U', 'deploy_ops']);
is($ret, 0, 'the second login changes objects the first one created') or diag($err);

# a repeatable migration registered by one login, applied by the other
($ret, $out, $err) = $node->psql('postgres',
    q{SELECT smig.register_repeatable('views', 'CREATE OR REPLACE VIEW customer_emails AS SELECT id, email FROM customers;')},
    extra_params => ['-U', 'deploy_ops']);
is($ret, 0, 'the second login registers a repeatable migration') or diag($err);
($ret, $out, $err) = $node->psql('postgres', 'SELECT version FROM smig.upgrade_head()',
    extra_params => ['-U', 'deploy_ci']);
is($ret, 0, 'the first login applies it') or diag($err);
is($out, 'R__views', 'and it was applied');

# the start-up check through the bulk path: the same files sent again by
# the other login are unchanged (both act as smig_deployer), nothing to do
($ret, $out, $err) = $node->psql('postgres', q{
    SELECT count(*) FROM smig.register_many('[
      {"version": "1", "name": "customers", "up_sql": "CREATE TABLE customers (id int PRIMARY KEY);"},
      {"version": "2", "name": "email", "up_sql": "ALTER TABLE customers ADD COLUMN email text;"},
      {"version": "3", "name": "index", "up_sql": "CREATE INDEX customers_email ON customers (email);"},
      {"repeatable": true, "name": "views", "up_sql": "CREATE OR REPLACE VIEW customer_emails AS SELECT id, email FROM customers;"}]');
    SELECT count(*) FROM smig.upgrade_head();
}, extra_params => ['-U', 'deploy_ci']);
is($ret, 0, 'a deploy login checks at start-up with register_many') or diag($err);
is($out, "0\n0", 'and finds nothing new');

is($node->safe_psql('postgres',
       q{SELECT string_agg(DISTINCT c.relowner::regrole::text, ',') FROM pg_class c
          WHERE c.relnamespace = 'app'::regnamespace}),
   'smig_deployer', 'every object belongs to smig_deployer');
is($node->safe_psql('postgres', q{SELECT string_agg(version || ':' || run_as, ',' ORDER BY version) FROM smig.status()}),
   '1:smig_deployer,2:smig_deployer,3:smig_deployer,R__views:smig_deployer', 'every migration runs as smig_deployer');
($ret, $out, $err) = $node->psql('postgres',
    q{SELECT count(*) FROM smig.history; SELECT count(*) > 0 FROM smig.migration_ddl; SELECT count(*) > 0 FROM smig.ddl_log},
    extra_params => ['-U', 'deploy_ops']);
is($ret, 0, 'a deploy login reads the history and the audit log') or diag($err);
is($out, "4\nt\nt", 'with what happened');

# deployers go down as well as up: what one login applied, the other
# reverts (its down script runs as smig_deployer), and it applies again
($ret, $out, $err) = $node->psql('postgres', q{
    SELECT smig.register('4', 'notes', 'CREATE TABLE notes (id int);', 'DROP TABLE notes;');
    SELECT version FROM smig.upgrade_head();
}, extra_params => ['-U', 'deploy_ci']);
is($ret, 0, 'a deploy login applies a migration with a down script') or diag($err);
($ret, $out, $err) = $node->psql('postgres', 'SELECT version FROM smig.rollback()',
    extra_params => ['-U', 'deploy_ops']);
is($ret, 0, 'the other login reverts it') or diag($err);
is($out, '4', 'and says which');
($ret, $out, $err) = $node->psql('postgres', q{SELECT version FROM smig.downgrade('2')},
    extra_params => ['-U', 'deploy_ops']);
like($err, qr/migration "3" \("index"\) has no down script/,
     'a downgrade through a migration without a down script is refused');
is($node->safe_psql('postgres', q{SELECT to_regclass('app.notes') IS NULL, to_regclass('app.customers_email') IS NULL}),
   't|f', 'so only the migration with a down script was reverted');
($ret, $out, $err) = $node->psql('postgres',
    q{SELECT string_agg(action || ':' || run_as, ',' ORDER BY id) FROM smig.history WHERE version = '4';
      SELECT version FROM smig.upgrade_head()},
    extra_params => ['-U', 'deploy_ci']);
is($out, "apply:smig_deployer,revert:smig_deployer\n4", 'the revert ran as smig_deployer, and it applies again');

# and long deploys, one commit per migration
($ret, $out, $err) = $node->psql('postgres', q{
    SELECT smig.register('5', 'tags', 'CREATE TABLE tags (id int);', 'DROP TABLE tags;');
    CALL smig.upgrade();
    CALL smig.downgrade_to('4');
    CALL smig.upgrade();
}, extra_params => ['-U', 'deploy_ops']);
is($ret, 0, 'a deploy login CALLs smig.upgrade() and smig.downgrade_to()') or diag($err);
like($err, qr/applying migration "5" \("tags"\), 1 of 1.*reverting migration "5" \("tags"\), 1 of 1/s,
     'one migration up, down and up again');

# what the recipe does not grant
($ret, $out, $err) = $node->psql('postgres', 'SELECT smig.baseline(\'9\')',
    extra_params => ['-U', 'deploy_ci']);
like($err, qr/permission denied for function baseline/, 'baseline stays with administrators');
($ret, $out, $err) = $node->psql('postgres', 'DELETE FROM smig.history',
    extra_params => ['-U', 'deploy_ci']);
like($err, qr/permission denied for table history/, 'a deploy login cannot edit the history');

$node->stop;
done_testing();
