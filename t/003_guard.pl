# The guard holds for a non-superuser whether or not smig is preloaded
# (issue 10): with ALTER DATABASE ... SET smig.guard = error, neither
# PGOPTIONS='-c smig.guard=off' nor a SET before smig.so is loaded turns it
# off; a superuser's PGOPTIONS still does.  And the log never holds the
# neighbours of a statement in its query string, even for the statement
# that loaded smig.so.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Test::More;

# psql -c: the whole string is one query, as an application sends it
sub psql_c
{
	my ($node, $user, $sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run [ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-U', $user,
		'-d', $node->connstr('postgres'), '-c', $sql ], '>', \$out, '2>', \$err;
	chomp $out;
	return ($?, $out, $err);
}

for my $preload (0, 1)
{
	my $name = $preload ? 'preload' : 'nopreload';
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'smig'")
	  if $preload;
	$node->start;
	$node->safe_psql('postgres', q{
		CREATE EXTENSION smig;
		CREATE SCHEMA app;
		CREATE ROLE appuser LOGIN;
		GRANT CREATE, USAGE ON SCHEMA app TO appuser;
		ALTER DATABASE postgres SET smig.guard = error;
	});

	my ($ret, $out, $err);

	# a non-superuser's PGOPTIONS: refused at connection (preloaded) or
	# ignored (the database's setting is applied again when smig loads)
	{
		local $ENV{PGOPTIONS} = '-c smig.guard=off';
		($ret, $out, $err) = psql_c($node, 'appuser',
			'CREATE TABLE app.t_pgoptions (id int)');
	}
	isnt($ret, 0, "$name: PGOPTIONS smig.guard=off does not let a non-superuser through");
	if ($preload)
	{
		like($err, qr/permission denied to set parameter "smig.guard"/,
			"$name: the connection is refused");
	}
	else
	{
		like($err, qr/CREATE TABLE on "app.t_pgoptions" is not a migration/,
			"$name: the guard refuses the CREATE TABLE");
		like($err, qr/smig is not loaded through shared_preload_libraries/,
			"$name: a warning says that smig is not preloaded");
	}
	{
		local $ENV{PGOPTIONS} = '-c smig.guard=off';
		# the temporary table fires an event trigger, which loads smig.so
		($ret, $out, $err) = psql_c($node, 'appuser',
			'CREATE TEMP TABLE scratch (id int); SHOW smig.guard');
	}
	is($out, 'error', "$name: the database's setting is in force for the non-superuser")
	  unless $preload;

	# a SET before smig.so is loaded in the backend
	($ret, $out, $err) = $node->psql('postgres',
		"SET smig.guard = off;\nCREATE TABLE app.t_set (id int);",
		extra_params => [ '-U', 'appuser' ], on_error_stop => 0);
	like($err, qr/CREATE TABLE on "app.t_set" is not a migration/,
		"$name: SET before load does not turn the guard off");
	is($node->safe_psql('postgres',
			q{SELECT count(*) FROM pg_tables WHERE schemaname = 'app'}),
		'0', "$name: no table was created by the non-superuser");

	# the guard, not only DDL: a CONCURRENTLY form as first statement
	$node->safe_psql('postgres', q{
		SET smig.guard = off;
		CREATE TABLE app.items (id int);
		ALTER TABLE app.items OWNER TO appuser;
	});
	($ret, $out, $err) = psql_c($node, 'appuser',
		'CREATE INDEX CONCURRENTLY items_id ON app.items (id)');
	like($err, qr/CREATE INDEX on "app.items" is not a migration/,
		"$name: CREATE INDEX CONCURRENTLY as the session's first statement is refused");
	is($node->safe_psql('postgres',
			q{SELECT count(*) FROM pg_index WHERE indrelid = 'app.items'::regclass}),
		'0', "$name: and leaves no index behind");

	# judged before it starts by the ddl_command_start trigger (the hook is
	# not installed yet when smig is not preloaded)
	($ret, $out, $err) = psql_c($node, 'appuser',
		'GRANT SELECT ON app.items TO PUBLIC');
	like($err, qr/GRANT on "app.items" is not a migration/,
		"$name: GRANT as the session's first statement is refused");
	($ret, $out, $err) = psql_c($node, 'postgres', 'DROP EXTENSION smig');
	like($err, qr/cannot drop extension "smig" while its history or audit log holds rows/,
		"$name: DROP EXTENSION smig as the session's first statement is refused");

	# a superuser's PGOPTIONS is honoured
	{
		local $ENV{PGOPTIONS} = '-c smig.guard=off';
		($ret, $out, $err) = psql_c($node, 'postgres',
			'CREATE TABLE app.t_super (id int); SHOW smig.guard');
	}
	is($ret, 0, "$name: a superuser's PGOPTIONS smig.guard=off is honoured");
	is($out, 'off', "$name: and smig.guard shows off");
	($ret, $out, $err) = psql_c($node, 'postgres', 'LOAD \'smig\'; SHOW smig.guard');
	is($out, 'error', "$name: without it, the superuser has the database's setting");

	# set in postgresql.conf instead of for the database: the same
	$node->safe_psql('postgres', 'ALTER DATABASE postgres RESET smig.guard');
	$node->append_conf('postgresql.conf', 'smig.guard = error');
	$node->reload;
	{
		local $ENV{PGOPTIONS} = '-c smig.guard=off';
		($ret, $out, $err) = psql_c($node, 'appuser',
			'CREATE TABLE app.t_file (id int)');
	}
	isnt($ret, 0,
		"$name: PGOPTIONS does not let a non-superuser through smig.guard of postgresql.conf");
	like($err, qr/CREATE TABLE on "app.t_file" is not a migration|permission denied to set parameter "smig.guard"/,
		"$name: refused by the guard or at connection");

	# the statement that loaded smig.so (nopreload) or any statement
	# (preload): its own text is logged, not the neighbouring ALTER ROLE
	{
		local $ENV{PGOPTIONS} = '-c smig.guard=off';
		($ret, $out, $err) = psql_c($node, 'postgres',
			"ALTER ROLE appuser PASSWORD 'secret'; CREATE TABLE app.t_text (id int);");
	}
	is($ret, 0, "$name: two statements in one query string");
	is($node->safe_psql('postgres',
			q{SELECT statement FROM smig.ddl_log WHERE object_identity = 'app.t_text'}),
		'CREATE TABLE app.t_text (id int)', "$name: only the statement itself is logged");
	is($node->safe_psql('postgres',
			q{SELECT count(*) FROM smig.ddl_log WHERE statement LIKE '%secret%'}),
		'0', "$name: the password never reaches the log");

	# without preloading, the first statement of a backend is found again
	# in the query string only if it is that statement: a DO block or a
	# function call that runs DDL logs NULL, never its whole text (which
	# may hold a password)
	unless ($preload)
	{
		$node->safe_psql('postgres', q{
			SET smig.guard = off;
			CREATE FUNCTION public.rotate(p text) RETURNS void LANGUAGE plpgsql AS $$
			BEGIN
				EXECUTE format('ALTER ROLE %I PASSWORD %L', current_user, p);
				CREATE TEMP TABLE leak2 (i int);
			END $$;
		});
		($ret, $out, $err) = psql_c($node, 'appuser',
			q{DO $$ BEGIN EXECUTE 'ALTER ROLE appuser PASSWORD ''LEAK_DO'''; CREATE TEMP TABLE leak1 (i int); END $$});
		is($ret, 0, "$name: a DO block as a fresh session's first statement") or diag($err);
		($ret, $out, $err) = psql_c($node, 'appuser', q{SELECT public.rotate('LEAK_FN')});
		is($ret, 0, "$name: a function running DDL as a fresh session's first statement")
		  or diag($err);
		is($node->safe_psql('postgres',
				q{SELECT string_agg(coalesce(statement, 'NULL'), ',' ORDER BY id) FROM smig.ddl_log
				   WHERE object_identity ~ '[.]leak[12]$'}),
			'NULL,NULL', "$name: their DDL is logged without a statement");
		is($node->safe_psql('postgres',
				q{SELECT count(*) FROM smig.ddl_log WHERE statement LIKE '%LEAK%'}),
			'0', "$name: the passwords never reach the log");
	}

	# session_preload_libraries (set by a superuser for the database) loads
	# smig at every session's start: the hook sees REASSIGN OWNED as the
	# first command, and a non-superuser cannot unset it
	unless ($preload)
	{
		$node->safe_psql('postgres', q{
			CREATE ROLE appowner;
			GRANT appowner TO appuser;
			ALTER DATABASE postgres SET session_preload_libraries = 'smig';
		});
		($ret, $out, $err) = psql_c($node, 'appuser',
			'REASSIGN OWNED BY appuser TO appowner');
		like($err, qr/REASSIGN OWNED on "app.items" is not a migration/,
			"$name: with session_preload_libraries, REASSIGN OWNED as the first command is refused");
		unlike($err, qr/not loaded through shared_preload_libraries/,
			"$name: and no warning says that smig is not preloaded");
		is($node->safe_psql('postgres',
				q{SELECT tableowner FROM pg_tables WHERE schemaname = 'app' AND tablename = 'items'}),
			'appuser', "$name: the owner did not change");
		{
			local $ENV{PGOPTIONS} = '-c session_preload_libraries=';
			($ret, $out, $err) = psql_c($node, 'appuser', 'SELECT 1');
		}
		isnt($ret, 0, "$name: a non-superuser cannot unset session_preload_libraries");
		like($err, qr/permission denied to set parameter "session_preload_libraries"/,
			"$name: the connection is refused");
		$node->safe_psql('postgres',
			'ALTER DATABASE postgres RESET session_preload_libraries');
	}

	# a database without smig is not guarded, though the library (preloaded)
	# runs there too; one still at smig 0.1 is not broken by the new log row
	$node->safe_psql('postgres', q{
		CREATE DATABASE nosmig;
		ALTER DATABASE nosmig SET smig.guard = error;
		CREATE DATABASE old;
	});
	($ret, $out, $err) = $node->psql('nosmig', q{
		CREATE TABLE t (id int);
		GRANT SELECT ON t TO PUBLIC;
		CREATE INDEX CONCURRENTLY t_id ON t (id);
		REASSIGN OWNED BY appuser TO CURRENT_USER;
	});
	is($ret, 0, "$name: no guard in a database without smig");
	($ret, $out, $err) = $node->psql('old', q{
		SET smig.guard = off;
		CREATE EXTENSION smig VERSION '0.1';
		CREATE TABLE t (id int);
		ALTER TABLE t OWNER TO appuser;
		REASSIGN OWNED BY appuser TO CURRENT_USER;
		ALTER EXTENSION smig UPDATE;
		ALTER TABLE t OWNER TO appuser;
		REASSIGN OWNED BY appuser TO CURRENT_USER;
	});
	is($ret, 0, "$name: REASSIGN OWNED works before and after ALTER EXTENSION smig UPDATE")
	  or diag($err);
	is($node->safe_psql('old',
			q{SELECT string_agg(object_identity, ',') FROM smig.ddl_log WHERE command_tag = 'REASSIGN OWNED'}),
		'public.t', "$name: and is logged once the log is at 0.2");

	$node->stop;
}

done_testing();
