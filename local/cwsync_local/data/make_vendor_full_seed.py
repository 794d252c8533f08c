"""Write vendor_full_seed.json: the real-shaped data set with every field the vendor's newer models have.

    python local/cwsync_local/data/make_vendor_full_seed.py          # rewrite the file
    python local/cwsync_local/data/make_vendor_full_seed.py --check  # exit 1 if the file is stale

Built from the real-shaped data set (make_real_seed.py: the demo story, so every task type and
approval kind, USD and EUR, monthly and annual end the same way) and the record shapes of the
`ai-connor/connectwise` Go client (tests/contracts/cw_go_models.json, generated from ConnectWise's
API 2025.1 document). Every record gets every field its Go model has and the record lacks, at every
depth, including the fields newer than pyconnectwise's models:

- a nullable field is `null` on every other record and filled on the rest, so both are served
  (fields cwsync reads keep their values, so the story ends the same);
- references carry `_info` with their `*_href`, and `identifier`/`name` beyond what cwsync reads;
- every record has custom fields, one of each custom field type, some without a value;
- extra records no order touches hold every value of the enums cwsync could meet
  (billCustomer, billTime, billExpenses, billProducts, applicationUnits, applicationCycle,
  invoicingCycle, employeeComp*, periodType, agreementStatus, productClass, priceAttribute,
  billableOption, billingOptions, ...).

Fields whose value changes what cwsync must do (an addition's `cancelledDate` or `serialNumber`, an
agreement's `endDate` or `parentAgreement`, a company's deletion) stay as the real-shaped data set
has them: absent, or `null` where the API allows it.
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

from cwsync_local.data import make_demo_seed as demo
from cwsync_local.data import make_real_seed as real
from cwsync_local.simulators.connectwise.resources import BY_COLLECTION

OUTPUT = Path(__file__).with_name("vendor_full_seed.json")
GO_MODELS = Path(__file__).resolve().parents[3] / "tests" / "contracts" / "cw_go_models.json"
CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "connectwise-manage-3.0-subset.json"
CONTRACT_NAMES = {"FinanceCurrency": "Currency", "AgreementAdjustment": "Agreement.Adjustment"}
SITE = real.SITE
# Fields that change what cwsync must do, or that the service never sends back.
LEAVE = {
    "Addition": {"cancelledDate", "serialNumber"},
    "Agreement": {"endDate", "dateCancelled", "reasonCancelled", "parentAgreement", "cancelledFlag"},
    "Company": {"dateDeleted", "deletedBy", "deletedFlag"},
    "Contact": {"portalPassword", "ignoreDuplicates", "inactiveFlag"},
    "CatalogItem": {"inactiveFlag", "manufacturerPartNumber", "vendorSku"},  # what a product is matched by
}
# What cwsync (shared/cwsync/adapters/cw_records.py) or the simulator's computed fields read: kept as
# they are. Every other nullable number and flag a record has is `null` on every other record.
READ = {
    "Addition": {"quantity", "unitPrice", "unitCost", "taxableFlag", "billCustomer", "agreementId",
                 "sequenceNumber", "billedQuantity"},
    "Agreement": {"cancelledFlag", "noEndingDateFlag", "agreementStatus"},
    "CatalogItem": {"price", "cost", "inactiveFlag", "taxableFlag"},
    "Company": {"deletedFlag"},
    "FinanceCurrency": {"numberOfDecimals"},
}
# Text the story does not need, by field name; other strings are "<field> (vendor-full)", cut to fit.
TEXT = {"nextInvoiceDate": "2026-12-01T00:00:00Z", "anniversary": "2015-06-01T00:00:00Z",
        "birthDay": "1980-03-14T00:00:00Z", "website": "www.example.com", "mobileGuid": None,
        "typeXref": "NonInventoryPart"}
# (pyconnectwise's model has no `PhoneNumber` type and reads a value as text, a whole number or
# true/false, so the values stay inside what both generated models read.)
CUSTOM_VALUES = {"TextArea": "Renewal notes\nsecond line", "Button": None, "Currency": 125,
                 "Date": "2026-01-31T00:00:00Z", "Hyperlink": "https://portal.example.com", "IPAddress": "10.0.0.8",
                 "Checkbox": False, "Number": 12, "Percent": 8, "Text": "", "Password": None}


def documents() -> tuple[dict, dict]:
    go = json.loads(GO_MODELS.read_text(encoding="utf-8"))
    contract = json.loads(CONTRACT.read_text(encoding="utf-8"))["components"]["schemas"]
    return go, contract


class Filler:
    """Fills every absent Go-model field of a record (and of the objects inside it)."""

    def __init__(self, go: dict, contract: dict):
        self.models, self.contract = go["models"], contract
        self.counter = 0

    def schema(self, struct: str) -> dict:
        return self.contract[CONTRACT_NAMES.get(struct, struct)].get("properties", {})

    def fill(self, struct: str, record: dict, *, resolved: frozenset[str] = frozenset(), null_ok: bool) -> dict:
        properties = self.schema(struct)
        for name, shape in self.models[struct].items():
            if name not in properties or name in ("id",):
                continue  # fields the Go model has and the contract does not: none at present
            present = record.get(name)
            if isinstance(present, dict) and shape.get("model"):
                self.reference(shape["model"], name, present, fill_absent=name not in resolved)
                continue
            if isinstance(present, list) and shape["type"] == "array" and shape["items"].get("model"):
                for item in present:
                    if isinstance(item, dict) and shape["items"]["model"] != "CustomFieldValue":
                        self.reference(shape["items"]["model"], name, item, fill_absent=name not in resolved)
                continue
            if (null_ok and name in record and shape["nullable"] and shape["type"] in ("number", "integer", "boolean")
                    and name not in READ.get(struct, ()) and name not in LEAVE.get(struct, ())):
                record[name] = None
                continue
            if name in record or name in LEAVE.get(struct, ()) or name in resolved:
                if name not in record and shape["nullable"] and name not in resolved:
                    record[name] = None
                continue
            if shape["nullable"] and null_ok:
                record[name] = None
            elif name == "coreEntityCountryCode":
                record[name] = record.get("countryCode")
            else:
                value = self.value(struct, name, shape, properties[name])
                if value is not None:
                    record[name] = value
        return record

    def reference(self, struct: str, field: str, reference: dict, *, fill_absent: bool) -> None:
        """A reference object: `_info` with its link, and (when cwsync's seed does not resolve it) every field."""
        if "_info" in self.models[struct] and not isinstance(reference.get("_info"), dict):
            reference["_info"] = {f"{field}_href": f"{SITE}/{field}/{reference.get('id', 0)}"}
        if fill_absent:
            for name, shape in self.models[struct].items():
                if name not in reference and name in self.schema(struct) and not shape.get("model"):
                    value = self.value(struct, name, shape, self.schema(struct)[name])
                    if value is not None:
                        reference[name] = value

    def value(self, struct: str, name: str, shape: dict, schema: dict):
        self.counter += 1
        kind = shape["type"]
        if "enum" in schema:
            return schema["enum"][self.counter % len(schema["enum"])]
        if name in TEXT:
            return TEXT[name]
        if name == "coreEntityCountryCode":
            return None  # the record's own ISO code is filled in by `fill`
        if kind == "string":
            text = f"{name} (vendor-full)"
            return text[:schema.get("maxLength", len(text))]
        if kind == "integer":
            return 1
        if kind == "number":
            return 0.0
        if kind == "boolean":
            return False
        if kind == "date-time":
            return real.ENTERED
        if kind == "map":
            return {"lastUpdated": real.UPDATED, "updatedBy": "jthompson"}
        if kind == "array":
            inner = shape["items"]
            if inner.get("model") == "CustomFieldValue":
                return custom_fields(self.counter)
            if inner.get("model"):
                item = {"id": 1}
                self.reference(inner["model"], name, item, fill_absent=True)
                return [item]
            return []
        if kind == "object" and shape.get("model"):
            item = {"id": 1}
            self.reference(shape["model"], name, item, fill_absent=True)
            return item
        return None


def custom_fields(start: int) -> list[dict]:
    """One custom field of each type the API knows, values as the service sends them (some empty)."""
    return [{"id": 100 + index, "caption": f"{kind} field", "type": kind, "entryMethod": "EntryField",
             "numberOfDecimals": 2 if kind in ("Currency", "Percent") else 0, "value": value,
             "connectWiseId": f"0a1b2c3d-0000-4000-8000-{start + index:012d}"}
            for index, (kind, value) in enumerate(CUSTOM_VALUES.items())]


def enum_values(contract: dict, schema: str, field: str) -> list[str]:
    return contract[schema]["properties"][field]["enum"]


def variety(cw: dict, contract: dict) -> None:
    """Records no order touches, holding every value of the enums cwsync could meet."""
    def cycle(schema: str, field: str, index: int) -> str:
        values = enum_values(contract, schema, field)
        return values[index % len(values)]

    type_template = next(t for t in cw["agreementTypes"])
    for index in range(8):
        kind = copy.deepcopy(type_template)
        kind.update(id=90 + index, name=f"Variety type {index + 1}", defaultFlag=False,
                    **{field: cycle("AgreementType", field, index) for field in (
                        "billTime", "billExpenses", "billProducts", "employeeCompRate", "employeeCompNotExceed",
                        "invoicingCycle", "applicationUnits", "applicationCycle", "prefixSuffixOption")})
        kind["_info"] = real.info("agreementType", kind["id"], path="finance/agreements/types")
        cw["agreementTypes"].append(kind)
    # The inactive former client (no customer links to it) holds one agreement per enum value.
    template = next(a for a in cw["agreements"] if a["id"] == 3103)
    for index in range(8):
        agreement = copy.deepcopy(template)
        agreement.update(id=3900 + index, name=f"Harbor Freight - legacy {index + 1}",
                         company={"id": 19308}, contact={"id": 807}, billToCompany={"id": 19308},
                         billToContact={"id": 807}, type={"id": 90 + index},
                         **{field: cycle("Agreement", field, index) for field in (
                             "applicationUnits", "applicationCycle", "periodType", "agreementStatus", "billTime",
                             "billExpenses", "billProducts", "employeeCompRate", "employeeCompNotExceed",
                             "invoicingCycle")})
        agreement["cancelledFlag"] = agreement["agreementStatus"] == "Cancelled"
        agreement["_info"] = real.info("agreement", agreement["id"], path="finance/agreements")
        cw["agreements"].append(agreement)
    addition = next(a for a in cw["additions"] if a["id"] == 9008)
    for index, bill in enumerate(enum_values(contract, "Addition", "billCustomer")):
        extra = copy.deepcopy(addition)
        extra.update(id=9900 + index, agreementId=3900 + index, billCustomer=bill, sequenceNumber=1.0)
        extra["_info"] = real.info("addition", extra["id"], path=f"finance/agreements/{3900 + index}/additions")
        cw["additions"].append(extra)
    item_template = next(c for c in cw["catalog"] if c["id"] == 708)
    for index in range(5):
        item = copy.deepcopy(item_template)
        item.update(id=790 + index, identifier=f"LEGACY-{index + 1}", description=f"Retired product {index + 1}",
                    customerDescription=f"Retired product {index + 1}", inactiveFlag=True,
                    **{field: cycle("CatalogItem", field, index) for field in (
                        "productClass", "priceAttribute", "recurringCycleType", "billableOption")})
        item["_info"] = real.info("catalogItem", item["id"], path="procurement/catalog")
        cw["catalog"].append(item)
    used = {cycle["billingOptions"] for cycle in cw["billingCycles"]}
    for index, option in enumerate(o for o in enum_values(contract, "BillingCycle", "billingOptions") if o not in used):
        cw["billingCycles"].append({"id": 20 + index, "identifier": option[:5], "name": f"{option} billing",
                                    "defaultFlag": False, "billingOptions": option,
                                    "_info": real.info("billingCycle", 20 + index, path="finance/billingCycles")})
    for index, contact in enumerate(cw["contacts"]):
        contact["gender"] = cycle("Contact", "gender", index)
        contact["presence"] = cycle("Contact", "presence", index)


def connectwise() -> dict:
    go, contract = documents()
    cw = real.connectwise()
    variety(cw, contract)
    filler = Filler(go, contract)
    for collection, struct in go["collections"].items():
        resolved = frozenset(BY_COLLECTION[collection].references)
        for index, record in enumerate(cw.get(collection, [])):
            filler.fill(struct, record, resolved=resolved, null_ok=index % 2 == 1)
    return cw


def render() -> str:
    return demo.render(connectwise())


if __name__ == "__main__":
    sys.exit(demo.write_or_check(OUTPUT, render(), sys.argv[1:]))
