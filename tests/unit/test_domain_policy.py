"""When a person confirms a plan before it is written to ConnectWise."""
from decimal import Decimal

import pytest

from cwsync.errors import ConfigurationError
from cwsync.domain.operations import Operation, Plan
from cwsync.domain.policy import needs_confirmation


def plan(total="50.00", decrease=False, nothing=False):
    operations = [] if nothing else [Operation("k", "create_adjustment", 12, {}, {}, "", Decimal(total))]
    return Plan("ORD-1", "change", "USD", 12, "summary", operations, nothing_to_change=nothing, decrease=decrease)




@pytest.mark.parametrize("policy, the_plan, threshold, expected", [
    ("always", plan(), None, (True, "Policy 'always': every change is confirmed by a person")),
    ("never", plan("-500", decrease=True), "100", (False, "Policy 'never': changes are applied without confirmation")),
    ("on_decrease_or_over_threshold", plan("-9.31", decrease=True), "100",
     (True, "The plan lowers what the customer is billed")),
    ("on_decrease_or_over_threshold", plan("100.01"), "100",
     (True, "Total 100.01 USD is over the threshold 100.00 USD")),
    ("on_decrease_or_over_threshold", plan("-250"), Decimal("100"),     # a large credit is worth a look too
     (True, "Total -250.00 USD is over the threshold 100.00 USD")),
    ("on_decrease_or_over_threshold", plan("100.00"), 100,
     (False, "No decrease and total 100.00 USD within policy (threshold 100.00)")),
    ("on_decrease_or_over_threshold", plan("5000"), None,
     (False, "No decrease and total 5000.00 USD within policy")),
    ("always", plan(nothing=True), None, (False, "Nothing to change")),
])
def test_the_approval_policy_decides_who_confirms(policy, the_plan, threshold, expected):
    assert needs_confirmation(policy, the_plan, threshold) == expected


def test_the_stored_json_form_of_a_plan_is_judged_the_same_way():
    stored = plan("123.45").to_dict()
    assert needs_confirmation("on_decrease_or_over_threshold", stored, "100") == (
        True, "Total 123.45 USD is over the threshold 100.00 USD")


def test_an_unknown_policy_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="Approval policy 'sometimes'"):
        needs_confirmation("sometimes", plan(), None)
