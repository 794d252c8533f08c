"""The ConnectWise simulator over real HTTP: auth, discovery, resources, queries and validation.

Every answer goes through ContractCheckingSession, which fails the test when a response
does not match the contract.
"""
import base64

import pytest
import requests

from cwsync_local.simulators.connectwise import CODEBASE, DEFAULT_CREDENTIALS, start
from cwsync_local.simulators.connectwise.sample import sample_seed
from cwsync_local.simulators.connectwise.testing import ContractCheckingSession


@pytest.fixture(scope="module")
def sim():
    with start(sample_seed(catalog_items=60)) as running:
        yield running


@pytest.fixture()
def cw(sim):
    with ContractCheckingSession(sim.url) as session:
        yield session


def auth_header(company, public, private):
    return "Basic " + base64.b64encode(f"{company}+{public}:{private}".encode()).decode()


# --- authentication and discovery ------------------------------------------------------------

@pytest.mark.parametrize(("headers", "field"), [
    ({}, "Authorization"),
    ({"Authorization": "Bearer abc", "clientId": DEFAULT_CREDENTIALS["clientId"]}, "Authorization"),
    ({"Authorization": "Basic not-base64!!", "clientId": DEFAULT_CREDENTIALS["clientId"]}, "Authorization"),
    ({"Authorization": auth_header("demo", "demo-public-key", "wrong"), "clientId": DEFAULT_CREDENTIALS["clientId"]},
     "Authorization"),
    ({"Authorization": auth_header("other", "demo-public-key", "demo-private-key"),
      "clientId": DEFAULT_CREDENTIALS["clientId"]}, "Authorization"),
    ({"Authorization": auth_header("demo", "demo-public-key", "demo-private-key")}, "clientId"),
    ({"Authorization": auth_header("demo", "demo-public-key", "demo-private-key"), "clientId": "nope"}, "clientId"),
])
def test_missing_or_wrong_credentials_are_answered_401_with_the_error_body(sim, headers, field):
    with ContractCheckingSession(sim.url, authenticate=False) as anonymous:
        response = anonymous.get(anonymous.url("company/companies"), headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "Unauthorized" and body["message"]
    assert body["errors"][0]["field"] == field


def test_company_id_in_credentials_is_case_insensitive(sim):
    headers = {"Authorization": auth_header("DEMO", "demo-public-key", "demo-private-key"),
               "clientId": DEFAULT_CREDENTIALS["clientId"]}
    assert requests.get(f"{sim.url}/{CODEBASE}apis/3.0/company/companies", headers=headers, timeout=5).ok


def test_companyinfo_gives_the_codebase_without_auth_and_the_api_answers_there(sim, cw):
    info = requests.get(f"{sim.url}/login/companyinfo/demo", timeout=5).json()
    assert info["Codebase"] == "v2025_1/" and info["CompanyID"] == "demo" and info["IsCloud"] is True
    assert set(info) == {"CompanyName", "Codebase", "VersionCode", "VersionNumber", "CompanyID", "IsCloud", "SiteUrl"}
    assert cw.get(f"{sim.url}/{info['Codebase']}apis/3.0/company/companies").status_code == 200
    assert cw.get(f"{sim.url}/v4_6_release/apis/3.0/company/companies").status_code == 200


def test_companyinfo_for_an_unknown_company_is_404(sim):
    response = requests.get(f"{sim.url}/login/companyinfo/nobody", timeout=5)
    assert response.status_code == 404 and response.json()["code"] == "NotFound"


def test_unknown_codebase_or_resource_is_404(sim, cw):
    assert cw.get(f"{sim.url}/v1999_1/apis/3.0/company/companies").status_code == 404
    assert cw.get(cw.url("company/widgets")).status_code == 404


# --- reading ---------------------------------------------------------------------------------

def test_get_one_expands_reference_objects(cw):
    agreement = cw.get(cw.url("finance/agreements/12")).json()
    assert agreement["company"] == {"id": 250, "identifier": "GreenLane", "name": "Green Lane LLC"}
    assert agreement["billingCycle"] == {"id": 1, "name": "Monthly"}
    assert agreement["contact"] == {"id": 10, "name": "Gwen Lane"}
    assert agreement["currency"]["currencyCode"] == "USD"


def test_missing_record_is_404_with_the_service_body(cw):
    response = cw.get(cw.url("finance/agreements/999"))
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound" and "999" in response.json()["message"]


def test_child_collections_of_a_missing_agreement_are_404(cw):
    for path in ("finance/agreements/999/additions", "finance/agreements/999/adjustments",
                 "finance/agreements/999/additions/count", "finance/agreements/999/additions/100"):
        response = cw.get(cw.url(path))
        assert response.status_code == 404 and "Agreement ID 999" in response.json()["message"], path


def test_count_honours_conditions(cw):
    assert cw.get(cw.url("procurement/catalog/count")).json() == {"count": 60}
    assert cw.get(cw.url("procurement/catalog/count"), params={"conditions": "inactiveFlag = true"}).json() == {"count": 6}
    assert cw.get(cw.url("finance/agreements/12/additions/count")).json()["count"] >= 2


def test_conditions_filter_with_nested_paths_and_case_insensitive_strings(cw):
    found = cw.get(cw.url("finance/agreements"),
                   params={"conditions": 'company/id=250 and billingCycle/name="monthly"'}).json()
    assert [agreement["id"] for agreement in found] == [12]
    found = cw.get(cw.url("company/companies"), params={"conditions": 'name = "greenfield \\"quoted\\" (labs)"'}).json()
    assert [company["id"] for company in found] == [251]
    found = cw.get(cw.url("company/companies"), params={"conditions": 'name like "Z*" or id in (250)'}).json()
    assert [company["id"] for company in found] == [250, 252]


def test_child_and_custom_field_conditions(cw):
    found = cw.get(cw.url("company/companies"), params={"childConditions": 'types/name = "Prospect"'}).json()
    assert [company["id"] for company in found] == [252]
    found = cw.get(cw.url("company/companies"),
                   params={"customFieldConditions": 'caption = "Marketplace ID" and value = "1000048531"'}).json()
    assert [company["id"] for company in found] == [250]


def test_query_parameter_names_are_case_insensitive(cw):
    found = cw.get(cw.url("procurement/catalog"), params={"pagesize": 5, "CONDITIONS": "id < 100"}).json()
    assert len(found) == 5


@pytest.mark.parametrize(("conditions", "expected"), [
    ('name = "unterminated', "Unterminated string"),
    ("id == 1", "Unknown operator '=='"),
    ("id =", "Expected a value"),
    ("(id = 1", "Unbalanced parentheses"),
    ('nmae = "x"', "nmae is not a recognized name"),
])
def test_bad_conditions_are_400_naming_the_problem(cw, conditions, expected):
    response = cw.get(cw.url("company/companies"), params={"conditions": conditions})
    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert "position" in response.json()["errors"][0]["message"]


def test_order_by_several_fields(cw):
    found = cw.get(cw.url("procurement/catalog"), params={"orderBy": "price desc, id asc", "pageSize": 60}).json()
    keys = [(-item["price"], item["id"]) for item in found]
    assert keys == sorted(keys)
    names = [c["name"] for c in cw.get(cw.url("company/companies"), params={"orderBy": "name"}).json()]
    assert names == sorted(names, key=str.casefold)
    assert cw.get(cw.url("company/companies"), params={"orderBy": "nope asc"}).status_code == 400


def test_fields_give_partial_objects_with_nested_fields(cw):
    found = cw.get(cw.url("finance/agreements"), params={"fields": "id,name,company/name", "pageSize": 1}).json()
    assert found == [{"id": 12, "name": "Green Lane - Cloud", "company": {"name": "Green Lane LLC"}}]
    one = cw.get(cw.url("procurement/catalog/3"), params={"fields": "id,identifier"}).json()
    assert one == {"id": 3, "identifier": "SKU-00003"}


def links(response):
    result = {}
    for part in response.headers.get("Link", "").split(","):
        if part.strip():
            url, rel = part.split(";")
            result[rel.strip().split("=")[1].strip('"')] = url.strip()[1:-1]
    return result


def test_numbered_pages_with_link_header(cw):
    first = cw.get(cw.url("procurement/catalog"), params={"pageSize": 25, "conditions": "id > 0"})
    assert [item["id"] for item in first.json()] == list(range(1, 26))
    assert set(links(first)) == {"next", "last"}
    assert links(first)["next"].startswith("http://") and "page=2" in links(first)["next"]
    assert "conditions=id+%3E+0" in links(first)["next"]
    last = cw.get(links(first)["last"])
    assert [item["id"] for item in last.json()] == list(range(51, 61))
    assert set(links(last)) == {"first", "prev"}
    middle = cw.get(links(first)["next"])
    assert set(links(middle)) == {"first", "prev", "next", "last"}


def test_default_page_size_is_25_and_over_1000_is_clamped(sim):
    with start(sample_seed(catalog_items=1100)) as big, ContractCheckingSession(big.url) as session:
        assert len(session.get(session.url("procurement/catalog")).json()) == 25
        assert len(session.get(session.url("procurement/catalog"), params={"pageSize": 5000}).json()) == 1000
        assert session.get(session.url("procurement/catalog"), params={"pageSize": 0}).status_code == 400
        assert session.get(session.url("procurement/catalog"), params={"page": "x"}).status_code == 400


def test_forward_only_paging_follows_page_id(cw):
    headers = {"pagination-type": "forward-only"}
    seen, url, params = [], cw.url("procurement/catalog"), {"pageSize": 25}
    while url:
        response = cw.get(url, params=params, headers=headers)
        seen += [item["id"] for item in response.json()]
        url, params = links(response).get("next"), None
        if url:
            assert "pageId=" in url and set(links(response)) == {"next"}
    assert seen == list(range(1, 61))
    after = cw.get(cw.url("procurement/catalog"), params={"pageId": 55, "pageSize": 25}, headers=headers)
    assert [item["id"] for item in after.json()] == [56, 57, 58, 59, 60] and "Link" not in after.headers


# --- writing ---------------------------------------------------------------------------------

ADDITION = {"product": {"id": 5}, "quantity": 12, "unitPrice": 6.0, "unitCost": 4.8, "billCustomer": "Billable",
            "effectiveDate": "2026-02-15T00:00:00Z", "serialNumber": "MP-SUB-1-ORD2", "taxableFlag": True}


def test_addition_create_patch_put_delete(cw):
    created = cw.post(cw.url("finance/agreements/12/additions"), json={**ADDITION, "extPrice": 1, "id": 9})
    assert created.status_code == 201
    addition = created.json()
    assert addition["id"] != 9 and addition["agreementId"] == 12
    assert addition["extPrice"] == 72.0 and addition["extCost"] == 57.6 and addition["margin"] == 14.4
    assert addition["product"] == {"id": 5, "identifier": "SKU-00005"}
    assert addition["_info"]["lastUpdated"].endswith("Z") and addition["_info"]["updatedBy"]
    path = f"finance/agreements/12/additions/{addition['id']}"
    assert cw.get(cw.url(path)).json() == addition

    patched = cw.patch(cw.url(path), json=[{"op": "replace", "path": "quantity", "value": 15},
                                           {"op": "replace", "path": "/cancelledDate", "value": "2026-03-01T00:00:00Z"},
                                           {"op": "remove", "path": "serialNumber"}])
    assert patched.status_code == 200
    assert patched.json()["quantity"] == 15 and patched.json()["extPrice"] == 90.0
    assert patched.json()["cancelledDate"] == "2026-03-01T00:00:00Z" and "serialNumber" not in patched.json()

    product = cw.patch(cw.url(path), json=[{"op": "replace", "path": "product", "value": {"id": 7}}]).json()
    assert product["product"] == {"id": 7, "identifier": "SKU-00007"}
    sub_path = cw.patch(cw.url(path), json=[{"op": "replace", "path": "product/id", "value": 8}])
    assert sub_path.status_code == 400 and "whole" in sub_path.json()["errors"][0]["message"]

    replaced = cw.put(cw.url(path), json={**ADDITION, "quantity": 1})
    assert replaced.status_code == 200 and replaced.json()["extPrice"] == 6.0 and replaced.json()["id"] == addition["id"]

    assert cw.delete(cw.url(path)).status_code == 204
    assert cw.get(cw.url(path)).status_code == 404
    assert cw.delete(cw.url(path)).status_code == 404


def test_addition_defaults_come_from_the_catalog_item(cw):
    addition = cw.post(cw.url("finance/agreements/13/additions"),
                       json={"product": {"identifier": "sku-00004"}, "quantity": 2, "billCustomer": "Billable"}).json()
    assert addition["product"]["id"] == 4 and addition["unitPrice"] == 7.0 and addition["description"] == "Cloud licence 4"
    assert addition["extPrice"] == 14.0


def test_bad_write_lists_one_error_per_bad_field(cw):
    response = cw.post(cw.url("finance/agreements/12/additions"),
                       json={"quantity": "twelve", "billCustomer": "Sometimes", "serialNumber": "x" * 51,
                             "taxableFlag": None, "effectiveDate": "not a date"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidObject" and body["message"] == "agreementAddition object is invalid"
    by_field = {error["field"]: error for error in body["errors"]}
    assert set(by_field) == {"product", "quantity", "billCustomer", "serialNumber", "effectiveDate"}
    assert by_field["product"]["code"] == "NullValue"
    assert all(error["code"] == "InvalidField" for field, error in by_field.items() if field != "product")
    assert all(error["resource"] == "agreementAddition" for error in body["errors"])


def test_unknown_references_are_400(cw):
    response = cw.post(cw.url("finance/agreements/12/additions"), json={**ADDITION, "product": {"id": 99999}})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "InvalidField", "message": "The product 99999 was not found.",
                                          "resource": "agreementAddition", "field": "product"}]
    agreement = {"name": "X", "type": {"id": 5}, "company": {"id": 4242}, "contact": {"id": 10}}
    response = cw.post(cw.url("finance/agreements"), json=agreement)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "company"


def test_malformed_bodies_are_400(cw):
    assert cw.post(cw.url("company/companies"), data="{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert cw.post(cw.url("company/companies"), json=[1, 2]).status_code == 400
    assert cw.patch(cw.url("company/companies/250"), json={"op": "replace"}).status_code == 400
    assert cw.patch(cw.url("company/companies/250"), json=[{"op": "move", "path": "name"}]).status_code == 400


CREATES = [
    ("company/companies", {"identifier": "NewCo", "name": "New Co", "types": [{"id": 2}], "city": "Bern"},
     "name", "Newer Co"),
    ("company/companies/types", {"name": "Vendor"}, "name", "Vendors"),
    ("company/contacts", {"firstName": "Ada", "lastName": "Byron", "company": {"id": 250}}, "title", "CTO"),
    ("procurement/catalog", {"identifier": "NEW-1", "description": "New item", "customerDescription": "New item",
                             "subcategory": {"id": 1}, "type": {"id": 1}, "price": 10.0}, "price", 12.5),
    ("finance/agreements", {"name": "New agreement", "type": {"id": 5}, "company": {"id": 251},
                            "contact": {"id": 10}, "billingCycle": {"id": 1}}, "billAmount", 99.0),
    ("finance/agreements/types", {"name": "Managed", "employeeCompRate": "Actual", "employeeCompNotExceed": "Billing",
                                  "invoicingCycle": "ContractYear", "billTime": "Billable", "billExpenses": "Billable",
                                  "billProducts": "Billable"}, "name", "Managed IT"),
    ("finance/agreements/12/adjustments", {"amount": 25.0, "description": "Setup fee",
                                           "effectiveDate": "2026-02-01T00:00:00Z"}, "amount", 30.0),
    ("finance/billingCycles", {"identifier": "Q", "name": "Quarterly", "billingOptions": "Quarterly"}, "name", "Quarter"),
    ("finance/currencies", {"currencyIdentifier": "GBP", "name": "Pound", "symbol": "£",
                            "currencyCode": {"name": "GBP"}},
     "symbol", "GBP£"),
]


@pytest.mark.parametrize(("path", "body", "field", "value"), CREATES, ids=[item[0] for item in CREATES])
def test_crud_on_every_resource(cw, path, body, field, value):
    before = cw.get(cw.url(f"{path}/count")).json()["count"]
    created = cw.post(cw.url(path), json=body)
    assert created.status_code == 201, created.text
    record_id = created.json()["id"]
    assert cw.get(cw.url(f"{path}/count")).json()["count"] == before + 1
    assert record_id in [item["id"] for item in cw.get(cw.url(path), params={"pageSize": 1000}).json()]
    patched = cw.patch(cw.url(f"{path}/{record_id}"), json=[{"op": "replace", "path": field, "value": value}])
    assert patched.status_code == 200 and patched.json()[field] == value
    replaced = cw.put(cw.url(f"{path}/{record_id}"), json=body)
    assert replaced.status_code == 200 and replaced.json().get(field) == body.get(field)
    assert cw.delete(cw.url(f"{path}/{record_id}")).status_code == 204
    assert cw.get(cw.url(f"{path}/{record_id}")).status_code == 404


@pytest.mark.parametrize(("path", "missing"), [
    ("company/companies", ["addressLine1", "identifier", "name"]),
    ("procurement/catalog", ["customerDescription", "description", "identifier", "subcategory", "type"]),
    ("finance/agreements", ["company", "contact", "name", "type"]),
    ("finance/billingCycles", ["billingOptions", "identifier", "name"]),
])
def test_required_fields_are_reported_one_per_field(cw, path, missing):
    response = cw.post(cw.url(path), json={})
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == missing
    assert {error["code"] for error in response.json()["errors"] if error["field"] != "addressLine1"} == {"NullValue"}


def test_a_new_company_needs_an_address_field_and_an_identifier_not_in_use(cw):
    response = cw.post(cw.url("company/companies"), json={"identifier": "Fresh1", "name": "Fresh"})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("addressLine1", "InvalidField")]
    response = cw.post(cw.url("company/companies"), json={"identifier": "greenlane", "name": "Other", "zip": "1"})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("identifier", "ObjectExists")]
    created = cw.post(cw.url("company/companies"), json={"identifier": "Fresh1", "name": "Fresh", "city": "Bern",
                                                          "types": [{"id": 1}], "status": {"id": 1}})
    assert created.status_code == 201 and created.json()["types"] == [{"id": 1, "name": "Customer"}]


def test_deleting_an_agreement_removes_its_additions(cw):
    agreement = cw.post(cw.url("finance/agreements"), json={"name": "Short", "type": {"id": 5}, "company": {"id": 250},
                                                            "contact": {"id": 10}}).json()
    cw.post(cw.url(f"finance/agreements/{agreement['id']}/additions"), json=ADDITION)
    assert cw.delete(cw.url(f"finance/agreements/{agreement['id']}")).status_code == 204
    assert cw.get(cw.url("finance/agreements/12/additions/count")).status_code == 200
    assert cw.get(cw.url(f"finance/agreements/{agreement['id']}/additions")).status_code == 404
