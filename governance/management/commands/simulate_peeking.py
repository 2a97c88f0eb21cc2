"""How often monthly peeking lets a pilot with no real effect through, per method and design."""

from __future__ import annotations

from dataclasses import replace

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.commands import TranslatedCommand
from governance.rules.peeking import DESIGNS, PeekingReport, PeekingScenario, rate_upper_bound, simulate

CUSTOM = ("traffic", "baseline_rate", "treatment_per_control", "first_look")


class Command(TranslatedCommand):
    help = gettext_lazy(
        "Simulate pilots with monthly looks: the false-Go rate of the naive monthly re-test and of "
        "the always-valid test on pilots with no effect, and how soon a real lift is detected, in "
        "each design the README's promise is checked on (or in one design of your own)."
    )

    def add_arguments(self, parser) -> None:
        defaults = PeekingScenario()
        parser.add_argument(
            "--pilots", type=int, default=defaults.pilots, help=_("pilots per design and effect")
        )
        parser.add_argument("--looks", type=int, default=defaults.looks, help=_("monthly looks per pilot"))
        parser.add_argument(
            "--design",
            choices=[*DESIGNS, "all"],
            default="all",
            help=_("one of the checked designs, or all"),
        )
        parser.add_argument(
            "--traffic", type=int, help=_("control visitors per month (a design of your own, from balanced)")
        )
        parser.add_argument("--baseline-rate", type=float)
        parser.add_argument(
            "--treatment-per-control", type=int, help=_("treated visitors per control visitor, e.g. 50")
        )
        parser.add_argument(
            "--first-look", type=float, help=_("how far into the first month the first look comes (0 to 1]")
        )
        parser.add_argument(
            "--real-lift", type=float, default=0.30, help=_("relative lift of the pilots with a real effect")
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)

    def handle(self, *args, **options) -> None:
        designs = self._designs(options)
        alpha = PeekingScenario().alpha
        looks = ngettext("%(count)s monthly look", "%(count)s monthly looks", options["looks"]) % {
            "count": options["looks"]
        }
        self.stdout.write(
            ngettext(
                # Translators: %(looks)s is a counted phrase, e.g. "12 monthly looks"; %(alpha)s is a
                # percentage, e.g. 5%.
                "%(pilots)s pilot per design and effect, %(looks)s, alpha %(alpha)s",
                "%(pilots)s pilots per design and effect, %(looks)s, alpha %(alpha)s",
                options["pilots"],
            )
            % {"pilots": options["pilots"], "looks": looks, "alpha": f"{alpha:.0%}"}
        )
        held = []
        for name, design in designs.items():
            null = simulate(replace(design, treatment_rate=design.control_rate))
            upper = rate_upper_bound(null.always_valid_go, null.scenario.pilots)
            held.append(null.always_valid_rate <= alpha)
            self.stdout.write(f"\n{name}: {design.describe()}")
            self.stdout.write("  " + _("No real effect (every Go is a false Go):"))
            self.stdout.write(
                "    "
                + _(
                    # Translators: %(alpha)s is a significance level, e.g. 0.05; %(any)s and %(false_go)s
                    # are percentages.
                    "naive monthly re-test: p < %(alpha)s in either direction at some look %(any)s, "
                    "false Go %(false_go)s"
                )
                % {
                    "alpha": f"{alpha:g}",
                    "any": f"{null.fixed_horizon_any_direction / null.scenario.pilots:.1%}",
                    "false_go": f"{null.fixed_horizon_rate:.1%}",
                }
            )
            self.stdout.write(
                "    "
                # Translators: %(rate)s and %(upper)s are percentages; %(go)s of %(pilots)s counts pilots.
                + _("always-valid test: false Go %(rate)s (%(go)s of %(pilots)s; 95%% upper bound %(upper)s)")
                % {
                    "rate": f"{null.always_valid_rate:.1%}",
                    "go": null.always_valid_go,
                    "pilots": null.scenario.pilots,
                    "upper": f"{upper:.1%}",
                }
            )
            real = simulate(
                replace(
                    design,
                    seed=design.seed + 1,
                    treatment_rate=design.control_rate * (1 + options["real_lift"]),
                )
            )
            self.stdout.write(
                # Translators: %(lift)s is a signed percentage, e.g. +30%.
                "  " + _("Real %(lift)s relative lift:") % {"lift": f"{options['real_lift']:+.0%}"}
            )
            for label, valid in ((_("always-valid test"), True), (_("naive monthly re-test"), False)):
                self.stdout.write(f"    {label}: {self._detection(real, valid)}")
        held_in = {"alpha": f"{alpha:.0%}", "held": sum(held), "designs": len(held)}
        if all(held):
            verdict = ngettext(
                # Translators: %(alpha)s is a percentage; %(held)s of %(designs)s counts designs.
                "Always-valid false-Go rate within %(alpha)s in %(held)s of %(designs)s design.",
                "Always-valid false-Go rate within %(alpha)s in %(held)s of %(designs)s designs.",
                len(held),
            )
        else:
            verdict = ngettext(
                # Translators: %(alpha)s is a percentage; %(held)s of %(designs)s counts designs.
                "Always-valid false-Go rate ABOVE %(alpha)s in %(held)s of %(designs)s design.",
                "Always-valid false-Go rate ABOVE %(alpha)s in %(held)s of %(designs)s designs.",
                len(held),
            )
        self.stdout.write("\n" + verdict % held_in)

    def _designs(self, options) -> dict[str, PeekingScenario]:
        if options["pilots"] < 1 or options["looks"] < 1:
            raise CommandError(_("--pilots and --looks must be positive."))
        common = {"pilots": options["pilots"], "looks": options["looks"], "seed": options["seed"]}
        common["claimed_relative_lift"] = options["real_lift"]
        if not any(options[name] is not None for name in CUSTOM):
            chosen = (
                DESIGNS if options["design"] == "all" else {options["design"]: DESIGNS[options["design"]]}
            )
            designs = {name: replace(design, **common) for name, design in chosen.items()}
        else:
            custom = {
                "visitors_per_arm_per_month": options["traffic"],
                "control_rate": options["baseline_rate"],
                "treatment_per_control": options["treatment_per_control"],
                "first_look_fraction": options["first_look"],
            }
            custom = {k: v for k, v in custom.items() if v is not None}
            designs = {_("your design"): replace(DESIGNS["balanced"], **common, **custom)}
        for design in designs.values():
            if design.visitors_per_arm_per_month < 1 or design.treatment_per_control < 1:
                raise CommandError(_("--traffic and --treatment-per-control must be positive."))
            if not 0 < design.first_look_fraction <= 1:
                raise CommandError(_("--first-look must lie in (0, 1]."))
            if (
                not 0 < design.control_rate < 1
                or not 0 < design.control_rate * (1 + options["real_lift"]) < 1
            ):
                raise CommandError(_("Rates must stay between 0 and 1."))
        return designs

    @staticmethod
    def _detection(report: PeekingReport, always_valid: bool) -> str:
        looks = report.scenario.looks
        median = report.median_detection_month(always_valid=always_valid)
        detected = {
            "six": f"{report.detected_within(6, always_valid=always_valid):.1%}",
            "looks": looks,
            "all": f"{report.detected_within(looks, always_valid=always_valid):.1%}",
        }
        if median is None:
            return (
                _(
                    # Translators: %(six)s and %(all)s are percentages; %(looks)s a number of months.
                    "detected within 6 months in %(six)s of pilots, within %(looks)s in %(all)s; median month not reached"
                )
                % detected
            )
        return _(
            # Translators: %(six)s and %(all)s are percentages; %(looks)s and %(median)s numbers of months.
            "detected within 6 months in %(six)s of pilots, within %(looks)s in %(all)s; median month %(median)s"
        ) % {**detected, "median": median}
