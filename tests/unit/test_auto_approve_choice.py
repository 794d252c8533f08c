"""--auto-approve takes only what cwsync recommends, and it recommends only exact matches."""
from cwsync.adapters import cw_records, mp_records
from cwsync.domain.matching import match_customer, match_product
from cwsync_local.runtime.embedded import recommended_choice


def approval_of(match):
    return {"options": [o.to_dict() for o in match.options], "recommended": match.recommended}


def test_auto_approve_does_not_take_the_only_similar_company_or_product():
    company = match_customer(mp_records.customer({"id": "1000048599", "name": "Northwind Bakery"}),
                             [cw_records.company({"id": 1, "name": "Northgate Bakery Supply",
                                                  "status": {"name": "Active"}})])
    product = match_product("TEAMS-PREMIUM-P1M", [cw_records.catalog_item({
                                "id": 3, "identifier": "M365-BUSPREM-P1M", "description": "Microsoft 365 Business Premium"})],
                            name="Microsoft Teams Premium")
    for match in (company, product):
        assert len(match.options) == 1 and match.options[0].eligible  # offered (51 % and 65 % similar) …
        assert recommended_choice(approval_of(match), automatic=True) is None  # … but never taken


def test_auto_approve_takes_an_exact_match_that_is_recommended():
    approval = {"options": [{"id": "9", "label": "Agreement", "eligible": True, "reason": ""}], "recommended": "9"}
    assert recommended_choice(approval, automatic=True) == "9"


def test_a_person_approving_without_a_choice_never_gets_a_company_searched_for_or_created():
    options = [{"id": "19307", "label": "Northgate Bakery Supply", "eligible": True},
               {"id": "create-company", "label": "Create Northwind Bakery in ConnectWise", "eligible": True},
               {"id": "found-company", "label": "Another ConnectWise company", "eligible": True}]
    assert recommended_choice({"options": options, "recommended": None}) == "19307"
    assert recommended_choice({"options": options[1:], "recommended": None}) is None
