"""The ConnectWise simulator against an independent oracle: the vendor's generated models.

Every collection the simulator serves, on every seed the suite uses (the demo data, the
real-shaped data set and a generated one), is read over HTTP, list and by id, and each record
must validate against its `pyconnectwise.models.manage` model with no key, at any depth, that
the model does not have (tests/cw_oracle.py). Records the simulator writes are checked too.
The last tests give the simulator back the bug this oracle exists for (an agreement's
`currency` copied from the currency record) and show that the oracle catches it.
"""
from __future__ import annotations

import pytest

from cw_oracle import MODELS, NEWER_FIELDS, problems
from cw_served import SEEDS, agreement_with_the_copying_bug, all_problems, copy_currency_records_into_references, served, written
from cwsync_local.simulators.common import load_seed
from cwsync_local.simulators.connectwise import start
from cwsync_local.simulators.connectwise.testing import ContractCheckingSession



@pytest.mark.parametrize("seed", list(SEEDS))
def test_every_record_of_every_collection_is_one_the_real_service_could_return(seed):
    with start(SEEDS[seed]()) as sim, ContractCheckingSession(sim.url) as session:
        found = served(session)
    assert all(found[name] for name in MODELS), {name: len(found[name]) for name in MODELS}
    assert all_problems(found, problems) == []


@pytest.mark.parametrize("seed", list(SEEDS))
def test_records_the_simulator_writes_are_ones_the_real_service_could_return(seed):
    answers = written(SEEDS[seed]())
    assert all_problems(answers, problems) == []
    assert isinstance(answers["agreements"][0]["currency"]["currencyCode"], str)


def test_the_allow_list_names_only_fields_the_generated_models_lack_and_says_where_each_is_documented():
    from pyconnectwise.models import manage

    from cw_go_oracle import MODELS as GO_MODELS, PROVENANCE

    for (model_name, field), note in NEWER_FIELDS.items():
        model = getattr(manage, model_name)
        assert field not in {info.alias or name for name, info in model.model_fields.items()}, field
        assert note.startswith("ai-connor/connectwise") and note.endswith(".go"), note
        # ... and the Go model the note names has it (tests/contracts/cw_go_models.json).
        assert field in GO_MODELS[model_name] and note.endswith(PROVENANCE["files"][model_name]), (model_name, field)


@pytest.mark.parametrize(("collection", "record", "expected"), [
    ("currencies", {"id": 1, "currencyIdentifier": "USD", "name": "US Dollar", "currencyCode": "USD"},
     "currencyCode"),
    ("agreements", {"id": 1, "name": "A", "type": {"id": 1}, "company": {"id": 1}, "contact": {"id": 1},
                    "currency": {"id": 1, "currencyCode": {"id": 1, "name": "USD"}}}, "currency/currencyCode"),
    ("agreementTypes", {"id": 1, "name": "Cloud"}, "billTime"),
    ("additions", {"id": 1, "product": {"id": 1, "identifier": "X", "colour": "red"}, "billCustomer": "Billable"},
     "product/colour"),
    ("additions", {"id": 1, "product": {"id": 1}, "billCustomer": "Sometimes"}, "billCustomer"),
])
def test_the_oracle_refuses_shapes_the_real_service_never_returns(collection, record, expected):
    assert any(problem.startswith(expected) for problem in problems(collection, record)), problems(collection, record)


def test_the_oracle_catches_the_simulator_copying_a_currency_record_into_an_agreement(monkeypatch):
    agreement = agreement_with_the_copying_bug(monkeypatch)
    assert any(p.startswith("currency/currencyCode") for p in problems("agreements", agreement))


def test_the_simulator_refuses_to_build_a_reference_in_the_shape_of_a_different_record(monkeypatch):
    copy_currency_records_into_references(monkeypatch, keep_check=True)
    with pytest.raises(ValueError, match="currency reference built from record 1 is not a CurrencyReference"):
        start(load_seed("demo"))


