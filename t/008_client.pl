# The smig command-line client against real servers: every command and
# exit code, each file convention, a malformed file (nothing sent), a
# failing migration, a dry run that leaves nothing, --each, checksums that
# equal the server's on awkward files (CRLF, CR, BOM, trailing blanks),
# two databases with one failing (neither changes, nothing left prepared),
# three databases succeeding, a prepared transaction left behind shown by
# status, a confirmation on a terminal, and --wait against a server that
# starts late.  smig is found in $PATH: make install puts it next to psql.
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

for my $db (qw(walk conv1 conv2 conv3 conv4 bad fail dry each sums multi_a multi_b multi_c base envdb tty))
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
($rc, $out) = smig('-d', 'walk', 'up', '-v');
like($out, qr/applied 001/, 'up again');
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
($rc, $out, $err) = smig('-d', 'bad', '--dir', $bad, '-v', 'up');
unlike($err, qr/register_many|BEGIN/, 'nothing was sent (-v shows every statement sent)');
($rc, $out, $err) = smig('-p', '1', '-d', 'bad', '--dir', $bad, 'up');
is($rc, 1, 'the files are checked before connecting');
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
like($out, qr/^pending 1 one \(1 of 2\)\npending 2 two \(2 of 2\)\ndry run: nothing changed$/m, 'and shows the plan');
is(sql('dry', 'SELECT count(*) FROM smig.migration'), '0', 'nothing registered');
is(tables('dry'), '-', 'nothing applied');
($rc, $out) = smig('-d', 'dry', '--dir', $dd, 'up', '--dry-run', '--to', '1', '--json');
is(decode_json($out)->[0]{pending}[0]{version} . scalar(@{ decode_json($out)->[0]{pending} }), '11',
   'up --dry-run --to 1 --json');
($rc, $out) = smig('-d', 'dry', '--dir', $dd, 'status');
like($out, qr/^1\s+one\s+new file\s+1_one\.sql$/m, 'status shows files not registered yet');

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
