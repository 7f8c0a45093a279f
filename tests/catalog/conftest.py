import pytest

from catalog.simulator import Simulator, SimulatorConfig, SimulatorServer


@pytest.fixture
def make_server():
    """Simulators over real HTTP, made with the options a test asks for; all stopped after it."""
    servers = []

    def make(**options):
        server = SimulatorServer(Simulator(SimulatorConfig(**options))).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
