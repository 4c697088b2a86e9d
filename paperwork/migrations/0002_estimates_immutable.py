"""An issued Good Faith Estimate is kept as issued for six years (45 CFR 149.610(g)):
PostgreSQL refuses any UPDATE of its content and any DELETE before six years after issue. The
one-way marks (the stored PDF and its hash, the acknowledgement, the supersession) may each be
set once, from empty (docs/paperwork.md#immutable-and-kept-six-years)."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION paperwork_estimate_kept() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.issued_at > now() - interval '6 years' THEN
            RAISE EXCEPTION 'A Good Faith Estimate is kept for six years after issue: % cannot be deleted', OLD.public_id
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.public_id, NEW.patient_id, NEW.series_id, NEW.plan_id, NEW.location_id, NEW.reason,
        NEW.language, NEW.issued_at, NEW.content, NEW.total_amount, NEW.currency,
        NEW.scope_hash, NEW.supersedes_id)
       IS DISTINCT FROM
       (OLD.public_id, OLD.patient_id, OLD.series_id, OLD.plan_id, OLD.location_id, OLD.reason,
        OLD.language, OLD.issued_at, OLD.content, OLD.total_amount, OLD.currency,
        OLD.scope_hash, OLD.supersedes_id) THEN
        RAISE EXCEPTION 'An issued Good Faith Estimate cannot be changed: issue a new one'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (OLD.superseded_at IS NOT NULL AND NEW.superseded_at IS DISTINCT FROM OLD.superseded_at)
       OR (OLD.acknowledged_at IS NOT NULL AND NEW.acknowledged_at IS DISTINCT FROM OLD.acknowledged_at)
       OR (OLD.pdf_sha256 <> '' AND (NEW.pdf_sha256, NEW.pdf_name) IS DISTINCT FROM (OLD.pdf_sha256, OLD.pdf_name)) THEN
        RAISE EXCEPTION 'A mark of an issued Good Faith Estimate is set once and kept'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER paperwork_estimate_kept
    BEFORE UPDATE OR DELETE ON paperwork_estimate
    FOR EACH ROW EXECUTE FUNCTION paperwork_estimate_kept();
"""

REVERSE = """
DROP TRIGGER IF EXISTS paperwork_estimate_kept ON paperwork_estimate;
DROP FUNCTION IF EXISTS paperwork_estimate_kept();
"""


class Migration(migrations.Migration):
    dependencies = [("paperwork", "0001_initial")]

    operations = [migrations.RunSQL(FUNCTION, REVERSE)]
