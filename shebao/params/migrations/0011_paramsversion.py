"""ParamsVersion and the triggers that change its token with every parameter write.

The tables are named here, not read from the models: a migration describes the schema as
it was. A parameter table created by a later migration adds its own triggers there.
"""

from django.db import migrations, models

TABLES = (
    "params_baselimit",
    "params_rate",
    "params_injuryrate",
    "params_retirementrule",
    "params_setting",
    "params_minimumwage",
    "params_declarationwindow",
    "params_minimumcontribution",
    "params_pensionbase",
    "params_payoutmonths",
    "params_accountinterest",
)

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION params_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO params_paramsversion (id, token) VALUES (1, replace(gen_random_uuid()::text, '-', ''))
    ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END
$$
"""

# SQLite: no ON CONFLICT in the body. An outer INSERT OR IGNORE (bulk_create with
# ignore_conflicts) would override it and keep the old token; an UPDATE, then an INSERT of
# the row only if it is missing, never conflicts.
SQLITE_BODY = (
    "UPDATE params_paramsversion SET token = lower(hex(randomblob(16))) WHERE id = 1; "
    "INSERT INTO params_paramsversion (id, token) SELECT 1, lower(hex(randomblob(16))) "
    "WHERE NOT EXISTS (SELECT 1 FROM params_paramsversion WHERE id = 1);"
)


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_FUNCTION)
            for table in TABLES:
                cursor.execute(
                    f"CREATE TRIGGER params_version_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION params_version_bump()"
                )
            cursor.execute(
                "INSERT INTO params_paramsversion (id, token) VALUES (1, replace(gen_random_uuid()::text, '-', ''))"
            )
        elif connection.vendor == "sqlite":
            for table in TABLES:
                for operation in ("INSERT", "UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER {table}_version_{operation.lower()} AFTER {operation} ON {table} "
                        f"BEGIN {SQLITE_BODY} END"
                    )
            cursor.execute("INSERT INTO params_paramsversion (id, token) VALUES (1, lower(hex(randomblob(16))))")
        else:
            raise NotImplementedError(f"parameter version triggers for {connection.vendor}")


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS params_version_bump ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS params_version_bump()")
        elif connection.vendor == "sqlite":
            for table in TABLES:
                for operation in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {table}_version_{operation}")


class Migration(migrations.Migration):
    dependencies = [
        ("params", "0010_reader_settings"),
    ]

    operations = [
        migrations.CreateModel(
            name="ParamsVersion",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("token", models.CharField(max_length=32)),
            ],
            options={
                "verbose_name": "参数版本",
                "verbose_name_plural": "参数版本",
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
