"""How often monthly peeking lets a pilot with no real effect through, per method."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance.rules.peeking import PeekingScenario, simulate


class Command(BaseCommand):
    help = (
        "Simulate pilots with monthly looks: the false-Go rate of the naive monthly re-test and of "
        "the always-valid test on pilots with no effect, and how soon a real lift is detected."
    )

    def add_arguments(self, parser) -> None:
        defaults = PeekingScenario()
        parser.add_argument("--pilots", type=int, default=defaults.pilots)
        parser.add_argument("--looks", type=int, default=defaults.looks, help="monthly looks per pilot")
        parser.add_argument(
            "--traffic",
            type=int,
            default=defaults.visitors_per_arm_per_month,
            help="visitors per arm per month",
        )
        parser.add_argument("--baseline-rate", type=float, default=defaults.control_rate)
        parser.add_argument(
            "--real-lift", type=float, default=0.30, help="relative lift of the pilots with a real effect"
        )
        parser.add_argument("--seed", type=int, default=defaults.seed)

    def handle(self, *args, **options) -> None:
        if options["pilots"] < 1 or options["looks"] < 1 or options["traffic"] < 1:
            raise CommandError("--pilots, --looks and --traffic must be positive.")
        if (
            not 0 < options["baseline_rate"] < 1
            or not 0 < options["baseline_rate"] * (1 + options["real_lift"]) < 1
        ):
            raise CommandError("Rates must stay between 0 and 1.")
        common = dict(
            pilots=options["pilots"],
            looks=options["looks"],
            visitors_per_arm_per_month=options["traffic"],
            control_rate=options["baseline_rate"],
            claimed_relative_lift=options["real_lift"],
            seed=options["seed"],
        )
        self.stdout.write(
            f"{options['pilots']} pilots, {options['looks']} monthly looks, {options['traffic']:,} visitors "
            f"per arm per month, baseline rate {options['baseline_rate']:.1%}, alpha 5%"
        )
        null = simulate(PeekingScenario(**common, treatment_rate=options["baseline_rate"]))
        self.stdout.write("\nNo real effect (every Go is a false Go):")
        self.stdout.write(
            f"  naive monthly re-test, p < 0.05 in either direction at some look: "
            f"{null.fixed_horizon_any_direction / null.scenario.pilots:.1%}"
        )
        self.stdout.write(
            f"  naive monthly re-test, false Go (improvement significant at some look): "
            f"{null.fixed_horizon_rate:.1%}"
        )
        self.stdout.write(f"  always-valid test, false Go: {null.always_valid_rate:.1%}")

        real = simulate(
            PeekingScenario(
                **{**common, "seed": options["seed"] + 1},
                treatment_rate=options["baseline_rate"] * (1 + options["real_lift"]),
            )
        )
        self.stdout.write(f"\nReal {options['real_lift']:+.0%} relative lift:")
        for label, valid in (("always-valid test", True), ("naive monthly re-test", False)):
            median = real.median_detection_month(always_valid=valid)
            self.stdout.write(
                f"  {label}: detected within 6 months in {real.detected_within(6, always_valid=valid):.1%} "
                f"of pilots, within {options['looks']} in "
                f"{real.detected_within(options['looks'], always_valid=valid):.1%}; median month "
                f"{median if median is not None else 'not reached'}"
            )
