# pg_dump / pg_restore carry the registry, the history and the audit log
# (SPEC §1): a restored database has the same state, nothing is pending,
# the fast path recovers, and an edited migration is still caught.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
    SET client_min_messages = warning;
    CREATE EXTENSION smig;
    SELECT smig.register('1', 'accounts', 'CREATE TABLE accounts (id int PRIMARY KEY)');
    SELECT smig.register('2', 'email', 'ALTER TABLE accounts ADD COLUMN email text');
    SELECT smig.upgrade_head();
    SELECT smig.register('3', 'later', 'CREATE TABLE later (id int)');
    CREATE TABLE by_hand (id int);
});

my $state = q{SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM smig.status()};
my $hist  = q{SELECT string_agg(action || ':' || version || ':' || checksum, ',' ORDER BY id) FROM smig.history};
my $ddl   = q{SELECT string_agg(object_identity || ':' || coalesce(version, '-'), ',' ORDER BY id)
                FROM smig.ddl_log WHERE object_identity IN ('public.accounts', 'public.by_hand')};
my %before = map { $_ => $node->safe_psql('src', $_) } ($state, $hist, $ddl);

my $dump = $node->basedir . '/src.dump';
$node->command_ok(['pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src')], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(['pg_restore', '-d', $node->connstr('dst'), $dump], 'pg_restore');

is($node->safe_psql('dst', $state), $before{$state}, 'status is the same after a restore');
is($node->safe_psql('dst', $hist), $before{$hist}, 'history is the same after a restore');
like($node->safe_psql('dst', $ddl), qr/^\Q$before{$ddl}\E/,
     'the audit log is carried (the restore adds its own entries after it)');

is($node->safe_psql('dst', q{SELECT string_agg(version, ',') FROM smig.upgrade_head()}), '3',
   'the restored database applies only what was pending');
is($node->safe_psql('dst', q{SELECT count(*) FROM smig.upgrade_head()}), '0',
   'and then nothing');
is($node->safe_psql('dst', q{SELECT NOT stale AND clean_gen = registry_gen FROM smig.summary}), 't',
   'the fast path is clean again after a complete upgrade');

$node->safe_psql('dst', q{SET client_min_messages = error;
    SELECT smig.register('1', 'accounts', 'CREATE TABLE accounts (id bigint PRIMARY KEY)')});
my ($ret, $out, $err) = $node->psql('dst', 'SELECT smig.upgrade_head()');
like($err, qr/applied migration "1" \("accounts"\) was modified/,
     'an edited migration is still caught after a restore');

$node->stop;
done_testing();
