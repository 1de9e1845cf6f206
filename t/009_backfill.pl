# CALL smig.backfill() over 1,000,000 rows while pgbench updates the same
# table: the backend running it is killed half-way (pg_terminate_backend),
# the backfill is called again and resumes after its last committed batch,
# and a trigger counting the backfill's updates of each row shows that
# every row was updated exactly once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $rows = 1_000_000;
my $node = PostgreSQL::Test::Cluster->new('backfill');
$node->init;
$node->start;

$node->safe_psql('postgres', qq{
    SET client_min_messages = warning;
    CREATE EXTENSION smig;
    CREATE TABLE big (id bigint PRIMARY KEY, v int NOT NULL, backfilled int NOT NULL DEFAULT 0,
                      hits int NOT NULL DEFAULT 0);
    INSERT INTO big (id, v) SELECT g, g FROM generate_series(1, $rows) g;
    -- counts the backfill's updates only (the application's change hits)
    CREATE FUNCTION count_backfill() RETURNS trigger LANGUAGE plpgsql AS \$\$
    BEGIN
        IF NEW.v IS DISTINCT FROM OLD.v THEN
            NEW.backfilled := OLD.backfilled + 1;
        END IF;
        RETURN NEW;
    END \$\$;
    CREATE TRIGGER count_backfill BEFORE UPDATE ON big FOR EACH ROW EXECUTE FUNCTION count_backfill();
    VACUUM ANALYZE big;
});

# the application: pgbench updating random rows of the same table
my $script = $node->basedir . '/app.sql';
open(my $fh, '>', $script) or die;
print $fh "\\set id random(1, $rows)\nUPDATE big SET hits = hits + 1 WHERE id = :id;\n";
close $fh;
my ($pgb_out, $pgb_err) = ('', '');
my $pgbench = IPC::Run::start(
    [ 'pgbench', '-n', '-c', '2', '-T', '25', '-f', $script, '-d', $node->connstr('postgres') ],
    '>', \$pgb_out, '2>', \$pgb_err);

# the backfill, killed once a third of it is done
my ($bf_out, $bf_err) = ('', '');
my $backfill = IPC::Run::start(
    [ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
      "CALL smig.backfill('v_plus_one', 'big', 'v = v + 1', batch_size => 5000, pause => '5ms')" ],
    '>', \$bf_out, '2>', \$bf_err);
my $done = 0;
for (my $i = 0; $i < 600 && $done < $rows / 3; $i++)
{
    usleep(100_000);
    $done = $node->safe_psql('postgres',
        q{SELECT coalesce((SELECT rows_done FROM smig.backfill WHERE name = 'v_plus_one'), 0)});
}
ok($done >= $rows / 3, "a third of the rows done ($done) before the kill");
is($node->safe_psql('postgres', q{
    SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                           WHERE query LIKE 'CALL smig.backfill(%') t}), '1',
   'the backend running the backfill is killed');
$backfill->finish;
like($bf_err, qr/backfill "v_plus_one": \d+ rows done after batch 1, of about/, 'progress was reported');
like($bf_err, qr/terminat/i, 'the backfill was stopped by the kill');

my ($recorded, $unfinished) = split /\|/, $node->safe_psql('postgres',
    q{SELECT rows_done, finished_at IS NULL FROM smig.backfill WHERE name = 'v_plus_one'});
is($unfinished, 't', 'the backfill is not finished');
is($node->safe_psql('postgres', 'SELECT count(*) FROM big WHERE backfilled = 1'), $recorded,
   'exactly the rows of the committed batches were updated, once each');
is($node->safe_psql('postgres', 'SELECT count(*) FROM big WHERE backfilled > 1'), '0',
   'no row updated twice');

# resumed: the rest, and nothing twice
my ($ret, $out, $err) = $node->psql('postgres',
    "CALL smig.backfill('v_plus_one', 'big', 'v = v + 1', batch_size => 5000)");
is($ret, 0, 'the backfill resumes and finishes');
like($err, qr/resuming backfill "v_plus_one" after $recorded rows/, 'from its last committed batch');
like($err, qr/backfill "v_plus_one" finished: $rows rows in \d+ batches/, 'all rows counted once');
ok($pgbench->finish, 'the application ran throughout') or diag($pgb_err);
like($pgb_out, qr/number of transactions actually processed: [1-9]/, 'and did work');
is($node->safe_psql('postgres', 'SELECT count(*) FILTER (WHERE backfilled = 1), count(*) FILTER (WHERE v <> id + 1) FROM big'),
   "$rows|0", 'every row updated exactly once, with the new value');
ok($node->safe_psql('postgres', 'SELECT sum(hits) FROM big') > 0, "the application's updates are kept");
is($node->safe_psql('postgres', q{SELECT count(*) FROM smig.history WHERE action = 'backfill'}), '1',
   'the finished backfill is in history once');

$node->stop;
done_testing();
