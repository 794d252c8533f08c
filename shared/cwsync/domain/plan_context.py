"""What a plan is made from: the plan settings and what ConnectWise already holds (`PlanContext`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping, Sequence, TypeVar

from cwsync.errors import ConfigurationError
from cwsync.domain.operations import check_tag_format
from cwsync.domain.records import AdditionRecord, CatalogItemRecord
from cwsync.vocabulary import (BILL_CUSTOMER_VALUES, DEFAULT_COST_FIELD, DEFAULT_PRICE_FIELD, DEFAULT_TAG_FORMAT,
                               MONEY_FIELDS, PRICE_SOURCES, PRORATIONS, BillCustomer, PriceSource, Proration)


T = TypeVar("T")


@dataclass(frozen=True)
class PlanSettings:
    price_source: str = PriceSource.MARKETPLACE  # marketplace: order charge lines; connectwise: addition, else catalog
    proration: str = Proration.MARKETPLACE       # marketplace: the plan charges the difference; connectwise: the agreement prorates
    cost_field: str = DEFAULT_COST_FIELD
    price_field: str = DEFAULT_PRICE_FIELD
    tag_format: str = DEFAULT_TAG_FORMAT
    bill_customer: str = BillCustomer.BILLABLE
    taxable: bool | None = None       # None: the catalog item's taxableFlag (True when unknown)

    def __post_init__(self) -> None:
        for name, allowed in (("price_source", PRICE_SOURCES),
                              ("proration", PRORATIONS),
                              ("bill_customer", BILL_CUSTOMER_VALUES),
                              ("cost_field", MONEY_FIELDS), ("price_field", MONEY_FIELDS)):
            if getattr(self, name) not in allowed:
                raise ConfigurationError(f"Setting {name}={getattr(self, name)!r}; expected one of {', '.join(allowed)}")
        check_tag_format(self.tag_format)


@dataclass(frozen=True)
class PlanContext:
    agreement: Mapping
    additions: Sequence[AdditionRecord] = ()
    settings: PlanSettings = field(default_factory=PlanSettings)
    now: datetime | None = None
    # The linked catalog item of each product, by MPN.
    catalog_items: Mapping[str, CatalogItemRecord] = field(default_factory=dict)
    # Products not in ConnectWise yet: the catalog item body to create first, by MPN
    # (see matching.propose_catalog_item).
    catalog_proposals: Mapping[str, Mapping] = field(default_factory=dict)

    def _by_mpn(self, table: Mapping[str, T], mpn: str) -> T | None:
        return next((v for k, v in table.items() if k.strip().casefold() == mpn.strip().casefold()), None)

    def catalog_item_for(self, mpn: str) -> CatalogItemRecord | None:
        return self._by_mpn(self.catalog_items, mpn)

    def proposal_for(self, mpn: str) -> Mapping | None:
        return self._by_mpn(self.catalog_proposals, mpn)
