-- checksums: SHA-256 hex, CRLF/CR normalised, leading BOM dropped
CREATE EXTENSION IF NOT EXISTS smig;

SELECT smig.checksum('') AS empty;
SELECT smig.checksum('CREATE TABLE t (id int);') =
       encode(sha256(convert_to('CREATE TABLE t (id int);', 'UTF8')), 'hex') AS plain_sha256;

-- line ends: CRLF and lone CR hash like LF
SELECT smig.checksum(E'a\r\nb\rc\n') = smig.checksum(E'a\nb\nc\n') AS crlf_cr_normalised,
       smig.checksum(E'a\r\n') = encode(sha256(E'a\n'::bytea), 'hex') AS crlf_is_lf,
       smig.checksum(E'a\n\n') <> smig.checksum(E'a\n') AS blank_lines_count,
       smig.checksum(E'a\r\r\n') = smig.checksum(E'a\n\n') AS cr_then_crlf;

-- a leading BOM is dropped; one elsewhere is content
SELECT smig.checksum(convert_from('\xefbbbf'::bytea, 'UTF8') || 'SELECT 1;')
         = smig.checksum('SELECT 1;') AS bom_dropped,
       smig.checksum('SELECT 1;' || convert_from('\xefbbbf'::bytea, 'UTF8'))
         <> smig.checksum('SELECT 1;') AS inner_bom_kept;

-- a BOM-only script is the empty script (a placeholder saved by an editor
-- that writes a BOM, later saved without one, is not an edit)
SELECT smig.checksum(convert_from('\xefbbbf'::bytea, 'UTF8')) = smig.checksum('') AS bom_only_is_empty;
SET client_min_messages = warning;
SELECT smig.register('900', 'placeholder', convert_from('\xefbbbf'::bytea, 'UTF8'));
SELECT version FROM smig.apply('900');
SELECT smig.register('900', 'placeholder', '');   -- no WARNING: not modified
SELECT version, state FROM smig.status() WHERE version = '900';
RESET client_min_messages;

-- whitespace and comments are content
SELECT smig.checksum('SELECT 1;') <> smig.checksum('SELECT  1;') AS whitespace_counts,
       smig.checksum('SELECT 1;') <> smig.checksum('SELECT 1; -- x') AS comments_count;

-- long input, fed in pieces
SELECT smig.checksum(repeat(E'line\r\n', 100000)) =
       encode(sha256(convert_to(repeat(E'line\n', 100000), 'UTF8')), 'hex') AS long_input;
