"""ConnectWisePort in memory: companies, catalog items, agreements and their additions.

`calls` names each read the way the request-economy tests count them ("companies",
"catalog", "agreements"). Writes are kept in `written`.
"""
from __future__ import annotations

from cwsync.adapters import cw_records
from cwsync.errors import NotFound


class FakeConnectWise:
    def __init__(self, companies=(), catalog=(), agreements=(), additions=()):
        self.companies_list, self.catalog, self.agreement_list = list(companies), list(catalog), list(agreements)
        self.addition_list = list(additions)
        self.calls: list[str] = []
        self.written: list[tuple[str, dict]] = []

    # --- what the steps read ----------------------------------------------------------------
    def companies(self, *args, **kwargs):
        self.calls.append("companies")
        return [cw_records.company(c) for c in self.companies_list]  # typed, as the real adapter answers

    def company(self, company_id):
        self.calls.append("company")
        found = next((c for c in self.companies_list if str(c["id"]) == str(company_id)), None)
        if found is None:
            raise NotFound(f"no company {company_id}")
        return cw_records.company(found)

    def catalog_items(self, *args, **kwargs):
        self.calls.append("catalog")
        return [cw_records.catalog_item(i) for i in self.catalog]

    def catalog_items_by_id(self, item_ids):
        self.calls.append("catalog")
        wanted = {str(i) for i in item_ids}
        return [cw_records.catalog_item(item) for item in self.catalog if str(item["id"]) in wanted]

    def company_agreements(self, company_id):
        self.calls.append("agreements")
        return [cw_records.agreement(a) for a in self.agreement_list
                if str(a["company"]["id"]) == str(company_id)]  # typed, as the real adapter answers

    def agreement_for_rules(self, agreement_id):
        self.calls.append("agreement")
        int(agreement_id)  # as the adapter: not a ConnectWise id → ValueError
        found = next((a for a in self.agreement_list if str(a["id"]) == str(agreement_id)), None)
        if found is None:
            raise NotFound(f"no agreement {agreement_id}")
        return cw_records.agreement(found)

    def subscription_additions(self, agreement_id, tag_prefixes, product_ids=()):
        self.calls.append("additions")
        prefixes, ids = [p for p in tag_prefixes if p], {str(i) for i in product_ids}
        return [cw_records.addition(a) for a in self.addition_list
                if not prefixes or any(str(a.get("serialNumber", "")).startswith(p) for p in prefixes)
                or any(str(a.get("serialNumber", "")) == p[:-1] for p in prefixes)
                or str((a.get("product") or {}).get("id")) in ids]

    # --- what the customer and product pages read, and the companies the steps create -------
    references = {"company": {"type": [{"id": 1, "name": "Client", "defaultFlag": True}],
                              "status": [{"id": 1, "name": "Active", "defaultFlag": True},
                                         {"id": 2, "name": "Inactive"}],
                              "country": [{"id": 1, "name": "United States", "countryCode": "US"}]},
                  "catalog": {"category": [{"id": 5, "name": "Software", "defaultFlag": True}],
                              "subcategory": [{"id": 11, "name": "Cloud Licensing", "category": {"id": 5}}],
                              "type": [{"id": 3, "name": "Subscription", "defaultFlag": True}]}}

    def search_companies(self, text):
        self.calls.append("company search")
        wanted = str(text).casefold()
        return [cw_records.company(c) for c in self.companies_list if not c.get("deletedFlag")
                and (wanted in str(c.get("name", "")).casefold() or wanted in str(c.get("identifier", "")).casefold())]

    def find_company(self, identifier):
        self.calls.append("company")
        found = next((c for c in self.companies_list if c.get("identifier") == identifier), None)
        return cw_records.company(found) if found else None

    def create_company(self, body):
        company = {**body, "id": 700 + len(self.companies_list)}
        self.companies_list.append(company)
        self.written.append(("create_company", dict(body)))
        return cw_records.company(company)

    def company_references(self):
        self.calls.append("company references")
        return {k: list(v) for k, v in self.references["company"].items()}

    def catalog_references(self):
        self.calls.append("catalog references")
        return {k: list(v) for k, v in self.references["catalog"].items()}

    # --- what the applier reads and writes -------------------------------------------------
    def find_catalog_item(self, identifier):
        self.calls.append("catalog")
        found = next((i for i in self.catalog if i.get("identifier") == identifier), None)
        return cw_records.catalog_item(found) if found is not None else None

    def create_catalog_item(self, body):
        item = {**body, "id": 900 + len(self.catalog)}
        self.catalog.append(item)
        self.written.append(("create_catalog_item", dict(body)))
        return cw_records.catalog_item(item)
