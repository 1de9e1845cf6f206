-- Undo v0.2: drop the buffer and the schema_version column.
-- tenants is kept: a downgrade never destroys customer-supplied configuration.
DROP TABLE telemetry_buffer;
DROP FUNCTION telemetry_buffer_refuse_change();
ALTER TABLE ledger_entries DROP COLUMN schema_version;
