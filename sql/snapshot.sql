-- snapshot: smig.snapshot() and smig.fingerprint() describe the user
-- schemas without OIDs or creation order: equal on two databases built by
-- the same DDL in another order, different after any schema change, blind
-- to data and to what is not schema
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY default

-- the same schema built twice, in two databases, in a different order and
-- with other OIDs
CREATE DATABASE smig_fp_a;
CREATE DATABASE smig_fp_b;
\c smig_fp_a
CREATE EXTENSION smig;
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN app.pos AS int NOT NULL CHECK (VALUE > 0);
CREATE TABLE app.t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    name text COLLATE "C" NOT NULL DEFAULT 'x',
                    m app.mood, p app.pos, g int GENERATED ALWAYS AS (id * 2) STORED);
CREATE INDEX t_lower ON app.t (lower(name));
CREATE VIEW app.v AS SELECT id, name FROM app.t WHERE id > 1;
CREATE FUNCTION app.f(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 1';
CREATE TABLE app.parted (k int, v text) PARTITION BY RANGE (k);
CREATE TABLE app.parted_1 PARTITION OF app.parted FOR VALUES FROM (0) TO (10);
ALTER TABLE app.t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p1 ON app.t USING (id > 0);
COMMENT ON TABLE app.t IS 'hello';
ALTER TABLE app.t ALTER COLUMN name SET (n_distinct = 100);
GRANT SELECT ON app.t TO pg_monitor;
GRANT INSERT ON app.t TO pg_read_all_data;
SELECT smig.fingerprint() AS fp_a \gset
SELECT smig.snapshot() AS snap_a \gset
SELECT 'app.t'::regclass::oid AS t_oid \gset
-- no OID of the database's objects appears in the description
SELECT position(:'t_oid' IN :'snap_a') = 0 AS no_oid;
\c smig_fp_b
CREATE EXTENSION smig;
CREATE TABLE junk (a int, b int);
DROP TABLE junk;
CREATE SCHEMA app;
CREATE TABLE app.parted (k int, v text) PARTITION BY RANGE (k);
CREATE TYPE app.mood AS ENUM ('sad', 'happy');
ALTER TYPE app.mood ADD VALUE 'ok' BEFORE 'happy';
CREATE DOMAIN app.pos AS int CHECK (VALUE > 0) NOT NULL;
CREATE FUNCTION app.f(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 1';
CREATE TABLE app.t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    name text COLLATE "C" NOT NULL DEFAULT 'x',
                    m app.mood, p app.pos, g int GENERATED ALWAYS AS (id * 2) STORED);
GRANT INSERT ON app.t TO pg_read_all_data;
GRANT SELECT ON app.t TO pg_monitor;
CREATE POLICY p1 ON app.t USING (id > 0);
ALTER TABLE app.t ENABLE ROW LEVEL SECURITY;
CREATE VIEW app.v AS SELECT id, name FROM app.t WHERE id > 1;
CREATE INDEX t_lower ON app.t (lower(name));
CREATE TABLE app.parted_1 PARTITION OF app.parted FOR VALUES FROM (0) TO (10);
COMMENT ON TABLE app.t IS 'hello';
ALTER TABLE app.t ALTER COLUMN name SET (n_distinct = 100);
SELECT smig.fingerprint() = :'fp_a' AS same_fingerprint,
       smig.snapshot() = :'snap_a'::jsonb AS same_snapshot;
-- one column more: different
ALTER TABLE app.t ADD COLUMN extra int;
SELECT smig.fingerprint() = :'fp_a' AS same_after_add_column;
SELECT smig.snapshot() -> 'column app.t.extra' AS new_column;
\c contrib_regression
DROP DATABASE smig_fp_a;
DROP DATABASE smig_fp_b;

-- every kind of object changes the fingerprint; data, statistics and
-- objects outside the user schemas do not
CREATE SCHEMA shop;
CREATE TYPE shop.mood AS ENUM ('sad', 'ok');
CREATE DOMAIN shop.pos AS int CHECK (VALUE > 0);
CREATE TYPE shop.pair AS (a int, b text);
CREATE TYPE shop.span AS RANGE (subtype = int4);
CREATE TABLE shop.item (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2) DEFAULT 0, weight int,
                        CONSTRAINT price_ok CHECK (price >= 0));
