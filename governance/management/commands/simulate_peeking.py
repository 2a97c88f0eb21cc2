"""How often monthly peeking lets a pilot with no real effect through, per method and design."""

from __future__ import annotations

from dataclasses import replace

from django.core.management.base import BaseCommand, CommandError

from governance.rules.peeking import DESIGNS, PeekingReport, PeekingScenario, rate_upper_bound, simulate

CUSTOM = ("traffic", "baseline_rate", "treatment_per_control", "first_look")


class Command(BaseCommand):
    help = (
        "Simulate pilots with monthly looks: the false-Go rate of the naive monthly re-test and of "
        "the always-valid test on pilots with no effect, and how soon a real lift is detected, in "
        "each design the README's promise is checked on (or in one design of your own)."
    )

    def add_arguments(self, parser) -> None:
        defaults = PeekingScenario()
        parser.add_argument(
            "--pilots", type=int, default=defaults.pilots, help="pilots per design and effect"
        )
        parser.add_argument("--looks", type=int, default=defaults.looks, help="monthly looks per pilot")
        parser.add_argument(
            "--design", choices=[*DESIGNS, "all"], default="all", help="one of the checked designs, or all"
        )
        parser.add_argument(
            "--traffic", type=int, help="control visitors per month (a design of your own, from balanced)"
        )
        parser.add_argument("--baseline-rate", type=float)
        parser.add_argument(
            "--treatment-per-control", type=int, help="treated visitors per control visitor, e.g. 50"
        )
        parser.add_argument(
            "--first-look", type=float, help="how far into the first month the first look comes (0 to 1]"
        )
        parser.add_argument(
            "--real-lift", type=float, default=0.30, help="relative lift of the pilots with a real effect"
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)

    def handle(self, *args, **options) -> None:
        designs = self._designs(options)
        alpha = PeekingScenario().alpha
        self.stdout.write(
            f"{options['pilots']} pilots per design and effect, {options['looks']} monthly looks, "
            f"alpha {alpha:.0%}"
        )
        held = []
        for name, design in designs.items():
            null = simulate(replace(design, treatment_rate=design.control_rate))
            upper = rate_upper_bound(null.always_valid_go, null.scenario.pilots)
            held.append(null.always_valid_rate <= alpha)
            self.stdout.write(f"\n{name}: {design.describe()}")
            self.stdout.write("  No real effect (every Go is a false Go):")
            self.stdout.write(
                f"    naive monthly re-test: p < {alpha:g} in either direction at some look "
                f"{null.fixed_horizon_any_direction / null.scenario.pilots:.1%}, "
                f"false Go {null.fixed_horizon_rate:.1%}"
            )
            self.stdout.write(
                f"    always-valid test: false Go {null.always_valid_rate:.1%} "
                f"({null.always_valid_go} of {null.scenario.pilots}; 95% upper bound {upper:.1%})"
            )
            real = simulate(
                replace(
                    design,
                    seed=design.seed + 1,
                    treatment_rate=design.control_rate * (1 + options["real_lift"]),
                )
            )
            self.stdout.write(f"  Real {options['real_lift']:+.0%} relative lift:")
            for label, valid in (("always-valid test", True), ("naive monthly re-test", False)):
                self.stdout.write(f"    {label}: {self._detection(real, valid)}")
        verdict = "within" if all(held) else "ABOVE"
        self.stdout.write(
            f"\nAlways-valid false-Go rate {verdict} {alpha:.0%} in {sum(held)} of {len(held)} design(s)."
        )

    def _designs(self, options) -> dict[str, PeekingScenario]:
        if options["pilots"] < 1 or options["looks"] < 1:
            raise CommandError("--pilots and --looks must be positive.")
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
            designs = {"your design": replace(DESIGNS["balanced"], **common, **custom)}
        for design in designs.values():
            if design.visitors_per_arm_per_month < 1 or design.treatment_per_control < 1:
                raise CommandError("--traffic and --treatment-per-control must be positive.")
            if not 0 < design.first_look_fraction <= 1:
                raise CommandError("--first-look must lie in (0, 1].")
            if (
                not 0 < design.control_rate < 1
                or not 0 < design.control_rate * (1 + options["real_lift"]) < 1
            ):
                raise CommandError("Rates must stay between 0 and 1.")
        return designs

    @staticmethod
    def _detection(report: PeekingReport, always_valid: bool) -> str:
        looks = report.scenario.looks
        median = report.median_detection_month(always_valid=always_valid)
        return (
            f"detected within 6 months in {report.detected_within(6, always_valid=always_valid):.1%} "
            f"of pilots, within {looks} in {report.detected_within(looks, always_valid=always_valid):.1%}; "
            f"median month {median if median is not None else 'not reached'}"
        )
