"""PostgreSQL keeps a signed chart as it was signed (docs/roles/nurse.md#sign-and-lock).

- A signed record refuses UPDATE and DELETE, except the one change signing leaves open: a
  clinician's co-signature, once, when the record asks for one.
- Vitals and observations of a signed record refuse INSERT, UPDATE and DELETE.
- Addenda, the only way to correct a signed chart, are append-only.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION charting_record_locked() RETURNS trigger AS $$
BEGIN
    IF OLD.signed_at IS NULL THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.cosign_required AND OLD.cosigned_at IS NULL
       AND (to_jsonb(NEW) - 'cosigned_at' - 'cosigned_by_id')
           = (to_jsonb(OLD) - 'cosigned_at' - 'cosigned_by_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'chart % is signed: add an addendum instead (% refused)', OLD.id, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER charting_record_locked
    BEFORE UPDATE OR DELETE ON charting_infusionrecord
    FOR EACH ROW EXECUTE FUNCTION charting_record_locked();

CREATE FUNCTION charting_entry_locked() RETURNS trigger AS $$
DECLARE
    parent bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.record_id ELSE NEW.record_id END;
BEGIN
    IF EXISTS (SELECT 1 FROM charting_infusionrecord
                WHERE id IN (parent, CASE WHEN TG_OP = 'UPDATE' THEN OLD.record_id END)
                  AND signed_at IS NOT NULL) THEN
        RAISE EXCEPTION 'chart % is signed: add an addendum instead (% on % refused)',
            parent, TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER charting_vitals_locked
    BEFORE INSERT OR UPDATE OR DELETE ON charting_vitalsign
    FOR EACH ROW EXECUTE FUNCTION charting_entry_locked();

CREATE TRIGGER charting_observation_locked
    BEFORE INSERT OR UPDATE OR DELETE ON charting_observation
    FOR EACH ROW EXECUTE FUNCTION charting_entry_locked();

CREATE FUNCTION charting_addendum_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'addenda are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER charting_addendum_append_only
    BEFORE UPDATE OR DELETE ON charting_addendum
    FOR EACH ROW EXECUTE FUNCTION charting_addendum_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS charting_addendum_append_only ON charting_addendum;
DROP FUNCTION IF EXISTS charting_addendum_append_only();
DROP TRIGGER IF EXISTS charting_observation_locked ON charting_observation;
DROP TRIGGER IF EXISTS charting_vitals_locked ON charting_vitalsign;
DROP FUNCTION IF EXISTS charting_entry_locked();
DROP TRIGGER IF EXISTS charting_record_locked ON charting_infusionrecord;
DROP FUNCTION IF EXISTS charting_record_locked();
"""


class Migration(migrations.Migration):
    dependencies = [("charting", "0004_record_drops_untimed_side_effects")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
