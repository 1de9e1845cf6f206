# The smig command-line client against real servers: every command and
# exit code, each file convention, a malformed file (nothing sent), a
# failing migration, a dry run that leaves nothing, --each, checksums that
# equal the server's on awkward files (CRLF, CR, BOM, trailing blanks),
# two databases with one failing (neither changes, nothing left prepared),
# three databases succeeding, a prepared transaction left behind shown by
# status, a confirmation on a terminal, and --wait against a server that
# starts late, up --backup (restored with pg_restore), the dry run's
# rehearsal, and the checksum-only start-up sync (seen in the server log).
# smig is found in $PATH: make install puts it next to psql.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use JSON::PP;
use File::Path qw(make_path);

my $node = PostgreSQL::Test::Cluster->new('client');
$node->init;
$node->append_conf('postgresql.conf', "max_prepared_transactions = 10\nshared_preload_libraries = 'smig'");
$node->start;

$ENV{PGHOST} = $node->host;
$ENV{PGPORT} = $node->port;
delete $ENV{DATABASE_URL};
my $base = $node->basedir;

# smig ARGS... -> (exit code, stdout, stderr)
sub smig
{
    my ($out, $err, $in) = ('', '', '');
    IPC::Run::run([ 'smig', @_ ], '<', \$in, '>', \$out, '2>', \$err);
    return ($? >> 8, $out, $err);
}

sub sql { return $node->safe_psql($_[0], $_[1]); }

sub write_file
{
    my ($path, $text) = @_;
    open(my $fh, '>:raw', $path) or die "cannot write $path: $!";
    print $fh $text;
    close($fh);
}

sub read_file
{
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or die "cannot read $path: $!";
    local $/;
    my $t = <$fh>;
    close($fh);
    return $t;
}

sub newdir
{
    my $d = "$base/$_[0]";
    make_path($d);
    return $d;
}

sub tables
{
    my ($db) = @_;
    return sql($db, q{SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '-')
                        FROM pg_tables WHERE schemaname = 'public'});
}

for my $db (qw(walk conv1 conv2 conv3 conv4 bad badedit fail dry dryr bk bk_a bk_b synced each sums multi_a multi_b multi_c base envdb tty))
{
    sql('postgres', "CREATE DATABASE $db");
}

my ($rc, $out, $err);

# ---- help, version, usage errors (exit 2)
($rc, $out) = smig('--help');
is($rc, 0, '--help exits 0');
like($out, qr/Exit codes: 0 ok, 1 migration failed, 2 usage or connection error/, '--help lists the exit codes');
for my $cmd (qw(init new status current history up down verify baseline log audit))
{
    ($rc, $out) = smig($cmd, '--help');
    ok($rc == 0 && $out =~ /smig \[OPTION\]\.\.\. \Q$cmd\E/, "$cmd --help");
}
($rc, $out) = smig('--version');
like($out, qr/^smig \d+\.\d+$/m, '--version');
($rc, $out, $err) = smig('frobnicate');
is($rc, 2, 'an unknown command exits 2');
like($err, qr/unrecognized command "frobnicate"/, 'and says so');
($rc, $out, $err) = smig('--bogus', 'status');
is($rc, 2, 'an unknown option exits 2');
($rc) = smig();
is($rc, 2, 'no command exits 2');
($rc, $out, $err) = smig('down', '--to', '1', '--steps', '2');
is($rc, 2, '--to with --steps exits 2');
($rc, $out, $err) = smig('status', '--dry-run');
is($rc, 2, '--dry-run outside up exits 2');
($rc, $out, $err) = smig('-d', 'walk', 'new');
is($rc, 2, 'new without a name exits 2');
($rc, $out, $err) = smig('-p', '1', '-d', 'walk', 'status');
is($rc, 2, 'a connection error exits 2');
like($err, qr/could not connect to database "walk"/, 'and names the database');
($rc, $out, $err) = smig('-d', 'no_such_db', '--wait', '1', 'current');
is($rc, 2, 'a database that does not exist exits 2, --wait or not');

# ---- the walk-through of README: init, new, edit, up, status, down
my $walk = newdir('walk');
chdir($walk) or die;
($rc, $out) = smig('-d', 'walk', 'init');
like($out, qr/created extension smig/, 'init creates the extension');
($rc, $out) = smig('-d', 'walk', 'init');
ok($rc == 0 && $out =~ /already installed/, 'init again: already installed');
($rc, $out) = smig('new', 'add_users');
is($out, "created migrations/001_add_users.sql\n", 'new writes 001_add_users.sql');
my $t = read_file("$walk/migrations/001_add_users.sql");
like($t, qr/^-- smig:up\n.*-- smig:down\n/s, 'with up and down sections');
$t =~ s/-- smig:down\n/CREATE TABLE users (id int PRIMARY KEY, email text);\n\n-- smig:down\nDROP TABLE users;\n/;
write_file("$walk/migrations/001_add_users.sql", $t);
($rc, $out, $err) = smig('-d', 'walk', 'up');
is($rc, 0, 'up exits 0');
like($out, qr/^applied 001 add_users [\d.]+ ms \(1 of 1\)$/m, 'up prints version, name, duration, k of n');
like($err, qr/NOTICE:  applied migration "001"/, 'server NOTICEs go to stderr');
is(tables('walk'), 'users', 'the table exists');
($rc, $out) = smig('-d', 'walk', 'status');
like($out, qr/^001\s+add_users\s+applied\s+\S+ \S+\s+001_add_users\.sql$/m, 'status shows it applied, with its file');
($rc, $out) = smig('-d', 'walk', 'current');
is($out, "001\n", 'current');
($rc, $out) = smig('-d', 'walk', 'up');
is($out, "nothing to do\n", 'a second up has nothing to do');
($rc, $out, $err) = smig('-d', 'walk', 'down');
is($rc, 0, 'down exits 0');
like($out, qr/^reverted 001 add_users [\d.]+ ms \(1 of 1\)$/m, 'down prints what it reverted');
is(tables('walk'), '-', 'the table is gone');
($rc, $out) = smig('-d', 'walk', 'current');
is($out, '', 'current prints nothing on an empty history');
($rc, $out, $err) = smig('-d', 'walk', 'up', '-v');
like($out, qr/applied 001/, 'up again');
like($err, qr/FROM smig\.upgrade_head\(\)$/m, '-v prints the queries it sends');
like($err, qr/NOTICE:  migration "001" \("add_users"\), line \d+: CREATE TABLE users \(id int PRIMARY KEY, email text\)/,
     '-v prints each migration statement as it starts, with its line');
