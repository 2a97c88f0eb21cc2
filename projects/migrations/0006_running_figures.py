"""Running figures per initiative and the latest measurement per KPI, kept by database triggers."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Hand-written triggers, for SQLite and PostgreSQL alike: the trigger packages for Django
# (django-pgtrigger and others) cover PostgreSQL only. Each figure is recomputed from the rows it
# sums (an index lookup per initiative or KPI) rather than adjusted by the changed amount, so an
# update, a delete or a row moved between initiatives leaves it right, and SQLite's floating-point
# sums never accumulate drift. As this migration wrote them; a later change is a new migration.

FIGURES = "projects_initiativefigures"
LATEST = "projects_latestmeasurement"
NEW_FIGURES = (
    f"INSERT INTO {FIGURES} (initiative_id, stage, budget, currency, cost, benefit, kpis_missing_target) "
)
NEW_LATEST = f"INSERT INTO {LATEST} (kpi_id, period, value, misses_target) "


def money_of(initiatives: str) -> list[str]:
    """Recount the costs and benefits of the initiatives in `initiatives`."""

    def total(kind: str) -> str:
        return (
            f"COALESCE((SELECT SUM(e.amount) FROM projects_financialentry e "
            f"WHERE e.initiative_id = {FIGURES}.initiative_id AND e.kind = '{kind}'), 0)"
        )

    return [
        f"UPDATE {FIGURES} SET cost = {total('cost')}, benefit = {total('benefit')} "
        f"WHERE initiative_id IN ({initiatives})"
    ]


def misses_of(kpis: str) -> list[str]:
    """Judge again whether the KPIs in `kpis` miss their target, and recount their initiatives.

    The same rule as `projects.vocabulary.MISSES_TARGET_LOOKUP`: below the target where higher
    is better, above it where lower is better; only primary KPIs count.
    """
    value = f"{LATEST}.value"
    misses = (
        f"k.is_primary AND {value} IS NOT NULL AND ((k.direction = 'increase' AND {value} < k.target) "
        f"OR (k.direction = 'decrease' AND {value} > k.target))"
    )
    return [
        f"UPDATE {LATEST} SET misses_target = "
        f"COALESCE((SELECT {misses} FROM projects_kpi k WHERE k.id = {LATEST}.kpi_id), FALSE) "
        f"WHERE kpi_id IN ({kpis})",
        *missing_in(f"SELECT initiative_id FROM projects_kpi WHERE id IN ({kpis})"),
    ]


def missing_in(initiatives: str) -> list[str]:
    return [
        f"UPDATE {FIGURES} SET kpis_missing_target = (SELECT COUNT(*) FROM {LATEST} l "
        f"JOIN projects_kpi k ON k.id = l.kpi_id WHERE k.initiative_id = {FIGURES}.initiative_id "
        f"AND l.misses_target) WHERE initiative_id IN ({initiatives})"
    ]


def latest_of(kpis: str) -> list[str]:
    """Read again the latest measurement of the KPIs in `kpis`, then judge them."""

    def latest(column: str) -> str:
        return (
            f"(SELECT m.{column} FROM projects_kpimeasurement m WHERE m.kpi_id = {LATEST}.kpi_id "
            "ORDER BY m.period DESC LIMIT 1)"
        )

    return [
        f"UPDATE {LATEST} SET period = {latest('period')}, value = {latest('value')} WHERE kpi_id IN ({kpis})",
        *misses_of(kpis),
    ]


def case_of(initiative: str, *, budget: str, currency: str) -> str:
    return f"UPDATE {FIGURES} SET budget = {budget}, currency = {currency} WHERE initiative_id = {initiative}"


BACKFILL = [
    NEW_FIGURES
    + "SELECT i.id, i.stage, COALESCE(b.budget, 0), b.currency, 0, 0, 0 FROM projects_initiative i "
    "LEFT JOIN projects_businesscase b ON b.initiative_id = i.id",
    *money_of(f"SELECT initiative_id FROM {FIGURES}"),
    NEW_LATEST + "SELECT id, NULL, NULL, FALSE FROM projects_kpi",
    *latest_of(f"SELECT kpi_id FROM {LATEST}"),
]

# The KPI columns that decide whether its latest value misses.
JUDGED = "is_primary, direction, target, initiative_id"


def sqlite_trigger(name: str, event: str, table: str, statements: list[str], when: str = "") -> str:
    condition = f" WHEN {when}" if when else ""
    body = " ".join(f"{statement};" for statement in statements)
    return f"CREATE TRIGGER {name} AFTER {event} ON {table}{condition} BEGIN {body} END"


SQLITE_TRIGGERS = [
    sqlite_trigger(
        "figures_initiative_insert",
        "INSERT",
        "projects_initiative",
        [NEW_FIGURES + "VALUES (NEW.id, NEW.stage, 0, NULL, 0, 0, 0)"],
    ),
    sqlite_trigger(
        "figures_initiative_stage",
        "UPDATE OF stage",
        "projects_initiative",
        [f"UPDATE {FIGURES} SET stage = NEW.stage WHERE initiative_id = NEW.id"],
        when="NEW.stage IS NOT OLD.stage",
    ),
    sqlite_trigger(
        "figures_money_insert", "INSERT", "projects_financialentry", money_of("NEW.initiative_id")
    ),
    sqlite_trigger(
        "figures_money_update",
        "UPDATE",
        "projects_financialentry",
        money_of("OLD.initiative_id, NEW.initiative_id"),
    ),
    sqlite_trigger(
        "figures_money_delete", "DELETE", "projects_financialentry", money_of("OLD.initiative_id")
    ),
    sqlite_trigger(
        "figures_case_insert",
        "INSERT",
        "projects_businesscase",
        [case_of("NEW.initiative_id", budget="NEW.budget", currency="NEW.currency")],
    ),
    sqlite_trigger(
        "figures_case_update",
        "UPDATE",
        "projects_businesscase",
        [
            case_of("OLD.initiative_id", budget="0", currency="NULL"),
            case_of("NEW.initiative_id", budget="NEW.budget", currency="NEW.currency"),
        ],
    ),
    sqlite_trigger(
        "figures_case_delete",
        "DELETE",
        "projects_businesscase",
        [case_of("OLD.initiative_id", budget="0", currency="NULL")],
    ),
    sqlite_trigger(
        "latest_kpi_insert", "INSERT", "projects_kpi", [NEW_LATEST + "VALUES (NEW.id, NULL, NULL, 0)"]
    ),
    sqlite_trigger(
        "latest_kpi_update",
        f"UPDATE OF {JUDGED}",
        "projects_kpi",
        [*misses_of("NEW.id"), *missing_in("OLD.initiative_id")],
    ),
    sqlite_trigger("latest_kpi_delete", "DELETE", "projects_kpi", missing_in("OLD.initiative_id")),
    sqlite_trigger("latest_measurement_insert", "INSERT", "projects_kpimeasurement", latest_of("NEW.kpi_id")),
    sqlite_trigger(
        "latest_measurement_update", "UPDATE", "projects_kpimeasurement", latest_of("OLD.kpi_id, NEW.kpi_id")
    ),
    sqlite_trigger("latest_measurement_delete", "DELETE", "projects_kpimeasurement", latest_of("OLD.kpi_id")),
]
SQLITE_TRIGGER_NAMES = [statement.split()[2] for statement in SQLITE_TRIGGERS]


def plpgsql(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body} RETURN NULL; END; $$ "
        "LANGUAGE plpgsql"
    )


def run(statements: list[str]) -> str:
    return " ".join(f"{statement};" for statement in statements)


def statement_triggers(function: str, table: str, column: str, recount) -> list[str]:
    """A function and its three statement-level triggers, recounting the changed rows' `column`.

    Statement-level with transition tables, so that a bulk insert of thousands of rows recounts
    each initiative or KPI once, not once per row.
    """
    changed = {
        "INSERT": f"SELECT {column} FROM new_rows",
        "DELETE": f"SELECT {column} FROM old_rows",
        "UPDATE": f"SELECT {column} FROM new_rows UNION SELECT {column} FROM old_rows",
    }
    body = (
        f"IF TG_OP = 'INSERT' THEN {run(recount(changed['INSERT']))} "
        f"ELSIF TG_OP = 'DELETE' THEN {run(recount(changed['DELETE']))} "
        f"ELSE {run(recount(changed['UPDATE']))} END IF;"
    )
    referencing = {
        "INSERT": "NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    }
    statements = [plpgsql(function, body)]
    for event, tables in referencing.items():
        trigger = f"{function}_{event.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
            f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    return statements


def row_trigger(function: str, table: str, events: str, body: str) -> list[str]:
    return [
        plpgsql(function, body),
        f"DROP TRIGGER IF EXISTS {function} ON {table}",
        f"CREATE TRIGGER {function} AFTER {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


POSTGRES_INSTALL = [
    *row_trigger(
        "figures_initiative",
        "projects_initiative",
        "INSERT OR UPDATE OF stage",
        f"IF TG_OP = 'INSERT' THEN {NEW_FIGURES}VALUES (NEW.id, NEW.stage, 0, NULL, 0, 0, 0); "
        f"ELSIF NEW.stage IS DISTINCT FROM OLD.stage THEN "
        f"UPDATE {FIGURES} SET stage = NEW.stage WHERE initiative_id = NEW.id; END IF;",
    ),
    *statement_triggers("figures_recount_money", "projects_financialentry", "initiative_id", money_of),
    *row_trigger(
        "figures_business_case",
        "projects_businesscase",
        "INSERT OR UPDATE OR DELETE",
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {case_of('OLD.initiative_id', budget='0', currency='NULL')}; "
        "END IF; IF TG_OP IN ('INSERT', 'UPDATE') THEN "
        f"{case_of('NEW.initiative_id', budget='NEW.budget', currency='NEW.currency')}; END IF;",
    ),
    *row_trigger(
        "latest_kpi",
        "projects_kpi",
        f"INSERT OR UPDATE OF {JUDGED} OR DELETE",
        f"IF TG_OP = 'INSERT' THEN {NEW_LATEST}VALUES (NEW.id, NULL, NULL, FALSE); "
        f"ELSIF TG_OP = 'UPDATE' THEN {run([*misses_of('NEW.id'), *missing_in('OLD.initiative_id')])} "
        f"ELSE {run(missing_in('OLD.initiative_id'))} END IF;",
    ),
    *statement_triggers("latest_read_again", "projects_kpimeasurement", "kpi_id", latest_of),
]
POSTGRES_FUNCTIONS = [
    "figures_initiative",
    "figures_recount_money",
    "figures_business_case",
    "latest_kpi",
    "latest_read_again",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = SQLITE_TRIGGERS
    elif vendor == "postgresql":
        statements = POSTGRES_INSTALL
    else:
        raise NotImplementedError(f"No running figures for {vendor}.")
    with schema_editor.connection.cursor() as cursor:
        for statement in [*statements, *BACKFILL]:
            cursor.execute(statement)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        statements = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGER_NAMES]
    else:
        statements = [f"DROP FUNCTION IF EXISTS {name}() CASCADE" for name in POSTGRES_FUNCTIONS]
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0005_names_and_currency"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="InitiativeFigures",
            fields=[
                (
                    "initiative",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="figures",
                        serialize=False,
                        to="projects.initiative",
                        verbose_name="initiative",
                    ),
                ),
                (
                    "stage",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("proposal", "Proposal"),
                            ("pilot", "Pilot"),
                            ("scale", "Scale"),
                            ("retired", "Retired"),
                            ("rejected", "Rejected"),
                        ],
                        max_length=16,
                        verbose_name="stage",
                    ),
                ),
                (
                    "budget",
                    models.DecimalField(decimal_places=2, default=0, max_digits=14, verbose_name="budget"),
                ),
                ("currency", models.CharField(max_length=3, null=True, verbose_name="currency")),
                (
                    "cost",
                    models.DecimalField(decimal_places=2, default=0, max_digits=16, verbose_name="cost"),
                ),
                (
                    "benefit",
                    models.DecimalField(decimal_places=2, default=0, max_digits=16, verbose_name="benefit"),
                ),
                (
                    "kpis_missing_target",
                    models.PositiveIntegerField(default=0, verbose_name="KPIs missing target"),
                ),
            ],
            options={
                "verbose_name": "initiative figures",
                "verbose_name_plural": "initiative figures",
            },
        ),
        migrations.CreateModel(
            name="LatestMeasurement",
            fields=[
                (
                    "kpi",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="latest",
                        serialize=False,
                        to="projects.kpi",
                        verbose_name="kpi",
                    ),
                ),
                ("period", models.DateField(null=True, verbose_name="period")),
                (
                    "value",
                    models.DecimalField(decimal_places=6, max_digits=20, null=True, verbose_name="value"),
                ),
                ("misses_target", models.BooleanField(default=False, verbose_name="misses target")),
            ],
            options={
                "verbose_name": "latest measurement",
                "verbose_name_plural": "latest measurements",
            },
        ),
        migrations.AddIndex(
            model_name="initiative",
            index=models.Index(fields=["stage", "pilot_deadline"], name="initiative_stage_deadline"),
        ),
        migrations.AddIndex(
            model_name="initiativefigures",
            index=models.Index(fields=["cost", "initiative"], name="figures_cost"),
        ),
        migrations.AddIndex(
            model_name="latestmeasurement",
            index=models.Index(
                condition=models.Q(("misses_target", True)),
                fields=["period", "kpi"],
                name="latest_misses_by_period",
            ),
        ),
        migrations.RunPython(install, remove),
    ]
