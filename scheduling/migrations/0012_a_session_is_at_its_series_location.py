"""A session is at its series' location: a foreign key from the session's (location, series) to
the series' (location, id), which a unique constraint on the series gives; that constraint's
index serves a location's series, so the location's own index goes. Sessions have always been
written with their series' location; the dashboard's drop-outs count a location's series from
its sessions and rely on it (outcomes.reports._dropouts)."""

import django.db.models.deletion
from django.db import migrations, models

# NOT VALID: new and changed sessions are checked at once, without reading every existing session
# under a lock that would stop bookings; 0014 validates the existing ones under a lighter lock.
# Before deploying on a database that was not written by this app, this finds the sessions it
# would refuse (it must return 0):
#   SELECT count(*) FROM scheduling_session x JOIN scheduling_series s ON s.id = x.series_id
#    WHERE s.location_id <> x.location_id;
FORWARD = """
ALTER TABLE scheduling_session ADD CONSTRAINT session_at_its_series_location
    FOREIGN KEY (location_id, series_id) REFERENCES scheduling_series (location_id, id)
    NOT VALID;
"""

BACKWARD = """
ALTER TABLE scheduling_session DROP CONSTRAINT session_at_its_series_location;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("locations", "0006_self_booking_settings"),
        ("scheduling", "0011_session_indexes_for_the_dashboard"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="series",
            constraint=models.UniqueConstraint(
                fields=("location", "id"), name="series_location_id"
            ),
        ),
        migrations.AlterField(
            model_name="series",
            name="location",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="series",
                to="locations.location",
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
