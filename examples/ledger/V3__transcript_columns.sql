-- Migration: transcript_columns (v3.0 audit-trail columns)
-- Idempotent: every ALTER is guarded, so it is safe to re-run against a
-- schema that already has the v3 columns.  Written for psql -f, hence the
-- BEGIN/COMMIT pair, which smig recognises and does not send.
-- No down script: dropping these columns would destroy audit data.

BEGIN;

ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS envelope_json        jsonb;
ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS envelope_hash        text;
ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS transcript_json      jsonb;
ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS transcript_signature text;
ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS signing_key_id       text;
ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS verifier_status      text;

-- v3 evaluator entries use track 'v3-evaluator'.
ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_track_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_track_check
    CHECK (track IN ('v1', 'v2', 'v3-evaluator'));

COMMIT;