is(scalar(() = $err =~ /CREATE TABLE users/g), 1, 'once: the client does not list it beforehand too');
($rc, $out) = smig('-d', 'walk', 'history');
like($out, qr/^\d+\s+apply\s+001\s+add_users.*\n\d+\s+revert\s+001.*\n\d+\s+apply\s+001/m, 'history lists apply, revert, apply');
($rc, $out) = smig('-d', 'walk', 'log');
like($out, qr/CREATE TABLE\s+public\.users\s+001/, 'log shows the DDL and its migration');
sql('walk', 'CREATE TABLE scratch (id int)');
($rc, $out) = smig('-d', 'walk', 'audit');
like($out, qr/CREATE TABLE\s+public\.scratch\s+CREATE TABLE scratch/, 'audit shows unmanaged DDL');
unlike($out, qr/public\.users/, 'and not the migrations\' DDL');
($rc, $out) = smig('-d', 'walk', 'audit', 'public.users');
like($out, qr/CREATE TABLE\s+public\.users\s+001/, 'audit OBJECT shows its changes');
($rc, $out, $err) = smig('-d', 'walk', 'verify');
is($rc, 3, 'verify exits 3 after unmanaged DDL (drift)');
sql('walk', 'DROP TABLE scratch');
($rc, $out, $err) = smig('-d', 'walk', 'verify');
is($rc, 0, 'verify exits 0 when all is well');
like($out, qr/^ok: /, 'and prints the summary');
($rc, $out) = smig('-d', 'walk', 'new', 'add_email');
is($out, "created migrations/002_add_email.sql\n", 'new takes the next version');
($rc, $out, $err) = smig('-d', 'walk', 'new', 'bad name');
is($rc, 2, 'new refuses a name with a blank');
# JSON
write_file("$walk/migrations/002_add_email.sql", "CREATE TABLE emails (id int);\n");
($rc, $out) = smig('-d', 'walk', 'up', '--json', '-v');
my $j = decode_json($out);
is($j->[0]{applied}[0]{version}, '002', 'up --json names what it applied');
($rc, $out) = smig('-d', 'walk', 'status', '--json');
$j = decode_json($out);
is(join(',', map { "$_->{version}:$_->{state}" } @{ $j->[0]{migrations} }), '001:applied,002:applied',
   'status --json');
($rc, $out) = smig('-d', 'walk', 'history', '--json');
is(scalar(@{ decode_json($out) }), 4, 'history --json');
# an applied file edited: status shows it, verify exits 3
write_file("$walk/migrations/002_add_email.sql", "CREATE TABLE emails (id bigint);\n");
($rc, $out) = smig('-d', 'walk', 'status');
like($out, qr/002_add_email\.sql \(edited, not registered yet\)/, 'status shows an edited file');
($rc, $out, $err) = smig('-d', 'walk', 'verify');
is($rc, 3, 'verify exits 3 for an edited applied file');
like($err, qr/002_add_email\.sql differs from the migration that was applied/, 'and names the file');
write_file("$walk/migrations/002_add_email.sql", "CREATE TABLE emails (id int);\n");
# a file gone: warned about
rename("$walk/migrations/002_add_email.sql", "$base/002_add_email.sql");
($rc, $out, $err) = smig('-d', 'walk', 'status');
like($err, qr/migration 002 \(add_email\) is registered but has no file/, 'status warns about a registered migration without file');
($rc, $out, $err) = smig('-d', 'walk', 'up');
like($err, qr/migration 002 \(add_email\) is applied but not in "migrations"/, 'up warns about an applied migration without file');
($rc, $out, $err) = smig('-d', 'walk', 'up');
like($err, qr/migration 002 \(add_email\) is applied but not in "migrations"/, 'and again on the next up (register_many() names it)');
unlike($err, qr/is now missing/, '(the server only drops it once)');
rename("$base/002_add_email.sql", "$walk/migrations/002_add_email.sql");
# DATABASE_URL, and a password never printed
{
    local $ENV{DATABASE_URL} = 'postgresql://postgres:s3cr3tpw@' . '/walk?host=' . $node->host . '&port=' . $node->port;
    ($rc, $out, $err) = smig('current', '-v');
    is($out, "002\n", 'DATABASE_URL is used without -d');
    ($rc, $out, $err) = smig('-d', 'no_such_db', 'current');
    is($rc, 2, '-d wins over DATABASE_URL');
    ($rc, $out, $err) = smig('-d', $ENV{DATABASE_URL} =~ s/walk/nowhere/r, 'status');
    unlike($out . $err, qr/s3cr3tpw/, 'the password in a URI is never printed');
}
# passwords: -w never asks, .pgpass (PGPASSFILE) and a service file work
sql('postgres', q{SET password_encryption = 'scram-sha-256';
                  CREATE ROLE pwuser LOGIN SUPERUSER PASSWORD 'pw0rd'});
{
    my $hba = read_file($node->data_dir . '/pg_hba.conf');
    write_file($node->data_dir . '/pg_hba.conf', "local all pwuser scram-sha-256\n" . $hba);
    $node->reload;
    ($rc, $out, $err) = smig('-U', 'pwuser', '-w', '-d', 'walk', 'current');
    is($rc, 2, '-w with a server that wants a password: exit 2');
    like($err, qr/no password supplied/, 'libpq says why');
    write_file("$base/pgpass", "*:*:*:pwuser:pw0rd\n");
    chmod(0600, "$base/pgpass");
    local $ENV{PGPASSFILE} = "$base/pgpass";
    ($rc, $out, $err) = smig('-U', 'pwuser', '-w', '-d', 'walk', 'current');
    is($out, "002\n", 'the password comes from the password file');
    write_file("$base/services", "[walksvc]\ndbname=walk\nuser=pwuser\n");
    local $ENV{PGSERVICEFILE} = "$base/services";
    ($rc, $out, $err) = smig('-w', '-d', 'service=walksvc', 'current');
    is($out, "002\n", 'a service from the service file');
    unlike($out . $err, qr/pw0rd/, 'the password is never printed');
    write_file($node->data_dir . '/pg_hba.conf', $hba);
    $node->reload;
}
chdir($base) or die;

