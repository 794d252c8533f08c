"""The one way requests to the cwsync table are said: boto3's conditions, one update builder, and
one answer for a conditional write (applied, or refused because its condition did not hold)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from cwsync.adapters.dynamo_values import Attr, Key, Update, conditional_write, expression_request


def test_an_update_says_its_changes_and_keeps_names_and_values_out_of_the_text():
    update = (Update().set({"status": "done", "reason": 'a "quoted" #reason'})
              .append("history", [{"status": "done"}]).increment("attempt", missing=1).remove("decision", "decidedAt"))
    assert update.expression == ("SET #u0 = :u0, #u1 = :u1, #u2 = list_append(if_not_exists(#u2, :u2), :u3), "
                                 "#u3 = if_not_exists(#u3, :u4) + :u5 REMOVE #u4, #u5")
    assert update.names == {"#u0": "status", "#u1": "reason", "#u2": "history", "#u3": "attempt",
                            "#u4": "decision", "#u5": "decidedAt"}
    assert update.values == {":u0": "done", ":u1": 'a "quoted" #reason', ":u2": [], ":u3": [{"status": "done"}],
                             ":u4": 1, ":u5": 1}


def test_an_update_without_a_change_is_refused_before_it_is_sent():
    with pytest.raises(ValueError, match="at least one change"):
        Update().set({}).expression


def test_update_and_condition_placeholders_never_collide_and_values_go_out_in_wire_format():
    request = expression_request(update=Update().set({"status": "done", "price": Decimal("6.00")}),
                                 condition=Attr("PK").exists() & Attr("status").is_in(["new", "planned"]))
    assert request["UpdateExpression"] == "SET #u0 = :u0, #u1 = :u1"
    assert request["ConditionExpression"] == "(attribute_exists(#n0) AND #n1 IN (:v0, :v1))"
    assert request["ExpressionAttributeNames"] == {"#u0": "status", "#u1": "price", "#n0": "PK", "#n1": "status"}
    assert request["ExpressionAttributeValues"] == {":u0": {"S": "done"}, ":u1": {"N": "6.00"},
                                                    ":v0": {"S": "new"}, ":v1": {"S": "planned"}}


def test_a_query_states_its_key_and_filter_and_a_batch_read_its_attributes():
    request = expression_request(key=Key("PK").eq("TASK#1") & Key("SK").begins_with("OP#"),
                                 filter=Attr("taskId").eq("1"))
    assert request["KeyConditionExpression"] == "(#n0 = :v0 AND begins_with(#n1, :v1))"
    assert request["FilterExpression"] == "#n2 = :v2"
    assert request["ExpressionAttributeValues"] == {":v0": {"S": "TASK#1"}, ":v1": {"S": "OP#"}, ":v2": {"S": "1"}}
    assert expression_request(attributes=["PK", "status"]) == {
        "ProjectionExpression": "#p0, #p1", "ExpressionAttributeNames": {"#p0": "PK", "#p1": "status"}}


def refusing(code: str, item: dict | None = None):
    def call(**request):
        response = {"Error": {"Code": code, "Message": "no"}}
        if item is not None:
            response["Item"] = item
        raise ClientError(response, "UpdateItem")
    return call


def test_a_write_whose_condition_fails_is_told_as_refused_with_the_item_as_it_is():
    written = conditional_write(refusing("ConditionalCheckFailedException", {"version": {"N": "3"}}), Key={})
    assert written.applied is False and written.item == {"version": Decimal(3)}
    assert conditional_write(refusing("ConditionalCheckFailedException"), Key={}) == (False, {})


def test_an_applied_write_gives_back_the_attributes_it_asked_for():
    written = conditional_write(lambda **request: {"Attributes": {"attempt": {"N": "2"}}}, Key={})
    assert written.applied is True and written.item == {"attempt": Decimal(2)}


def test_any_other_error_of_a_conditional_write_is_raised():
    with pytest.raises(ClientError):
        conditional_write(refusing("ProvisionedThroughputExceededException"), Key={})
