-- versions: validation and numeric, group-by-group ordering
CREATE EXTENSION IF NOT EXISTS smig;

-- ordering: 1.9 < 1.10, leading zeros ignored, long groups compared as digits
SELECT v
  FROM unnest(ARRAY['1.10', '1.9', '2', '10', '001.2', '1.2.10', '1.2.9',
                    '20191100000001000000', '20191099999999999999',
                    '2026_11_22_1200', '2026_11_22_0900', '0', '1.0.1']) AS v
 ORDER BY smig.version_key(v) COLLATE "C";

-- equal versions share a key
SELECT smig.version_key('001') = smig.version_key('1')      AS leading_zeros,
       smig.version_key('1') = smig.version_key('1.0')      AS trailing_zero_group,
       smig.version_key('1.2') = smig.version_key('1_2')    AS separators,
       smig.version_key('0') = smig.version_key('00.0')     AS zeros,
       smig.version_key('1.2') = smig.version_key('1.20')   AS not_equal;

-- a group longer than any integer type
SELECT smig.version_key('99999999999999999999999999999999') COLLATE "C"
     > smig.version_key('99999999999999999999999999999998') COLLATE "C" AS long_groups;

-- invalid versions: SQLSTATE 22023 quoting the version
\set VERBOSITY default
SELECT smig.version_key('');
SELECT smig.version_key('v1');
SELECT smig.version_key('1..2');
SELECT smig.version_key('1.');
SELECT smig.version_key('.1');
SELECT smig.version_key('1-2');
SELECT smig.version_key('1 2');
SELECT smig.version_key(repeat('1', 201));
SELECT smig.version_key(NULL) IS NULL AS null_in_null_out;
-- a long version with multibyte characters is clipped on a character boundary
SELECT smig.version_key(repeat('é', 150));
