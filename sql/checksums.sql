-- checksums: SHA-256 hex, CRLF/CR normalised, leading BOM dropped
CREATE EXTENSION IF NOT EXISTS smig;

SELECT smig.checksum('') AS empty;
SELECT smig.checksum('CREATE TABLE t (id int);') =
       encode(sha256(convert_to('CREATE TABLE t (id int);', 'UTF8')), 'hex') AS plain_sha256;

-- line ends: CRLF and lone CR hash like LF
SELECT smig.checksum(E'a\r\nb\rc\n') = smig.checksum(E'a\nb\nc\n') AS crlf_cr_normalised,
       smig.checksum(E'a\r\nb') = encode(sha256(E'a\nb'::bytea), 'hex') AS crlf_is_lf,
       smig.checksum(E'a\n\nb') <> smig.checksum(E'a\nb') AS blank_lines_count,
       smig.checksum(E'a\r\r\nb') = smig.checksum(E'a\n\nb') AS cr_then_crlf;

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

-- scheme 2: whitespace at the very end of the script does not count (a tool
-- that strips or adds the final newline); anywhere else it does
SELECT smig.checksum(E'SELECT 1;\n') = smig.checksum('SELECT 1;') AS final_newline_ignored,
       smig.checksum(E'SELECT 1;\r\n\n \t\f\r') = smig.checksum('SELECT 1;') AS trailing_blanks_ignored,
       smig.checksum(E'\nSELECT 1;') <> smig.checksum('SELECT 1;') AS leading_newline_counts,
       smig.checksum(E'SELECT 1;\n\nSELECT 2;') <> smig.checksum(E'SELECT 1;\nSELECT 2;') AS inner_blank_line_counts,
       smig.checksum(E' \n\t') = smig.checksum('') AS blank_is_empty;
-- scheme 1 (smig 0.1) stays available, to verify checksums recorded under it
SELECT smig.checksum(E'SELECT 1;\n', 1) = encode(sha256(E'SELECT 1;\n'::bytea), 'hex') AS scheme_1_keeps_final_newline,
       smig.checksum(E'SELECT 1;\r\n', 1) = smig.checksum(E'SELECT 1;\n', 1) AS scheme_1_normalises_crlf,
       smig.checksum('SELECT 1;', 2) = smig.checksum('SELECT 1;') AS scheme_2_is_current;
SELECT smig.checksum('SELECT 1;', 3);
SELECT smig.checksum('SELECT 1;', 0);

-- whitespace and comments are content
SELECT smig.checksum('SELECT 1;') <> smig.checksum('SELECT  1;') AS whitespace_counts,
       smig.checksum('SELECT 1;') <> smig.checksum('SELECT 1; -- x') AS comments_count;

-- long input, fed in pieces
SELECT smig.checksum(repeat(E'line\r\n', 100000)) =
       encode(sha256(convert_to(rtrim(repeat(E'line\n', 100000), E'\n'), 'UTF8')), 'hex') AS long_input;
