"""Serve a simulated upstream provider (SMM panel API v2) until Ctrl-C. Never touches the database."""

import logging

from django.core.management.base import BaseCommand, CommandError

from catalog.management.arguments import decimal_number
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer


class Command(BaseCommand):
    help = "Serve a simulated upstream SMM provider (API v2) for development and tests."
    requires_system_checks = []

    def add_arguments(self, parser):
        defaults = SimulatorConfig()
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--key", required=True, help="the API key clients must send")
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--currency", default=defaults.currency)
        parser.add_argument("--balance", type=decimal_number, default=defaults.balance)
        parser.add_argument(
            "--services", type=int, default=defaults.services, help="0: the built-in catalog; N: generate N"
        )
        parser.add_argument("--step-seconds", type=float, default=defaults.step_seconds)
        parser.add_argument("--partial-share", type=float, default=defaults.partial_share)
        parser.add_argument("--cancel-share", type=float, default=defaults.cancel_share)
        parser.add_argument("--refill-reject-share", type=float, default=defaults.refill_reject_share)
        parser.add_argument("--latency", type=float, default=defaults.latency)
        parser.add_argument("--quirks", action="store_true", help="answer with real providers' quirks")
        parser.add_argument(
            "--fault-rate", type=float, default=0.0, help="share of requests answered with a random fault"
        )
        parser.add_argument(
            "--faults",
            default=",".join(defaults.faults),
            help=f"faults to pick from, comma-separated (default: {','.join(defaults.faults)})",
        )
        parser.add_argument("--hang-seconds", type=float, default=defaults.hang_seconds)
        parser.add_argument("--expire-share", type=float, default=defaults.expire_share)
        parser.add_argument(
            "--dripfeed-shape",
            choices=["whole", "runs"],
            default=defaults.dripfeed_shape,
            help="how status answers a drip-feed: the whole order's remains, or the runs done (part 3)",
        )
        parser.add_argument(
            "--minute-seconds",
            type=float,
            default=defaults.minute_seconds,
            help="how long a minute of drip-feed interval lasts (0: intervals take no time)",
        )

    def handle(self, *args, **options):
        config = SimulatorConfig(
            key=options["key"],
            seed=options["seed"],
            currency=options["currency"],
            balance=options["balance"],
            services=options["services"],
            step_seconds=options["step_seconds"],
            partial_share=options["partial_share"],
            cancel_share=options["cancel_share"],
            refill_reject_share=options["refill_reject_share"],
            latency=options["latency"],
            quirks=options["quirks"],
            fault_rate=options["fault_rate"],
            faults=tuple(f.strip() for f in options["faults"].split(",") if f.strip()),
            hang_seconds=options["hang_seconds"],
            expire_share=options["expire_share"],
            dripfeed_shape=options["dripfeed_shape"],
            minute_seconds=options["minute_seconds"],
        )
        _ensure_request_log_is_shown()
        try:
            simulator = Simulator(config)
        except ValueError as error:
            raise CommandError(str(error)) from None
        try:
            server = SimulatorServer(simulator, host=options["host"], port=options["port"])
        except OSError as error:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {error}") from error
        self.stdout.write(f"Simulated provider ready at {server.url} (Ctrl-C to stop)")
        self.stdout.flush()
        server.serve_until_interrupted()


def _ensure_request_log_is_shown():
    """The per-request lines are INFO; show them even where the settings configure no logging."""
    simulator_logger = logging.getLogger("catalog.simulator")
    if not simulator_logger.hasHandlers():
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