# The reference models whose records the simulator holds, and the collection each points into.
REFERENCED = {"CompanyReference": "companies", "CompanyStatusReference": "companyStatuses",
              "CountryReference": "countries", "CompanyTypeReference": "companyTypes", "ContactReference": "contacts",
              "ProductCategoryReference": "productCategories", "ProductSubCategoryReference": "productSubcategories",
              "ProductTypeReference": "productTypes", "BillingCycleReference": "billingCycles",
              "IvItemReference": "catalog", "AgreementTypeReference": "agreementTypes"}


# Reference fields the models have but the real service leaves out (the real-shaped data set's product
# references are {id, identifier, _info}).
NOT_SENT = {"IvItemReference": {"serializedFlag"}}
WRITTEN = ("companies", "catalog", "additions", "adjustments", "agreements")  # the records cwsync writes


def unfilled(collection: str, record: dict, held: dict[str, dict[int, dict]]) -> list[str]:
    """Fields of `record`'s references (as the oracle models type them) that the referenced record has
    and the reference lacks or shows differently: a reference is filled from the record it points at.
    (Written references always point at held records: the simulator refuses an unknown id.)"""
    from cw_oracle import _fields, _models_in

    found = []
    for field, annotation in _fields(MODELS[collection]).items():
        models = [m for m in _models_in(annotation) if m.__name__ in REFERENCED]
        if not models or record.get(field) is None:
            continue
        for reference in record[field] if isinstance(record[field], list) else [record[field]]:
            target = held[REFERENCED[models[0].__name__]].get(reference["id"])
            if target is None:  # a seed's reference to a record it does not hold, given whole: nothing to fill from
                continue
            if models[0].__name__ == "ContactReference":
                target = {"name": " ".join(p for p in (target.get("firstName"), target.get("lastName")) if p)}
            for key in set(_fields(models[0])) - {"id", "_info"} - NOT_SENT.get(models[0].__name__, set()):
                value = target.get(key)
                if isinstance(value, (str, bool, int, float)) and reference.get(key) != value:
                    found.append(f"{collection} {record['id']} {field}/{key}: {reference.get(key)!r}, "
                                 f"the {REFERENCED[models[0].__name__]} record has {value!r}")
    return found


def held_records(seed: dict) -> dict[str, dict[int, dict]]:
    """Every record the simulator serves from `seed`, by collection and id."""
    with start(seed) as sim, ContractCheckingSession(sim.url) as session:
        return {name: {record["id"]: record for record in records_} for name, records_ in served(session).items()}


@pytest.mark.parametrize("seed", list(SEEDS))
def test_every_reference_in_a_written_record_is_filled_from_the_record_it_points_at(seed):
    answers, held = written(SEEDS[seed]()), held_records(SEEDS[seed]())
    company = answers["companies"][0]
    assert set(company["status"]) == {"id", "name"} and set(company["country"]) == {"id", "name"}, company
    assert company["status"]["name"] == held["companyStatuses"][company["status"]["id"]]["name"]
    assert company["country"]["name"] == held["countries"][company["country"]["id"]]["name"]
    assert [problem for name, records_ in answers.items() for record in records_
            for problem in unfilled(name, record, held)] == []


def test_a_patched_reference_is_filled_from_the_record_it_now_points_at():
    with start(load_seed("demo")) as sim, ContractCheckingSession(sim.url) as session:
        companies = session.get(session.url("company/companies"), params={"pageSize": 1000}).json()
        statuses = session.get(session.url("company/companies/statuses")).json()
        company = next(c for c in companies if c.get("status"))
        other = next(s for s in statuses if s["id"] != company["status"]["id"])
        patched = session.patch(session.url(f"company/companies/{company['id']}"),
                                json=[{"op": "replace", "path": "status", "value": {"id": other["id"]}}])
        assert patched.status_code == 200, patched.text
        again = session.get(session.url(f"company/companies/{company['id']}")).json()
    assert patched.json()["status"] == again["status"] == {"id": other["id"], "name": other["name"]}
    assert problems("companies", again) == []


@pytest.mark.parametrize("seed", list(SEEDS))
def test_every_reference_in_a_served_record_of_a_kind_cwsync_writes_is_filled_from_the_record_it_points_at(seed):
    held = held_records(SEEDS[seed]())
    assert [problem for name in WRITTEN for record in held[name].values()
            for problem in unfilled(name, record, held)] == []
