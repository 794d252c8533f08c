"""What the steps need, built on first use from settings and secrets; tests pass their own.

A Lambda keeps one `Dependencies` per container (`Dependencies.shared()`), so clients,
secrets and the table handle are built once per cold start, and only the ones a function
actually touches are built at all (a function never reads a secret it has no right to).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping

from cwsync.config import Settings

if TYPE_CHECKING:  # the ports are Protocols: for readers and type checkers, nothing at run time
    from cwsync.ports import ConnectWisePort, MarketplacePort, NotifierPort, StorePort, WorkflowPort

_UNSET = object()


class Dependencies:
    """`settings`, `store`, `connectwise`, `marketplace`, `notifier`, `workflow`,
    `stepfunctions` (task tokens), `signing_key`, and `now()`."""

    _shared: Dependencies | None = None

    def __init__(self, settings: Settings, *, store: StorePort | None = None,
                 connectwise: ConnectWisePort | None = None, marketplace: MarketplacePort | None = None,
                 notifier: NotifierPort | None = None, workflow: WorkflowPort | None = None,
                 stepfunctions: Any = None, signing_key: bytes | None = None, check_trigger: Any = None,
                 reconcile_trigger: Any = None, clock: Callable[[], datetime] | None = None):
        self.settings = settings
        self._store = store
        self._connectwise = connectwise
        self._marketplace = marketplace
        self._notifier = notifier
        self._workflow = workflow
        self._stepfunctions = stepfunctions
        self._signing_key = signing_key
        self._check_trigger = check_trigger
        self._reconcile_trigger = reconcile_trigger
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Dependencies:
        return cls(Settings.from_environment(environ), **overrides)

    @classmethod
    def shared(cls) -> Dependencies:
        """One instance per Lambda container (built on the first invocation, not at import)."""
        if cls._shared is None:
            cls._shared = cls.from_environment()
        return cls._shared

    @classmethod
    def reset_shared(cls) -> None:
        cls._shared = None

    @classmethod
    def swap_shared(cls, deps: Dependencies | None) -> Dependencies | None:
        """Make `deps` the per-container instance; returns the one it replaces. (A runtime that
        runs several functions in one process keeps one instance per function this way.)"""
        previous, cls._shared = cls._shared, deps
        return previous

    def now(self) -> datetime:
        return self._clock()

    # --- built on first use --------------------------------------------------------------
    @property
    def store(self) -> StorePort:
        if self._store is None:
            from cwsync.adapters.store import Store

            self._store = Store(self.settings.table_name)
        return self._store

    @property
    def connectwise(self) -> ConnectWisePort:
        if self._connectwise is None:
            from cwsync.adapters.connectwise import ConnectWiseClient
            from cwsync.config import connectwise_secret

            self._connectwise = ConnectWiseClient.from_secret(connectwise_secret(self.settings),
                                                              limiter=self.connectwise_rate_limit())
        return self._connectwise

    def connectwise_rate_limit(self):
        """The request budget every execution shares (None when the setting turns it off)."""
        per_minute = self.settings.connectwise_requests_per_minute
        if not per_minute:
            return None
        from cwsync.adapters.rate_limit import SharedRateLimit

        return SharedRateLimit(self.store.client, self.settings.table_name, per_minute)

    @property
    def marketplace(self) -> MarketplacePort:
        if self._marketplace is None:
            from cwsync.adapters.marketplace import MarketplaceClient
            from cwsync.config import marketplace_secret

            self._marketplace = MarketplaceClient.from_secret(
                marketplace_secret(self.settings), pool_size=max(10, self.settings.check_concurrency))
        return self._marketplace

    @property
    def notifier(self) -> NotifierPort:
        if self._notifier is None:
            from cwsync.adapters.notify import Notifier

            self._notifier = Notifier(self.settings.topic_arn, webhook_url=self.settings.webhook_url)
        return self._notifier

    @property
    def workflow(self) -> WorkflowPort:
        if self._workflow is None:
            from cwsync.adapters.stepfunctions import SyncTaskWorkflow

            self._workflow = SyncTaskWorkflow(self.settings.need("state_machine_arn"))
        return self._workflow

    @property
    def check_trigger(self):
        """Queues a CheckChanges run (`invoke_async(payload)`), for the dashboard's button."""
        if self._check_trigger is None:
            from cwsync.adapters.functions import FunctionInvoker

            self._check_trigger = FunctionInvoker(self.settings.need("check_changes_function"))
        return self._check_trigger

    @property
    def reconcile_trigger(self):
        """Queues a Reconcile run (`invoke_async(payload)`), for the dashboard's Reconcile now button."""
        if self._reconcile_trigger is None:
            from cwsync.adapters.functions import FunctionInvoker

            self._reconcile_trigger = FunctionInvoker(self.settings.need("reconcile_function"))
        return self._reconcile_trigger

    @property
    def stepfunctions(self):
        """The Step Functions client that resumes a waiting task (SendTaskSuccess/Failure)."""
        if self._stepfunctions is None:
            from cwsync.adapters.stepfunctions import stepfunctions_client

            self._stepfunctions = stepfunctions_client()
        return self._stepfunctions

    @property
    def signing_key(self) -> bytes:
        """Read through Powertools' cache each time, so a rotated key is picked up after max_age."""
        if self._signing_key is not None:
            return self._signing_key
        from cwsync.config import signing_key

        return signing_key(self.settings)
