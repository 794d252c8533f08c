"""A small synthetic data set in the seed format, for tests and benchmarks.

The demo data lives in `cwsync_local/data/demo_seed.json`; this one is generated so that a
test can ask for exactly what it needs (e.g. 2,500 catalog items).
"""
from __future__ import annotations


def sample_seed(catalog_items: int = 40) -> dict:
    """`{"connectwise": {...}}` with companies, contacts, a catalog, agreements and additions."""
    catalog = [{
        "id": number,
        "identifier": f"SKU-{number:05d}",
        "description": f"Cloud licence {number}",
        "customerDescription": f"Cloud licence {number} (monthly)",
        "subcategory": {"id": 1, "name": "Licences"},
        "type": {"id": 1, "name": "Subscription"},
        "productClass": "Service",
        "price": round(5 + number % 50 * 0.5, 2),
        "cost": round(4 + number % 50 * 0.4, 2),
        "taxableFlag": number % 3 != 0,
        "inactiveFlag": number % 10 == 0,
        "manufacturerPartNumber": f"MPN-{number:05d}",
        "unitOfMeasure": {"id": 1, "name": "Each"},
        "recurringFlag": True,
    } for number in range(1, catalog_items + 1)]
    companies = [
        {"id": 250, "identifier": "GreenLane", "name": "Green Lane LLC", "status": {"id": 1, "name": "Active"},
         "types": [{"id": 1}], "deletedFlag": False, "accountNumber": "1000048531",
         "customFields": [{"id": 4, "caption": "Marketplace ID", "type": "Text", "entryMethod": "EntryField",
                           "numberOfDecimals": 0, "value": "1000048531"}]},
        {"id": 251, "identifier": "Greenfield", "name": "Greenfield \"Quoted\" (Labs)", "status": {"id": 1, "name": "Active"},
         "types": [{"id": 1}], "deletedFlag": False},
        {"id": 252, "identifier": "Zurich", "name": "Zürich Café GmbH", "status": {"id": 2, "name": "Inactive"},
         "types": [{"id": 2}], "deletedFlag": False},
    ]
    return {"connectwise": {
        "companyTypes": [{"id": 1, "name": "Customer", "defaultFlag": True}, {"id": 2, "name": "Prospect"}],
        "companyStatuses": [{"id": 1, "name": "Active", "defaultFlag": True}, {"id": 2, "name": "Inactive"}],
        "countries": [{"id": 1, "name": "United States", "countryCode": "US", "currency": {"id": 1}}],
        "productCategories": [{"id": 1, "name": "Software", "defaultFlag": True}],
        "productSubcategories": [{"id": 1, "name": "Licences", "category": {"id": 1}, "defaultFlag": True}],
        "productTypes": [{"id": 1, "name": "Subscription", "defaultFlag": True}],
        "companies": companies,
        "contacts": [{"id": 10, "firstName": "Gwen", "lastName": "Lane", "company": {"id": 250}},
                     {"id": 11, "firstName": "Franz", "lastName": "Huber", "company": {"id": 252}}],
        "billingCycles": [
            {"id": 1, "identifier": "M", "name": "Monthly", "defaultFlag": True, "billingOptions": "Monthly"},
            {"id": 2, "identifier": "Y", "name": "Yearly", "defaultFlag": False, "billingOptions": "Yearly"},
        ],
        "currencies": [
            {"id": 1, "currencyIdentifier": "USD", "name": "US Dollar", "symbol": "$",
             "currencyCode": {"id": 1, "name": "USD"}},
            {"id": 2, "currencyIdentifier": "EUR", "name": "Euro", "symbol": "€",
             "currencyCode": {"id": 2, "name": "EUR"}},
        ],
        "agreementTypes": [{"id": 5, "name": "Cloud Services", "employeeCompRate": "Actual",
                            "employeeCompNotExceed": "Billing", "invoicingCycle": "ContractYear",
                            "billTime": "Billable", "billExpenses": "Billable", "billProducts": "Billable"}],
        "catalog": catalog,
        "agreements": [
            {"id": 12, "name": "Green Lane - Cloud", "type": {"id": 5}, "company": {"id": 250},
             "contact": {"id": 10}, "billingCycle": {"id": 1}, "currency": {"id": 1},
             "agreementStatus": "Active", "startDate": "2025-01-01T00:00:00Z", "noEndingDateFlag": True,
             "billAmount": 0.0, "prorateFlag": True},
            {"id": 13, "name": "Green Lane - Yearly", "type": {"id": 5}, "company": {"id": 250},
             "contact": {"id": 10}, "billingCycle": {"id": 2}, "currency": {"id": 1},
             "agreementStatus": "Active", "startDate": "2025-06-01T00:00:00Z"},
            {"id": 14, "name": "Zurich - Cloud", "type": {"id": 5}, "company": {"id": 252},
             "contact": {"id": 11}, "billingCycle": {"id": 1}, "currency": {"id": 2},
             "agreementStatus": "Cancelled", "cancelledFlag": True, "startDate": "2024-01-01T00:00:00Z"},
        ],
        "additions": [
            {"id": 100, "agreementId": 12, "product": {"id": 1}, "quantity": 10.0, "unitPrice": 6.0,
             "unitCost": 4.8, "billCustomer": "Billable", "effectiveDate": "2025-01-01T00:00:00Z",
             "serialNumber": "MP-SUB-1-ORD1"},
            {"id": 101, "agreementId": 12, "product": {"id": min(2, catalog_items)}, "quantity": 3.0, "billCustomer": "Billable",
             "effectiveDate": "2025-03-01T00:00:00Z", "cancelledDate": "2025-09-01T00:00:00Z"},
        ],
        "adjustments": [{"id": 7, "agreementId": 12, "amount": -12.5, "description": "Credit for March",
                         "effectiveDate": "2025-03-31T00:00:00Z"}],
    }}
