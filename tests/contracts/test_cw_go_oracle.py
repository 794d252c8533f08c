"""The ConnectWise simulator against a second independent oracle: the Go client's models.

`ai-connor/connectwise` is a Go client generated from ConnectWise's newer OpenAPI document
(API 2025.1); its struct fields and JSON tags are extracted into tests/contracts/cw_go_models.json
(provenance in its header). Every record the simulator serves, on every seed, and every answer to
cwsync's writes must be one the Go client reads as its type: every key, at every depth, a field of
the Go struct there, of its JSON type, `null` only where the Go type is nullable, required fields
present (tests/cw_go_oracle.py). GO_ALLOWED lists where the service differs from the Go model.
"""
from __future__ import annotations

import pytest

from cw_go_oracle import COLLECTIONS, GO_ALLOWED, MODELS, PROVENANCE, problems
from cw_served import CHILDREN, SEEDS, TOP_LEVEL, agreement_with_the_copying_bug, all_problems, served, written
from cwsync_local.simulators.connectwise import start
from cwsync_local.simulators.connectwise.resources import BY_COLLECTION
from cwsync_local.simulators.connectwise.testing import ContractCheckingSession



@pytest.mark.parametrize("seed", list(SEEDS))
def test_every_record_the_simulator_serves_is_one_the_go_client_reads_as_its_type(seed):
    with start(SEEDS[seed]()) as sim, ContractCheckingSession(sim.url) as session:
        found = served(session)
    assert all(found[name] for name in COLLECTIONS), {name: len(found[name]) for name in COLLECTIONS}
    assert all_problems(found, problems) == []


@pytest.mark.parametrize("seed", list(SEEDS))
def test_what_the_simulator_answers_to_cwsyncs_writes_is_one_the_go_client_reads(seed):
    assert all_problems(written(SEEDS[seed]()), problems) == []


def test_the_go_models_say_where_they_come_from_and_cover_every_collection_the_simulator_serves():
    assert PROVENANCE["repository"] == "https://github.com/ai-connor/connectwise"
    assert len(PROVENANCE["commit"]) == 40 and PROVENANCE["api_version"] == "2025.1"
    assert set(COLLECTIONS) == set(TOP_LEVEL) | set(CHILDREN) == set(BY_COLLECTION)
    for struct in MODELS:
        assert PROVENANCE["files"][struct].startswith("model_") and PROVENANCE["files"][struct].endswith(".go")
    assert MODELS["Agreement"]["invoiceProratedAdditionsFlag"] == {"type": "boolean", "nullable": True,
                                                                  "required": False}
    assert MODELS["FinanceCurrency"]["currencyCode"]["model"] == "CurrencyCodeReference"
    assert MODELS["CurrencyReference"]["currencyCode"]["type"] == "string"


def test_the_allow_list_names_only_fields_of_the_go_models_each_with_a_note():
    for (struct, field), note in GO_ALLOWED.items():
        assert field in MODELS[struct], (struct, field)
        assert len(note) > 20 and "\n" not in note


@pytest.mark.parametrize(("collection", "record", "expected"), [
    ("currencies", {"id": 1, "currencyIdentifier": "USD", "name": "US Dollar", "currencyCode": "USD"},
     "currencyCode: is str, not object"),
    ("agreements", {"id": 1, "name": "A", "type": {"id": 1}, "company": {"id": 1}, "contact": {"id": 1},
                    "currency": {"id": 1, "currencyCode": {"id": 1, "name": "USD"}}},
     "currency/currencyCode: is dict, not string"),
    ("agreementTypes", {"id": 1, "name": "Cloud", "billExpenses": "Billable", "billProducts": "Billable",
                        "employeeCompNotExceed": "Billing", "employeeCompRate": "Actual",
                        "invoicingCycle": "ContractYear"}, "billTime: required by AgreementType, missing"),
    ("additions", {"id": 1, "product": {"id": 1, "identifier": "X", "colour": "red"}, "billCustomer": "Billable"},
     "product/colour: not a field of IvItemReference"),
    ("additions", {"id": 1, "product": {"id": 1}, "billCustomer": "Billable", "serialNumber": None},
     "serialNumber: null, but Addition does not allow null here"),
    ("additions", {"id": 1, "product": {"id": 1}, "billCustomer": "Billable", "quantity": "2"},
     "quantity: is str, not number"),
    ("agreementTypes", {"id": 1, "name": "Cloud", "connectWiseId": "x"}, "connectWiseId: not a field of AgreementType"),
    ("companies", {"id": 1, "identifier": "A", "name": "A", "_info": {"lastUpdated": 5}}, "_info: is not a map of strings"),
])
def test_the_go_oracle_refuses_shapes_the_go_client_would_not_read(collection, record, expected):
    assert expected in problems(collection, record), problems(collection, record)


def test_the_go_oracle_catches_the_simulator_copying_a_currency_record_into_an_agreement(monkeypatch):
    agreement = agreement_with_the_copying_bug(monkeypatch)
    assert "currency/currencyCode: is dict, not string" in problems("agreements", agreement)


def test_the_extractor_reads_json_names_types_nullability_and_required_from_a_go_struct():
    from extract_go_models import describe, struct_fields

    source = ('type Example struct {\n'
              '\tId *int32 `json:"id,omitempty"`\n'
              '\t//  Max length: 50;\n'
              '\tName string `json:"name"`\n'
              '\tRate NullableFloat64 `json:"rate,omitempty"`\n'
              '\tStarted *time.Time `json:"started,omitempty"`\n'
              '\tOwner *CompanyReference `json:"owner,omitempty"`\n'
              '\tTags []CustomFieldValue `json:"tags,omitempty"`\n'
              '\tInfo *map[string]string `json:"_info,omitempty"`\n'
              '}\n')
    fields = struct_fields(source, "Example")
    assert {name: (describe(f["go"]), f["required"]) for name, f in fields.items()} == {
        "id": ({"type": "integer", "nullable": False}, False),
        "name": ({"type": "string", "nullable": False}, True),
        "rate": ({"type": "number", "nullable": True}, False),
        "started": ({"type": "date-time", "nullable": False}, False),
        "owner": ({"type": "object", "model": "CompanyReference", "nullable": False}, False),
        "tags": ({"type": "array", "items": {"type": "object", "model": "CustomFieldValue", "nullable": False},
                  "nullable": False}, False),
        "_info": ({"type": "map", "nullable": False}, False),
    }
