import dataclasses
import time
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Provider, Service
from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer
from catalog.sync import provider_sync_services


class Command(BaseCommand):
    help = (
        "Benchmark: imports N simulated services, then re-syncs after a price change on 10% of them. "
        "Prints time and queries. Uses the configured database; cleans up after itself."
    )

    def add_arguments(self, parser):
        parser.add_argument("--services", type=int, default=10_000)

    def handle(self, *args, services, **options):
        simulator = Simulator(SimulatorConfig(key="bench-key", services=services, seed=1))
        server = SimulatorServer(simulator).start()
        provider = Provider.objects.create(
            name=f"bench-sync-{time.time_ns()}", api_url=server.url, api_key="bench-key"
        )
        try:
            self.stdout.write(f"database: {connection.vendor}, services: {services}")
            self.measure("first sync (all new)", provider)
            offered = simulator.services
            simulator.set_services(
                [
                    dataclasses.replace(s, rate=s.rate + Decimal("0.01")) if i % 10 == 0 else s
                    for i, s in enumerate(offered)
                ]
            )
            self.measure("re-sync, 10% repriced", provider)
            self.measure("re-sync, no change", provider)
        finally:
            server.stop()
            Service.objects.filter(provider=provider).delete()
            provider.delete()

    def measure(self, label, provider):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = provider_sync_services(provider=provider, enable_new=True)
            elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{label:<24} {elapsed:6.2f} s  {len(queries):4d} queries  ({result})  "
            f"target: a bounded number of queries, not one per service"
        )
