"""In-memory implementations of cwsync's ports (`cwsync.ports`), shared by the unit tests.

Each fake keeps what it was asked in `calls`, so a test can assert the requests a step
makes as well as its outcome. `FakeStore` keeps items as the real store would see them:
every value goes through the store's own DynamoDB conversion, so numbers come back as
`Decimal` exactly as from DynamoDB.
"""
from fakes.connectwise import FakeConnectWise
from fakes.marketplace import FakeMarketplace
from fakes.notifier import FakeNotifier
from fakes.store import FakeStore
from fakes.workflow import FakeWorkflow

__all__ = ["FakeConnectWise", "FakeMarketplace", "FakeNotifier", "FakeStore", "FakeWorkflow"]