# ---- each file convention, up and down
my %conv = (
    conv1 => { 'V1__one.sql' => "CREATE TABLE one (id int);\n", 'U1__one.sql' => "DROP TABLE one;\n",
               'V2__two.sql' => "CREATE TABLE two (id int);\n", 'U2__two.sql' => "DROP TABLE two;\n" },
    conv2 => { '1_one.sql' => "CREATE TABLE one (id int);\n", '1_one.down.sql' => "DROP TABLE one;\n",
               '2_two.sql' => "CREATE TABLE two (id int);\n", '2_two.down.sql' => "DROP TABLE two;\n" },
    conv3 => { '1_one.up.sql' => "CREATE TABLE one (id int);\n", '1_one.down.sql' => "DROP TABLE one;\n",
               '2_two.up.sql' => "CREATE TABLE two (id int);\n", '2_two.down.sql' => "DROP TABLE two;\n" },
    conv4 => { '1_one.sql' => "-- migrate:up\nCREATE TABLE one (id int);\n-- migrate:down\nDROP TABLE one;\n",
               '2_two.sql' => "-- smig:up\nCREATE TABLE two (id int);\n-- smig:down\nDROP TABLE two;\n" },
);
my %next = (conv1 => "V3__three.sql U3__three.sql", conv2 => "3_three.sql 3_three.down.sql",
            conv3 => "3_three.up.sql 3_three.down.sql", conv4 => "3_three.sql");
for my $db (sort keys %conv)
{
    my $d = newdir("files_$db");
    write_file("$d/$_", $conv{$db}{$_}) for keys %{ $conv{$db} };
    smig('-d', $db, 'init');
    ($rc, $out, $err) = smig('-d', $db, '--dir', $d, 'up');
    is($rc, 0, "$db: up");
    is(tables($db), 'one,two', "$db: both tables");
    ($rc, $out, $err) = smig('-d', $db, '--dir', $d, 'down', '--steps', '2');
    is(tables($db), '-', "$db: down --steps 2 reverts both with their down scripts");
    ($rc, $out, $err) = smig('-d', $db, '--dir', $d, 'up', '--to', '1');
    is(tables($db), 'one', "$db: up --to 1");
    ($rc, $out, $err) = smig('-d', $db, '--dir', $d, 'up');
    ($rc, $out, $err) = smig('-d', $db, '--dir', $d, 'down', '--to', '1');
    is(tables($db), 'one', "$db: down --to 1");
    ($rc, $out) = smig('--dir', $d, 'new', 'three');
    my @made = map { m{/([^/]+)$} } ($out =~ /^created (\S+)$/mg);
    is("@made", $next{$db}, "$db: new follows the directory's convention");
}
# the next version keeps its width, and a timestamp becomes the time
{
    my $d = newdir('files_width');
    write_file("$d/009_a.sql", "SELECT 1;\n");
    ($rc, $out) = smig('--dir', $d, 'new', 'b');
    like($out, qr{/010_b\.sql$}m, '009 is followed by 010');
    $d = newdir('files_stamp');
    write_file("$d/20200101000000_a.sql", "SELECT 1;\n");
    ($rc, $out) = smig('--dir', $d, 'new', 'b');
    like($out, qr{/20\d{12}_b\.sql$}m, 'a 14-digit timestamp is followed by the time now');
    unlike($out, qr{/20200101000001_b}, '(not by the old one plus one)');
}

# ---- a malformed file: file name and line, nothing sent
smig('-d', 'bad', 'init');
my $bad = newdir('files_bad');
write_file("$bad/1_ok.sql", "CREATE TABLE ok (id int);\n");
write_file("$bad/2_broken.sql", "CREATE TABLE a (id int);\n\nINSERT INTO a VALUES ('unterminated);\n");
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, 'up');
is($rc, 1, 'a malformed file exits 1');
like($err, qr{files_bad/2_broken\.sql:3: unterminated}, 'naming the file and the line');
is(sql('bad', 'SELECT count(*) FROM smig.migration'), '0', 'nothing was registered');
# up lexes a versioned file once the server says it is new or changed
# (register_many() by checksum, which writes nothing then), before its text
# is sent
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, '-v', 'up');
like($err, qr/register_many/, 'the server was asked (by checksum)');
unlike($err, qr/upgrade_head/, 'and nothing else was sent (-v shows every statement sent)');
like($err, qr{files_bad/2_broken\.sql:3: unterminated}, 'and the file checked before its text');
is(sql('bad', 'SELECT count(*) FROM smig.migration'), '0', 'nothing was registered');
# a file already registered is not lexed again, but an edit is
{
    smig('-d', 'badedit', 'init');
    my $be = newdir('files_badedit');
    write_file("$be/1_ok.sql", "CREATE TABLE ok (id int);\n");
    write_file("$be/2_e.sql", "SELECT 2;\n");
    ($rc, $out, $err) = smig('-d', 'badedit', '--dir', $be, 'up');
    is($rc, 0, 'valid files: up exits 0');
    write_file("$be/2_e.sql", "SELECT 2;\nSELECT 'unterminated;\n");
    ($rc, $out, $err) = smig('-d', 'badedit', '--dir', $be, '-v', 'up');
    is($rc, 1, 'an applied file edited into a malformed one exits 1');
    like($err, qr{files_badedit/2_e\.sql:2: unterminated}, 'naming the file and the line');
    unlike($err, qr/1_ok/, 'the unchanged file is not named');
    is(sql('badedit', q{SELECT up_sql FROM smig.migration WHERE version = '2'}), "SELECT 2;\n", 'the registration is unchanged');
}
($rc, $out, $err) = smig('-p', '1', '-d', 'bad', '--dir', $bad, 'up');
is($rc, 2, 'a malformed versioned file is lexed only once a server names it (no server: exit 2)');
write_file("$bad/R__broken.sql", "SELECT 'unterminated;\n");
($rc, $out, $err) = smig('-p', '1', '-d', 'bad', '--dir', $bad, 'up');
is($rc, 1, 'a repeatable migration (always sent with its text) is checked before connecting');
like($err, qr{R__broken\.sql:1: unterminated}, 'naming the file and the line');
unlink("$bad/R__broken.sql");
write_file("$bad/2_broken.sql", "CREATE TABLE a (id int);\n\\i other.sql\n");
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, 'up');
like($err, qr{2_broken\.sql:2: psql meta-commands}, 'a psql meta-command, with its line');
write_file("$bad/2_broken.sql", "-- a comment\n-- smig:up\nSELECT 1;\n\\i x.sql\n-- smig:down\nSELECT 2;\n");
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, 'up');
like($err, qr{2_broken\.sql:4: psql meta-commands}, 'a line inside a section counts from the top of the file');
write_file("$bad/2_broken.sql", "-- smig:up\nSELECT 1;\n-- smig:up\n");
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, 'up');
like($err, qr{2_broken\.sql:3: }, 'a repeated section marker, with its line');
write_file("$bad/2_broken.sql", "-- smig:lock_timeout 5s\nSELECT 1;\n");
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, 'up');
like($err, qr{2_broken\.sql:1: invalid directive "-- smig:lock_timeout 5s"}, 'a misspelt directive');
unlink("$bad/2_broken.sql");
write_file("$bad/2_x.txt.sql.bak", "ignored");
write_file("$bad/notes.sql", "SELECT 1;");
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, 'up');
like($err, qr{notes\.sql: file name fits no migration convention}, 'a .sql file that fits no convention');
unlink("$bad/notes.sql");
write_file("$bad/001_again.sql", "SELECT 1;");
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, 'up');
like($err, qr{version "001?" has two files}, 'two files for one version');
unlink("$bad/001_again.sql");
write_file("$bad/3_orphan.down.sql", "SELECT 1;");
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, 'up');
like($err, qr{3_orphan\.down\.sql: down file without an up file}, 'a down file without its up file');
unlink("$bad/3_orphan.down.sql");
is(sql('bad', 'SELECT count(*) FROM smig.migration'), '0', 'still nothing registered');
($rc, $out, $err) = smig('-d', 'bad', '--dir', "$base/nowhere", 'up');
is($rc, 2, 'a migrations directory that does not exist exits 2');

