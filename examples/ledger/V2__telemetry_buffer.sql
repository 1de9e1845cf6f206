-- smig:lock-timeout 5s
-- v0.2: tenants, a RANGE-partitioned telemetry buffer with its own
-- append-only trigger, and a schema_version column on the ledger.
-- No existing entry is modified: old rows read '0.1.0', new ones '0.2.0'.
-- The down script (U2) keeps tenants, customer-supplied configuration, so
-- applying this again after a downgrade finds it: IF NOT EXISTS and
-- ON CONFLICT keep the tenants and their settings as they are.

ALTER TABLE ledger_entries ADD COLUMN schema_version text NOT NULL DEFAULT '0.1.0';
ALTER TABLE ledger_entries ALTER COLUMN schema_version SET DEFAULT '0.2.0';

CREATE TABLE IF NOT EXISTS tenants (
    tenant_id             text PRIMARY KEY,
    display_name          text NOT NULL,
    buffer_retention_days integer NOT NULL DEFAULT 30
                          CHECK (buffer_retention_days > 0),
    created_at            timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (tenant_id, display_name) VALUES ('default', 'Default tenant')
    ON CONFLICT (tenant_id) DO NOTHING;

CREATE TABLE telemetry_buffer (
    tenant_id   text NOT NULL REFERENCES tenants,
    received_at timestamptz NOT NULL DEFAULT now(),
    event       jsonb NOT NULL
) PARTITION BY RANGE (received_at);

-- Today's partition; the retention job creates the following days'.
DO $$
DECLARE
    today date := current_date;
BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF telemetry_buffer FOR VALUES FROM (%L) TO (%L)',
                   'telemetry_buffer_' || to_char(today, 'YYYY_MM_DD'),
                   today, today + 1);
END
$$;
CREATE TABLE telemetry_buffer_default PARTITION OF telemetry_buffer DEFAULT;

CREATE FUNCTION telemetry_buffer_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on telemetry_buffer is not allowed: drop old partitions instead',
        TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER telemetry_buffer_append_only
    BEFORE UPDATE OR DELETE ON telemetry_buffer
    FOR EACH ROW EXECUTE FUNCTION telemetry_buffer_refuse_change();
