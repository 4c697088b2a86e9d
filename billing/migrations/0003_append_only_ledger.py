"""The ledger and the accepted policies are append-only, in the database itself: an UPDATE or a
DELETE of their rows raises, whoever sends it (docs/payments.md#the-ledger). TRUNCATE is left
to the tests' table flush."""

from django.db import migrations

REFUSE = """
CREATE OR REPLACE FUNCTION billing_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""

TABLES = ["billing_ledgerentry", "billing_acceptedpolicy"]


def trigger(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();"
    )


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_payments")]

    operations = [
        migrations.RunSQL(REFUSE, "DROP FUNCTION billing_refuse_change();"),
        *[
            migrations.RunSQL(trigger(table), f"DROP TRIGGER {table}_append_only ON {table};")
            for table in TABLES
        ],
    ]