# ---- a failing migration: exit 1, nothing changed
smig('-d', 'fail', 'init');
my $fd = newdir('files_fail');
write_file("$fd/1_one.sql", "CREATE TABLE one (id int);\n");
write_file("$fd/2_two.sql", "CREATE TABLE two (id int);\nSELECT 1/0;\n");
($rc, $out, $err) = smig('-d', 'fail', '--dir', $fd, 'up');
is($rc, 1, 'a failing migration exits 1');
like($err, qr/division by zero/, 'with the server\'s error');
like($err, qr/line 2 of the up script of migration "2"/, 'and its line');
is(tables('fail'), '-', 'nothing was applied');
is(sql('fail', 'SELECT count(*) FROM smig.history'), '0', 'no history');
is(sql('fail', 'SELECT count(*) FROM smig.migration'), '0', 'and the registration rolled back too');
# --each: the first stays applied
($rc, $out, $err) = smig('-d', 'fail', '--dir', $fd, 'up', '--each');
is($rc, 1, 'up --each with a failing migration exits 1');
like($out, qr/^applied 1 one/m, 'and shows what it applied before');
is(tables('fail'), 'one', 'which stays applied');
($rc, $out, $err) = smig('-d', 'fail', '--dir', $fd, 'down');
is($rc, 1, 'down without a down script exits 1');
like($err, qr/has no down script/, 'with the server\'s error');

# ---- dry run: shows the plan, changes nothing
smig('-d', 'dry', 'init');
my $dd = newdir('files_dry');
write_file("$dd/1_one.sql", "CREATE TABLE one (id int);\n");
write_file("$dd/2_two.sql", "CREATE TABLE two (id int);\n");
($rc, $out, $err) = smig('-d', 'dry', '--dir', $dd, 'up', '--dry-run');
is($rc, 0, 'up --dry-run exits 0');
# the plan, then the server's rehearsal of it (this server has rehearse())
like($out, qr/^pending 1 one \(1 of 2\)\npending 2 two \(2 of 2\)\nrehearsal \(smig.rehearse\(\), rolled back\):\n/m,
     'and shows the plan, then the rehearsal');
like($out, qr/\ndry run: nothing changed\n\z/, 'and says nothing changed');
is(sql('dry', 'SELECT count(*) FROM smig.migration'), '0', 'nothing registered');
is(tables('dry'), '-', 'nothing applied');
($rc, $out) = smig('-d', 'dry', '--dir', $dd, 'up', '--dry-run', '--to', '1', '--json');
is(decode_json($out)->[0]{pending}[0]{version} . scalar(@{ decode_json($out)->[0]{pending} }), '11',
   'up --dry-run --to 1 --json');
($rc, $out) = smig('-d', 'dry', '--dir', $dd, 'status');
like($out, qr/^1\s+one\s+new file\s+1_one\.sql$/m, 'status shows files not registered yet');

# the rehearsal per migration: objects, rewrites, locks, hazards, errors;
# history, registry, audit log and catalog are as they were
smig('-d', 'dryr', 'init');
sql('dryr', 'CREATE TABLE acc (id int); INSERT INTO acc SELECT generate_series(1, 3)');
my $rd = newdir('files_dryr');
write_file("$rd/1_widen.sql", "ALTER TABLE acc ALTER COLUMN id TYPE bigint;\n");
write_file("$rd/2_t2.sql", "CREATE TABLE t2 (id int);\n");
write_file("$rd/3_bad.sql", "SELECT 1/0;\n");
my $snapshot = q{SELECT (SELECT count(*) || '/' || coalesce(max(id), 0) FROM smig.history)
  || ' ' || (SELECT count(*) FROM smig.migration)
  || ' ' || (SELECT count(*) || '/' || coalesce(max(id), 0) FROM smig.ddl_log)
  || ' ' || (SELECT md5(string_agg(oid || relname || relfilenode || relnatts, ',' ORDER BY oid)) FROM pg_class)
  || ' ' || (SELECT md5(string_agg(attrelid || attname || atttypid, ',' ORDER BY attrelid, attnum)) FROM pg_attribute)};
