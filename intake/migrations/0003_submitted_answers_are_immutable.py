"""The database refuses to change or delete the answers of a submitted intake version.

Submitted answers are a clinical record: a later change makes a new version
(docs/product-rules.md#intake).
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION intake_answer_frozen() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM intake_intake
        WHERE id = OLD.intake_id AND status <> 'draft'
    ) THEN
        RAISE EXCEPTION 'answers of a submitted intake cannot change (intake %)', OLD.intake_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER intake_answer_frozen
    BEFORE UPDATE OR DELETE ON intake_intakeanswer
    FOR EACH ROW EXECUTE FUNCTION intake_answer_frozen();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS intake_answer_frozen ON intake_intakeanswer;
DROP FUNCTION IF EXISTS intake_answer_frozen();
"""


class Migration(migrations.Migration):
    dependencies = [("intake", "0002_first_consent_texts")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