CREATE TABLE shop.line (item_id bigint REFERENCES shop.item, qty int);
CREATE INDEX line_item ON shop.line (item_id);
CREATE SEQUENCE shop.ticket;
CREATE VIEW shop.cheap AS SELECT id FROM shop.item WHERE price < 10;
CREATE MATERIALIZED VIEW shop.totals AS SELECT item_id, sum(qty) AS qty FROM shop.line GROUP BY item_id;
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER item_touch BEFORE UPDATE ON shop.item FOR EACH ROW EXECUTE FUNCTION shop.touch();
CREATE PROCEDURE shop.noop() LANGUAGE sql AS 'SELECT 1';
CREATE AGGREGATE shop.total(int) (sfunc = int4pl, stype = int);
CREATE POLICY mine ON shop.item USING (true);
CREATE RULE no_delete AS ON DELETE TO shop.line DO INSTEAD NOTHING;
CREATE STATISTICS shop.item_stats ON id, name FROM shop.item;
CREATE TABLE shop.events (at date, what text) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2026 PARTITION OF shop.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE ROLE smig_fp_reader;

CREATE FUNCTION fp_changes(stmt text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    before text := smig.fingerprint();
    changed boolean;
BEGIN
    BEGIN
        EXECUTE stmt;
        changed := smig.fingerprint() <> before;
        RAISE EXCEPTION USING ERRCODE = 'P0100';
    EXCEPTION WHEN SQLSTATE 'P0100' THEN
        NULL;   -- the change is rolled back
    END;
    IF smig.fingerprint() <> before THEN
        RAISE EXCEPTION 'fingerprint did not come back after %', stmt;
    END IF;
    RETURN changed;
END
$$;

SELECT stmt, fp_changes(stmt) AS changes_fingerprint
  FROM unnest(ARRAY[
    'CREATE SCHEMA other',
    'CREATE TABLE shop.new (a int)',
    'CREATE UNLOGGED TABLE shop.new (a int)',
    'ALTER TABLE shop.item ADD COLUMN note text',
    'ALTER TABLE shop.item RENAME COLUMN name TO title',
    'ALTER TABLE shop.item ALTER COLUMN weight TYPE bigint',
    'ALTER TABLE shop.item ALTER COLUMN name DROP NOT NULL',
    'ALTER TABLE shop.item ALTER COLUMN price SET DEFAULT 1',
    'ALTER TABLE shop.item ALTER COLUMN name SET STATISTICS 500',
    'ALTER TABLE shop.item ALTER COLUMN name SET (n_distinct = 10)',
    'ALTER TABLE shop.item ALTER COLUMN name TYPE text COLLATE "C"',
    'ALTER TABLE shop.line ADD COLUMN id int GENERATED BY DEFAULT AS IDENTITY',
    'ALTER TABLE shop.line ADD COLUMN dbl int GENERATED ALWAYS AS (qty * 2) STORED',
    'ALTER TABLE shop.item DROP CONSTRAINT price_ok',
    'ALTER TABLE shop.item ADD CONSTRAINT name_ok CHECK (name <> '''') NOT VALID',
    'ALTER TABLE shop.item SET (fillfactor = 70)',
    'ALTER TABLE shop.item REPLICA IDENTITY FULL',
    'ALTER TABLE shop.item FORCE ROW LEVEL SECURITY',
    'ALTER TABLE shop.item ENABLE ROW LEVEL SECURITY',
    'CREATE INDEX item_name ON shop.item (name)',
    'DROP INDEX shop.line_item',
    'CREATE INDEX line_item2 ON shop.line (item_id) WHERE qty > 0',
    'ALTER SEQUENCE shop.ticket INCREMENT BY 5',
    'ALTER SEQUENCE shop.ticket OWNED BY shop.line.qty',
    'CREATE OR REPLACE VIEW shop.cheap AS SELECT id FROM shop.item WHERE price < 20',
    'DROP MATERIALIZED VIEW shop.totals',
    'CREATE OR REPLACE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN NEW.id := NEW.id; RETURN NEW; END$f$',
    'ALTER FUNCTION shop.touch() SECURITY DEFINER',
    'ALTER TABLE shop.item DISABLE TRIGGER item_touch',
    'DROP TRIGGER item_touch ON shop.item',
    'DROP PROCEDURE shop.noop()',
    'DROP AGGREGATE shop.total(int)',
    'ALTER POLICY mine ON shop.item USING (id > 0)',
    'DROP RULE no_delete ON shop.line',
    'DROP STATISTICS shop.item_stats',
    'ALTER TYPE shop.mood ADD VALUE ''happy''',
    'ALTER TYPE shop.mood RENAME VALUE ''ok'' TO ''fine''',
    'ALTER DOMAIN shop.pos SET NOT NULL',
    'ALTER DOMAIN shop.pos ADD CONSTRAINT small CHECK (VALUE < 100)',
    'ALTER TYPE shop.pair ADD ATTRIBUTE c date',
    'DROP TYPE shop.span',
    'ALTER TABLE shop.events DETACH PARTITION shop.events_2026',
    'CREATE TABLE shop.events_2027 PARTITION OF shop.events FOR VALUES FROM (''2027-01-01'') TO (''2028-01-01'')',
    'GRANT SELECT ON shop.item TO smig_fp_reader',
    'GRANT SELECT (name) ON shop.item TO smig_fp_reader',
    'GRANT USAGE ON SCHEMA shop TO smig_fp_reader',
    'REVOKE EXECUTE ON FUNCTION shop.touch() FROM PUBLIC',
    'ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO smig_fp_reader',
    'ALTER TABLE shop.item OWNER TO smig_fp_reader',
    'COMMENT ON TABLE shop.item IS ''things''',
    'COMMENT ON COLUMN shop.item.name IS ''what it is called''',
    'COMMENT ON INDEX shop.line_item IS ''by item''',
    'CREATE EXTENSION citext SCHEMA shop',
    -- not schema: data, sequence values, statistics, temporary objects, smig
    'GRANT SELECT ON shop.item TO smig_fp_reader; REVOKE SELECT ON shop.item FROM smig_fp_reader',
    'INSERT INTO shop.item VALUES (1, ''pen'', 2)',
    'SELECT nextval(''shop.ticket'')',
    'ANALYZE shop.item',
    'CREATE TEMP TABLE scratch (a int)',
    'REFRESH MATERIALIZED VIEW shop.totals',
    'SELECT smig.register(''1'', ''one'', ''SELECT 1;'')'
  ]) AS stmt;

-- objects of an extension are not listed, the extension is (with its version)
CREATE EXTENSION citext SCHEMA shop;
SELECT key, value FROM jsonb_each(smig.snapshot(ARRAY['shop'])) WHERE key LIKE '%citext%';
-- grants made in another order give the same description
BEGIN;
GRANT SELECT ON shop.item TO smig_fp_reader;
GRANT UPDATE ON shop.item TO pg_monitor;
SELECT smig.fingerprint(ARRAY['shop']) AS fp_grants \gset
ROLLBACK;
BEGIN;
GRANT UPDATE ON shop.item TO pg_monitor;
GRANT SELECT ON shop.item TO smig_fp_reader;
SELECT smig.fingerprint(ARRAY['shop']) = :'fp_grants' AS same_in_other_order;
ROLLBACK;

-- the schema list: only those schemas; bad lists are errors
SELECT count(*) FILTER (WHERE key LIKE 'schema %') AS schemas,
       count(*) FILTER (WHERE key = 'schema shop') AS shop
  FROM jsonb_each(smig.snapshot(ARRAY['shop']));
SELECT smig.snapshot(ARRAY['public']) -> 'schema public' ? 'owner' AS public_only;
SELECT smig.snapshot() ? 'schema smig' AS lists_smig,
       smig.snapshot(ARRAY['smig']) ? 'schema smig' AS smig_when_asked;
SELECT smig.fingerprint(ARRAY['shop', 'nosuch']);
SELECT smig.fingerprint(ARRAY['shop', NULL]);
SELECT smig.fingerprint('{}') = smig.fingerprint(ARRAY[]::text[]) AS empty_list,
       smig.snapshot('{}') AS nothing;

-- read-only: works in a read-only transaction (and so on a standby)
BEGIN READ ONLY;
SELECT length(smig.fingerprint()) AS sha256_hex_length;
ROLLBACK;

DROP FUNCTION fp_changes(text);
DROP EXTENSION citext;
DROP SCHEMA shop CASCADE;
DROP ROLE smig_fp_reader;
