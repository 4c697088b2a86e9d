"""The appointment-time table kept by triggers on sessions and visits, and filled with the active
sessions already booked (docs/visits.md#the-rules-in-postgresql)."""

from django.db import migrations

SESSION_ACTIVE = "('booked', 'confirmed', 'checked_in', 'in_chair', 'completed')"
VISIT_ACTIVE = "('booked', 'confirmed', 'held')"


def _function(table: str, column: str, active: str) -> str:
    return f"""
CREATE FUNCTION scheduling_{table}_appointment_time() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.status NOT IN {active} THEN
        DELETE FROM scheduling_appointmenttime WHERE {column} = OLD.id;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        UPDATE scheduling_appointmenttime
           SET patient_id = NEW.patient_id, starts_at = NEW.starts_at, ends_at = NEW.ends_at
         WHERE {column} = NEW.id;
        IF FOUND THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO scheduling_appointmenttime (patient_id, starts_at, ends_at, {column})
    VALUES (NEW.patient_id, NEW.starts_at, NEW.ends_at, NEW.id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER scheduling_{table}_appointment_time
AFTER INSERT OR DELETE OR UPDATE OF status, starts_at, ends_at, patient_id
ON scheduling_{table} FOR EACH ROW EXECUTE FUNCTION scheduling_{table}_appointment_time();
"""  # noqa: S608 (the module's own constants, no input)


def _drop(table: str) -> str:
    return (
        f"DROP TRIGGER scheduling_{table}_appointment_time ON scheduling_{table}; "
        f"DROP FUNCTION scheduling_{table}_appointment_time();"
    )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0016_visits_and_appointment_times")]

    operations = [
        migrations.RunSQL(
            _function("session", "session_id", SESSION_ACTIVE), reverse_sql=_drop("session")
        ),
        migrations.RunSQL(_function("visit", "visit_id", VISIT_ACTIVE), reverse_sql=_drop("visit")),
        migrations.RunSQL(
            "INSERT INTO scheduling_appointmenttime (patient_id, starts_at, ends_at, session_id) "  # noqa: S608
            "SELECT patient_id, starts_at, ends_at, id FROM scheduling_session "
            f"WHERE status IN {SESSION_ACTIVE}",
            reverse_sql="DELETE FROM scheduling_appointmenttime",
        ),
    ]
