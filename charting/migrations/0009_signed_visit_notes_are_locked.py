"""PostgreSQL keeps a signed visit note as it was signed (docs/visits.md#the-visit-note): a
signed note refuses UPDATE and DELETE; its addenda are append-only."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION charting_visit_note_locked() RETURNS trigger AS $$
BEGIN
    IF OLD.signed_at IS NULL THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'visit note % is signed: add an addendum instead (% refused)', OLD.id, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER charting_visit_note_locked
    BEFORE UPDATE OR DELETE ON charting_visitnote
    FOR EACH ROW EXECUTE FUNCTION charting_visit_note_locked();

CREATE TRIGGER charting_visit_addendum_append_only
    BEFORE UPDATE OR DELETE ON charting_visitnoteaddendum
    FOR EACH ROW EXECUTE FUNCTION charting_addendum_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS charting_visit_addendum_append_only ON charting_visitnoteaddendum;
DROP TRIGGER IF EXISTS charting_visit_note_locked ON charting_visitnote;
DROP FUNCTION IF EXISTS charting_visit_note_locked();
"""


class Migration(migrations.Migration):
    dependencies = [("charting", "0008_visit_notes")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