my $before = sql('dryr', $snapshot);
($rc, $out, $err) = smig('-d', 'dryr', '--dir', $rd, 'up', '--dry-run');
is($rc, 0, 'up --dry-run with a failing migration in the plan exits 0');
like($out, qr/^  1 widen: destructive \(.*rewrites table public\.acc/m, 'the rehearsal classifies each migration, with the reasons');
like($out, qr/^    created: table public\.t2$/m, 'names what it creates');
like($out, qr/^    rewritten: public\.acc /m, 'what it rewrites');
like($out, qr/^    locks: .*public\.acc: ACCESS EXCLUSIVE/m, 'the locks it takes');
like($out, qr/^    hazards: .*populated table public\.acc/m, 'its hazards');
like($out, qr/^  3 bad: failed.*\n    error: division by zero \(SQLSTATE 22012\)$/m, 'and a migration\'s error');
like($err, qr/rehearsing 3 migrations with lock_timeout = 1s/, 'the server\'s NOTICE on stderr');
($rc, $out, $err) = smig('-d', 'dryr', '--dir', $rd, 'up', '--dry-run', '--json', '--to', '2');
my $dj = decode_json($out)->[0];
is(join(',', map { $_->{version} } @{ $dj->{rehearsal} }), '1,2', '--json --to 2: the rehearsal of the plan only');
is(join(',', @{ $dj->{rehearsal}[1]{created} }), 'table public.t2', 'with rehearse()\'s columns as JSON');
is(ref($dj->{rehearsal}[0]{locks}), 'ARRAY', 'arrays as JSON arrays');
is(sql('dryr', $snapshot), $before,
   'dry runs with their rehearsals leave history, registry, audit log and catalog as they were');
is(sql('dryr', 'SELECT count(*) FROM acc WHERE id BETWEEN 1 AND 3'), '3', 'and the table\'s rows');
($rc, $out) = smig('-d', 'dry', '--dir', $dd, 'up', '--dry-run', '--json');
ok(defined decode_json($out)->[0]{rehearsal}, 'a dry run in --json has the rehearsal');
# a dry run with -v lists each statement from the files, a statement that
# may hold a password only by its first words
{
    my $pd = newdir('files_dry_pw');
    write_file("$pd/1_role.sql", "CREATE TABLE dry_pw (id int);\nCREATE ROLE dry_pw_role PASSWORD 'hunter2';\n");
    ($rc, $out, $err) = smig('-d', 'dry', '--dir', $pd, 'up', '--dry-run', '-v');
    is($rc, 0, 'up --dry-run -v exits 0');
    like($err, qr{^1_role\.sql:1: CREATE TABLE dry_pw \(id int\);\n1_role\.sql:2: CREATE ROLE \.\.\. \(the rest is not shown: it may hold a password\)$}m,
         '-v in a dry run lists the statements, file and line');
    unlike($err . $out, qr/hunter2/, 'and never the password');
    is(sql('dry', q{SELECT count(*) FROM pg_roles WHERE rolname = 'dry_pw_role'}), '0', 'nothing created');
}
# a role that may deploy but was not granted rehearse(): the dry run warns
# and shows the plan without a rehearsal; nothing changes
sql('dryr', q{CREATE ROLE dry_deployer LOGIN;
              GRANT USAGE ON SCHEMA smig TO dry_deployer;
              GRANT EXECUTE ON FUNCTION smig.register_many(jsonb, boolean), smig.upgrade_head(),
                  smig.status(), smig.pending(), smig.current() TO dry_deployer;
              GRANT SELECT ON smig.history TO dry_deployer;
              GRANT CREATE ON SCHEMA public TO dry_deployer});
$before = sql('dryr', $snapshot);
($rc, $out, $err) = smig('-d', 'dryr', '-U', 'dry_deployer', '--dir', $rd, 'up', '--dry-run');
is($rc, 0, 'up --dry-run without EXECUTE on rehearse() exits 0');
like($err, qr/permission denied for function rehearse\n.*warning: could not rehearse the plan on database "dryr" .*; the plan is shown without a rehearsal/s,
     'says why there is no rehearsal');
like($out, qr/^pending 1 widen \(1 of 3\)\n.*^pending 3 bad \(3 of 3\)\n.*^dry run: nothing changed$/ms, 'and shows the plan');
unlike($out, qr/rehearsal \(smig\.rehearse/, 'without a rehearsal');
is(sql('dryr', $snapshot), $before, 'and leaves everything as it was');

# ---- up --backup FILE: pg_dump -Fc first; the dump restores to the schema
# before the migration; a failing pg_dump migrates nothing (exit 2)
smig('-d', 'bk', 'init');
my $bd = newdir('files_bk');
write_file("$bd/1_one.sql", "CREATE TABLE one (id int);\n");
smig('-d', 'bk', '--dir', $bd, 'up');
write_file("$bd/2_two.sql", "CREATE TABLE two (id int);\n");
my $reg = q{SELECT string_agg(version, ',' ORDER BY version) FROM smig.migration};
($rc, $out, $err) = smig('-d', 'bk', '--dir', $bd, 'up', '--backup', "$base/nodir/bk.dump");
is($rc, 2, 'up --backup to a path pg_dump cannot write exits 2');
like($err, qr/pg_dump: error: could not open output file/, 'pg_dump\'s own error on stderr');
like($err, qr/could not back up database "bk" on .* to "\Q$base\E\/nodir\/bk\.dump": child process exited with exit code 1\n.*detail: Nothing was migrated/,
     'then smig\'s, naming the database and the file');
is(tables('bk') . ' ' . sql('bk', $reg), 'one 1', 'nothing applied, nothing registered');
($rc, $out, $err) = smig('-d', 'bk', '--dir', $bd, 'up', '--backup', "$base/bk.dump");
is($rc, 0, 'up --backup FILE exits 0');
like($out, qr/^backed up database "bk" on .* to \Q$base\E\/bk\.dump\napplied 2 two/m, 'backed up, then applied');
is(tables('bk'), 'one,two', 'the migration is applied');
sql('postgres', 'CREATE DATABASE bk_restored');
command_ok([ 'pg_restore', '-d', $node->connstr('bk_restored'), "$base/bk.dump" ], 'pg_restore reads the dump');
is(tables('bk_restored'), 'one', 'which has the schema from before the migration');
is(sql('bk_restored', q{SELECT string_agg(version || ':' || action, ',' ORDER BY id) FROM smig.history}), '1:apply',
   'and smig\'s history from before it');
# several databases: FILE.1, FILE.2 in the order of -d
($rc, $out, $err) = smig('-d', 'bk_a', '-d', 'bk_b', 'init');
($rc, $out, $err) = smig('-d', 'bk_a', '-d', 'bk_b', '--dir', $bd, 'up', '--backup', "$base/multi.dump");
is($rc, 0, 'up --backup with two databases exits 0');
like($out, qr/to \Q$base\E\/multi\.dump\.1\n.*to \Q$base\E\/multi\.dump\.2\n/, 'one file each, numbered in the order of -d');
ok(-s "$base/multi.dump.1" && -s "$base/multi.dump.2", 'both written');
my ($lo) = ('');
IPC::Run::run([ 'pg_restore', '-l', "$base/multi.dump.2" ], '>', \$lo);
like($lo, qr/dbname: bk_b/, 'the second is the second database\'s');
# the pg_dump beside the smig binary runs, and gets a password in its
# environment, never in its arguments (a copy of smig beside a pg_dump that
# records both, then runs the real one)
{
    my $bin = newdir('bin_bk');
    my ($smig_path, $dump_path) = ('', '');
    IPC::Run::run([ 'sh', '-c', 'command -v smig; command -v pg_dump' ], '>', \$smig_path);
    ($smig_path, $dump_path) = split /\n/, $smig_path;
    IPC::Run::run([ 'cp', $smig_path, "$bin/smig" ]);
    write_file("$bin/pg_dump", "#!/bin/sh\nprintf '%s\\n' \"\$@\" >'$base/pg_dump.args'\n"
               . "printf 'PGPASSWORD=%s\\n' \"\$PGPASSWORD\" >'$base/pg_dump.env'\nexec '$dump_path' \"\$@\"\n");
    chmod(0755, "$bin/smig", "$bin/pg_dump");
    my ($o, $e, $in) = ('', '', '');
    IPC::Run::run([ "$bin/smig", '-d', 'dbname=bk password=s3cr3t', '--dir', $bd, 'up', '--backup', "$base/pw.dump" ],
                  '<', \$in, '>', \$o, '2>', \$e);
    is($? >> 8, 0, 'up --backup from a copy of smig with a pg_dump beside it');
    ok(-f "$base/pg_dump.args", 'the pg_dump beside that smig ran');
    my $args = -f "$base/pg_dump.args" ? read_file("$base/pg_dump.args") : '';
    like($args, qr/^-Fc\n-w\n-f\n\Q$base\E\/pw\.dump\n-d\n.*dbname='bk'/s, 'that pg_dump ran: -Fc -w -f FILE -d CONNINFO');
    unlike($args, qr/s3cr3t/, 'the password is not in its arguments');
    is(-f "$base/pg_dump.env" ? read_file("$base/pg_dump.env") : '', "PGPASSWORD=s3cr3t\n", 'it is in its environment');
    unlike($o . $e, qr/s3cr3t/, 'nor in smig\'s output');
}
($rc, $out, $err) = smig('-d', 'bk', '--dir', $bd, 'up', '--dry-run', '--backup', "$base/x.dump");
is($rc, 2, '--backup with --dry-run exits 2');
($rc, $out, $err) = smig('-d', 'bk', 'status', '--backup', "$base/x.dump");
is($rc, 2, '--backup outside up exits 2');

# ---- start-up sync: checksums first, texts only when the server needs them
# (the server logs each statement with its parameters: the check is the log)
smig('-d', 'synced', 'init');
my $sd = newdir('files_sync');
write_file("$sd/1_s1.sql", "CREATE TABLE s1 (id int);\n");
write_file("$sd/2_s2.sql", "-- smig:up\nCREATE TABLE s2 (id int);\n-- smig:down\nDROP TABLE s2;\n");
write_file("$sd/3_s3.up.sql", "CREATE TABLE s3 (id int);\n");
write_file("$sd/3_s3.down.sql", "DROP TABLE s3;\n");
write_file("$sd/R__view.sql", "CREATE OR REPLACE VIEW sv AS SELECT 1 AS one;\n");
# smig up with the server logging every statement; -> (rc, stderr, log)
sub logged_up
{
    my $off = -s $node->logfile;
    local $ENV{PGOPTIONS} = '-c log_statement=all -c log_parameter_max_length=-1';
    my ($r, $o, $e) = smig('-d', 'synced', '--dir', $sd, '-v', 'up');
    my $log = substr(read_file($node->logfile), $off);
    return ($r, $e, $log);
}
my $log;
($rc, $err, $log) = logged_up();
is($rc, 0, 'a first up through checksum-only elements exits 0');
like($err, qr/sent 3 migrations by checksum; the server needs the texts of 3/, 'the server asks for the new versioned files');
is(tables('synced'), 's1,s2,s3', 'they are applied');
($rc, $err, $log) = logged_up();
is($rc, 0, 'an unchanged up exits 0');
like($err, qr/sent 3 migrations by checksum; the server needs the texts of 0/, 'the server needs no text');
my @calls = ($log =~ /register_many/g);
is(scalar(@calls), 1, 'one register_many() call');
unlike($log, qr/smig\.status\(\)/, 'and no status() query (-v reads pending() for the plan)');
unlike($log, qr/CREATE TABLE s[1-4]|DROP TABLE s/, 'which carries no versioned migration\'s text');
like($log, qr/parameters: \$1 = '.*"checksum": "[0-9a-f]{64}", "down_checksum": "[0-9a-f]{64}"/s, 'only their checksums');
like($log, qr/CREATE OR REPLACE VIEW sv/, 'a repeatable migration is sent with its text');
write_file("$sd/3_s3.down.sql", "DROP TABLE s3; -- edited\n");
write_file("$sd/5_s5.sql", "CREATE TABLE s5 (id int);\n");
($rc, $err, $log) = logged_up();
is($rc, 0, 'an up with a new file and an edited one exits 0');
like($err, qr/sent 4 migrations by checksum; the server needs the texts of 2/, 'the server asks for both');
@calls = ($log =~ /register_many/g);
is(scalar(@calls), 2, 'two register_many() calls');
like($log, qr/CREATE TABLE s5/, 'the new file is sent');
like($log, qr/DROP TABLE s3; -- edited/, 'the edited one too');
unlike($log, qr/CREATE TABLE s1/, 'an unchanged one is not');
is(tables('synced'), 's1,s2,s3,s5', 'the new one is applied');
is(sql('synced', q{SELECT rtrim(down_sql, E'\n') FROM smig.migration WHERE version = '3'}), 'DROP TABLE s3; -- edited',
   'the edit registered');
($rc, $out, $err) = smig('-d', 'synced', '--dir', $sd, 'status');
like($out, qr/^R__view\s.*\sR__view\.sql$/m, 'status pairs a repeatable migration with its file');
like($out, qr/^5\s.*\s5_s5\.sql$/m, 'and a versioned one');
unlike($out . $err, qr/new file|no file/, 'and every registration with a file');

# ---- up --each on a clean run
smig('-d', 'each', 'init');
($rc, $out, $err) = smig('-d', 'each', '--dir', $dd, 'up', '--each');
is($rc, 0, 'up --each exits 0');
like($out, qr/^applied 1 one .*\(1 of 2\)\napplied 2 two .*\(2 of 2\)$/m, 'and lists both');
like($err, qr/applying migration "1" \("one"\), 1 of 2/, 'the procedure\'s progress NOTICEs on stderr');
is(tables('each'), 'one,two', 'both applied');

# ---- checksums: the client's equal the server's on awkward files
smig('-d', 'sums', 'init');
my $sd = newdir('files_sums');
my %awkward = (
    '1_crlf.sql'   => "CREATE TABLE crlf (id int);\r\nSELECT 1;\r\n",
    '2_cr.sql'     => "CREATE TABLE cr (id int);\rSELECT 1;\r",
    '3_bom.sql'    => "\xEF\xBB\xBFCREATE TABLE bom (id int);\n",
    '4_blanks.sql' => "CREATE TABLE blanks (id int);  \n\n\t \r\n",
    '5_empty.sql'  => "",
    '6_sect.sql'   => "\xEF\xBB\xBF-- smig:up\r\nCREATE TABLE sect (id int);\r\n-- smig:down\r\nDROP TABLE sect;\r\n",
    '7_utf8.sql'   => "CREATE TABLE \"t\xC3\xA9\" (id int); -- caf\xC3\xA9\n",
);
write_file("$sd/$_", $awkward{$_}) for keys %awkward;
($rc, $out, $err) = smig('-d', 'sums', '--dir', $sd, 'up');
is($rc, 0, 'awkward files apply');
($rc, $out, $err) = smig('-d', 'sums', '--dir', $sd, 'status');
unlike($out, qr/edited/, 'no awkward file looks edited: client and server checksums agree');
($rc, $out, $err) = smig('-d', 'sums', '--dir', $sd, 'verify');
is($rc, 0, 'verify agrees');
# the same files with other line ends, BOMs and trailing blanks: unchanged
for my $f (keys %awkward)
{
    my $x = $awkward{$f};
    $x =~ s/\r\n?/\n/g;
    $x =~ s/^\xEF\xBB\xBF//;
    $x =~ s/\n/\r\n/g if $f =~ /^[35]/;
    write_file("$sd/$f", "\xEF\xBB\xBF" . $x . " \n\n");
}
($rc, $out, $err) = smig('-d', 'sums', '--dir', $sd, 'status');
unlike($out, qr/edited/, 'normalised copies look unchanged to the client');
($rc, $out, $err) = smig('-d', 'sums', '--dir', $sd, 'verify');
is($rc, 0, 'and to verify');
my %names = map { /^(\d+)_(\w+)\.sql$/; ($1 => $_) } keys %awkward;
my $agree = 0;
for my $v (sort keys %names)
{
    next if $names{$v} =~ /sect/;    # the server hashes the up section only
    my $server = sql('sums', "SELECT smig.checksum(convert_from(pg_read_binary_file('$sd/$names{$v}'), 'UTF8'))");
    my $registered = sql('sums', "SELECT checksum FROM smig.migration WHERE version = '$v'");
    $agree++ if $server eq $registered;
}
is($agree, 6, 'the server computes the same checksums from the rewritten files');
# a real edit is seen
write_file("$sd/4_blanks.sql", "CREATE TABLE blanks (id int, x int);\n");
($rc, $out) = smig('-d', 'sums', '--dir', $sd, 'status');
like($out, qr/4_blanks\.sql \(edited, not registered yet\)/, 'a real edit is seen');
($rc, $out, $err) = smig('-d', 'sums', '--dir', $sd, 'up');
is($rc, 1, 'up refuses a modified applied migration (exit 1)');
like($err, qr/modified/, 'naming it modified');

# ---- several databases: one failing, nobody changes
my $md = newdir('files_multi');
write_file("$md/1_one.sql", "CREATE TABLE one (id int);\n");
write_file("$md/1_one.down.sql", "DROP TABLE one;\n");
write_file("$md/2_two.sql", "CREATE TABLE two (id int);\n");
write_file("$md/2_two.down.sql", "DROP TABLE two;\n");
smig('-d', 'multi_a', '-d', 'multi_b', '-d', 'multi_c', 'init');
sql('multi_b', 'CREATE TABLE two (id int)');    # makes migration 2 fail there
my $prepared = q{SELECT count(*) FROM pg_prepared_xacts};
($rc, $out, $err) = smig('-d', 'multi_a', '-d', 'multi_b', '--dir', $md, 'up');
is($rc, 1, 'two databases, one failing: exit 1');
like($err, qr/migration failed on database "multi_b"/, 'the error names the database');
like($err, qr/no database was changed/, 'and says nothing changed');
is(tables('multi_a'), '-', 'the other database did not change');
is(sql('multi_a', 'SELECT count(*) FROM smig.migration'), '0', 'not even its registry');
is(sql('postgres', $prepared), '0', 'nothing is left prepared');
unlike($out, qr/applied/, 'nothing is reported applied');
sql('multi_b', 'DROP TABLE two');
($rc, $out, $err) = smig('-d', 'multi_a', '-d', 'multi_b', '-d', 'multi_c', '--dir', $md, 'up');
is($rc, 0, 'three databases: exit 0');
like($out, qr/== database "multi_a".*applied 2 two.*== database "multi_b".*applied 2 two.*== database "multi_c".*applied 2 two/s,
     'all three applied both');
is(tables('multi_a') . ' ' . tables('multi_b') . ' ' . tables('multi_c'), 'one,two one,two one,two', 'and have both tables');
is(sql('postgres', $prepared), '0', 'nothing is left prepared');
($rc, $out, $err) = smig('-d', 'multi_a', '-d', 'multi_b', '--dir', $md, 'down');
is(tables('multi_a') . ' ' . tables('multi_b'), 'one one', 'down on two databases');
($rc, $out) = smig('-d', 'multi_a', '-d', 'multi_c', 'current');
like($out, qr/"multi_a".*: 1\n.*"multi_c".*: 2\n/s, 'current on two databases');
# a prepared transaction left by a crashed client
sql('multi_a', q{BEGIN; CREATE TABLE leftover (id int); PREPARE TRANSACTION 'smig_1_2_3_0'});
($rc, $out, $err) = smig('-d', 'multi_a', '--dir', $md, 'status');
like($err, qr/prepared transaction "smig_1_2_3_0" of database "multi_a" was left by a smig client/,
     'status shows a leftover prepared transaction');
like($err, qr/ROLLBACK PREPARED 'smig_1_2_3_0'/, 'and how to finish it');
($rc, $out) = smig('-d', 'multi_a', '--dir', $md, 'status', '--json');
is(decode_json($out)->[0]{prepared}[0]{gid}, 'smig_1_2_3_0', 'status --json lists it');
sql('multi_a', q{ROLLBACK PREPARED 'smig_1_2_3_0'});

# ---- baseline
my $bd = newdir('files_base');
write_file("$bd/1_one.sql", "CREATE TABLE one (id int);\n");
write_file("$bd/2_two.sql", "CREATE TABLE two (id int);\n");
smig('-d', 'base', 'init');
sql('base', 'CREATE TABLE one (id int)');
($rc, $out, $err) = smig('-d', 'base', 'baseline', '1');
is($rc, 0, 'baseline exits 0');
($rc, $out, $err) = smig('-d', 'base', '--dir', $bd, 'up');
is(tables('base'), 'one,two', 'after a baseline at 1, up applies only 2');
($rc, $out, $err) = smig('-d', 'base', 'baseline', '1');
is($rc, 1, 'a baseline below the current version exits 1');
($rc, $out, $err) = smig('-d', 'base', 'baseline');
is($rc, 2, 'baseline without a version exits 2');

# ---- a confirmation on a terminal
{
    smig('-d', 'tty', 'init');
    my ($in, $tout) = ("n\n", '');
    my $h = IPC::Run::start([ 'smig', '-d', 'tty', '--dir', $dd, 'up' ],
                            '<pty<', \$in, '>pty>', \$tout, IPC::Run::timeout(60));
    $h->finish;
    is($h->result(0) , 1, 'on a terminal, answering no exits 1');
    like($tout, qr/pending 1 one.*Apply these migrations\? \[y\/N\]/s, 'after showing the plan and asking');
    is(tables('tty'), '-', 'and changes nothing');
    ($in, $tout) = ("y\n", '');
    $h = IPC::Run::start([ 'smig', '-d', 'tty', '--dir', $dd, 'up' ],
                         '<pty<', \$in, '>pty>', \$tout, IPC::Run::timeout(60));
    $h->finish;
    is(tables('tty'), 'one,two', 'answering yes applies');
}

# ---- --wait: a server that starts late
{
    my $late = PostgreSQL::Test::Cluster->new('late');
    $late->init;
    my ($wout, $werr, $win) = ('', '', '');
    local $ENV{PGHOST} = $late->host;
    local $ENV{PGPORT} = $late->port;
    ($rc, $out, $err) = smig('-d', 'postgres', '--wait', '1', 'current');
    is($rc, 2, '--wait 1 against a server that is not there exits 2');
    like($err, qr/did not accept connections within 1 seconds/, 'saying so');
    my $h = IPC::Run::start([ 'smig', '-d', 'postgres', '--wait', '60', 'init' ],
                            '<', \$win, '>', \$wout, '2>', \$werr);
    sleep(2);
    $late->start;
    $h->finish;
    is($h->result(0), 0, '--wait 60: init succeeds once the server starts');
    like($wout, qr/created extension smig/, 'and created the extension');
    # two-phase commit needs max_prepared_transactions > 0 (0 here)
    $late->safe_psql('postgres', 'CREATE DATABASE two_a; CREATE DATABASE two_b');
    ($rc, $out, $err) = smig('-d', 'two_a', '-d', 'two_b', 'init');
    is($rc, 1, 'several databases without max_prepared_transactions: exit 1');
    like($err, qr/max_prepared_transactions > 0/, 'with a hint naming the setting');
    is($late->safe_psql('two_a', q{SELECT count(*) FROM pg_extension WHERE extname = 'smig'}), '0',
       'and nothing changed');
    # one server prepared, the next cannot: the prepared one is rolled back
    sql('postgres', 'CREATE DATABASE mix');
    ($rc, $out, $err) = smig('-d', $node->connstr('mix'), '-d', 'two_a', 'init');
    is($rc, 1, 'the second server cannot prepare: exit 1');
    like($err, qr/could not prepare the transaction on database "two_a"/, 'naming it');
    is(sql('postgres', q{SELECT count(*) FROM pg_prepared_xacts}), '0',
       'the first server\'s prepared transaction was rolled back');
    is(sql('mix', q{SELECT count(*) FROM pg_extension WHERE extname = 'smig'}), '0',
       'and it did not change');
    $late->stop;
}

$node->stop;
done_testing();
