"""Every write of an answer waits on, and checks, its intake's row.

0003 refused updates and deletes of a submitted version's answers. This trigger also refuses
inserts, and it takes the intake's row FOR SHARE before reading its status, so a write of an answer
and a submission (which takes the row FOR UPDATE) are ordered by the database itself: an answer
saved while the patient submits in another tab either lands before the version is scored, or is
refused after. Saving a step can then be a single statement outside a transaction.

The error names the trigger as its constraint, so the app can tell it from any other integrity
error (`intake.services.NotADraft`). Rolling this back needs the code that relies on it rolled
back too: 0003's trigger neither locks nor names itself.
"""

from importlib import import_module

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION intake_answer_frozen() RETURNS trigger AS $$
DECLARE
    target bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.intake_id ELSE NEW.intake_id END;
    current_status text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.intake_id <> OLD.intake_id THEN
        RAISE EXCEPTION 'an answer cannot move to another intake (intake %)', OLD.intake_id
            USING ERRCODE = 'integrity_constraint_violation',
                  CONSTRAINT = 'intake_answer_frozen';
    END IF;
    SELECT status INTO current_status FROM intake_intake WHERE id = target FOR SHARE;
    IF current_status <> 'draft' THEN
        RAISE EXCEPTION 'answers of a submitted intake cannot change (intake %)', target
            USING ERRCODE = 'integrity_constraint_violation',
                  CONSTRAINT = 'intake_answer_frozen';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS intake_answer_frozen ON intake_intakeanswer;
CREATE TRIGGER intake_answer_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON intake_intakeanswer
    FOR EACH ROW EXECUTE FUNCTION intake_answer_frozen();
"""

# Back to 0003's trigger, from 0003's own SQL.
BACKWARD = (
    "DROP TRIGGER IF EXISTS intake_answer_frozen ON intake_intakeanswer;\n"
    "DROP FUNCTION IF EXISTS intake_answer_frozen();\n"
    + import_module("intake.migrations.0003_submitted_answers_are_immutable").FORWARD
)


class Migration(migrations.Migration):
    dependencies = [("intake", "0006_review_queue_indexes_end_with_id")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
