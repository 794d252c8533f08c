"""The ConnectWise simulator's answers match the contract (connectwise-manage-3.0-subset.json).

The integration tests send every request through ContractCheckingSession, which validates
each answer as it arrives; these tests make sure that checker is real (it rejects what does
not match) and that every path of the contract is answered and validated.
"""
import re

import pytest
import requests

from cwsync_local.simulators.common import DEMO_SEED
from cwsync_local.simulators.connectwise import start
from cwsync_local.simulators.connectwise.sample import sample_seed
from cwsync_local.simulators.connectwise.testing import (
    ContractCheckingSession, ContractViolation, check_response, response_schema)
from cwsync_local.simulators.connectwise.validation import contract, response_errors, write_errors

SAMPLE_IDS = {"/company/companies/{id}": 250, "/company/companies/types/{id}": 1, "/company/contacts/{id}": 10,
              "/finance/agreements/{id}": 12, "/finance/agreements/{parentId}/additions/{id}": 100,
              "/finance/agreements/{parentId}/adjustments/{id}": 7, "/finance/agreements/types/{id}": 5,
              "/procurement/catalog/{id}": 3, "/finance/billingCycles/{id}": 1, "/finance/currencies/{id}": 2,
              "/company/companies/statuses/{id}": 1, "/company/countries/{id}": 1, "/procurement/categories/{id}": 1,
              "/procurement/subcategories/{id}": 1, "/procurement/types/{id}": 1}


@pytest.fixture(scope="module")
def cw():
    with start(sample_seed(30)) as sim, ContractCheckingSession(sim.url) as session:
        yield session


def test_every_contract_path_is_served_and_validates(cw):
    paths = list(contract()["paths"])
    for path in paths:
        concrete = path.replace("{parentId}", "12").replace("{id}", str(SAMPLE_IDS.get(path, "")))
        response = cw.get(cw.url(concrete))
        assert response.status_code == 200, (path, response.text)
    assert sorted({checked[1] for checked in cw.checked}) == sorted(paths)


def test_outside_the_subset_billing_cycles_and_currencies_validate_against_their_real_shape(cw):
    for path in ("finance/billingCycles", "finance/billingCycles/1", "finance/billingCycles/count",
                 "finance/currencies", "finance/currencies/2", "finance/currencies/count"):
        assert cw.get(cw.url(path)).status_code == 200
    cycle = cw.get(cw.url("finance/billingCycles/1")).json()
    assert set(cycle) >= {"id", "identifier", "name", "defaultFlag", "billingOptions"}
    currency = cw.get(cw.url("finance/currencies/2")).json()
    assert set(currency) >= {"id", "currencyIdentifier", "name", "symbol", "currencyCode"}


def test_write_answers_validate_against_the_object_schema(cw):
    created = cw.post(cw.url("finance/agreements/12/additions"),
                      json={"product": {"id": 2}, "quantity": 1, "billCustomer": "NoCharge"})
    assert created.status_code == 201
    assert cw.checked[-1][:2] == ("POST", "/finance/agreements/{parentId}/additions/{id}")
    cw.patch(cw.url(f"finance/agreements/12/additions/{created.json()['id']}"),
             json=[{"op": "replace", "path": "quantity", "value": 2}])
    assert cw.checked[-1][:2] == ("PATCH", "/finance/agreements/{parentId}/additions/{id}")


def test_partial_objects_from_fields_validate(cw):
    cw.get(cw.url("finance/agreements"), params={"fields": "id,company/name"})
    assert cw.checked[-1][1] == "/finance/agreements"


@pytest.mark.parametrize(("schema", "body", "problem"), [
    ("Addition", {"id": "12"}, "id"),
    ("Addition", {"billCustomer": "Sometimes"}, "billCustomer"),
    ("Agreement", {"company": {"id": "x"}}, "company/id"),
    ("Company", {"types": [{"id": 1, "name": 5}]}, "types/0/name"),
    ("CatalogItem", {"price": "1.00"}, "price"),
])
def test_the_checker_rejects_bodies_that_do_not_match(schema, body, problem):
    problems = response_errors(schema, body)
    assert problems and problems[0].startswith(problem)


def test_the_checker_accepts_nullable_fields_and_custom_field_values():
    assert response_errors("Addition", {"quantity": None, "billCustomer": None, "customFields": [
        {"id": 1, "caption": "Tag", "type": "Text", "value": "x"}, {"id": 2, "type": "Number", "value": 3}]}) == []


def test_the_checker_fails_a_mismatching_answer_from_a_server(cw):
    response = requests.Response()
    response.status_code = 200
    response._content = b'[{"id": "not a number"}]'
    response.url = cw.url("company/companies")
    response.request = requests.Request("GET", response.url).prepare()
    with pytest.raises(ContractViolation, match="does not match /company/companies"):
        check_response(response, cw.api)
    response._content = b'{"message": "no code"}'
    response.status_code = 400
    with pytest.raises(ContractViolation, match="error body"):
        check_response(response, cw.api)


def test_paths_map_to_their_contract_templates():
    assert response_schema("GET", "/finance/agreements/5/additions/count")[0] == "/finance/agreements/{parentId}/additions/count"
    assert response_schema("GET", "/company/companies/types")[0] == "/company/companies/types"
    assert response_schema("POST", "/procurement/catalog")[0] == "/procurement/catalog/{id}"


def test_write_validation_uses_the_contract_required_fields_enums_and_lengths():
    errors = write_errors("Addition", "agreementAddition", {"billCustomer": "Maybe", "serialNumber": "x" * 51})
    assert [(error["field"], error["code"]) for error in errors] == [
        ("billCustomer", "InvalidField"), ("product", "NullValue"), ("serialNumber", "InvalidField")]


@pytest.mark.skipif(not DEMO_SEED.exists(), reason="the demo seed is not written yet")
def test_the_demo_seed_is_served_within_the_contract():
    with start() as sim, ContractCheckingSession(sim.url) as session:
        for path in [p for p in contract()["paths"] if "{" not in p or re.fullmatch(r".*\{parentId\}/\w+", p)]:
            if "{parentId}" in path:
                for agreement in session.get(session.url("finance/agreements"), params={"pageSize": 1000}).json():
                    session.get(session.url(path.replace("{parentId}", str(agreement["id"]))), params={"pageSize": 1000})
            else:
                session.get(session.url(path), params={"pageSize": 1000})
        session.get(session.url("finance/billingCycles"))
        session.get(session.url("finance/currencies"))
