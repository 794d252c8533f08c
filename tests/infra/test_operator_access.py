"""Who can open what, as the template builds it: operators sign in (Cognito, JWT authorizer),
approvers follow signed links without signing in."""
from __future__ import annotations

import pytest

from cwsync_local.runtime.translate import load_template, translate

OPERATOR_ROUTES = {("GET", "/"), ("GET", "/tasks/{id}"), ("POST", "/tasks/{id}"), ("POST", "/check")}
APPROVAL_ROUTES = {("GET", "/approvals/{id}"), ("POST", "/approvals/{id}"), ("ANY", "/approvals/{id}")}


@pytest.fixture(scope="module")
def sam() -> dict:
    return load_template()


@pytest.fixture(scope="module")
def resources() -> dict:
    return translate().cloudformation["Resources"]


def api_body(resources: dict) -> dict:
    """The OpenAPI document SAM builds for the HTTP API (routes, authorizers)."""
    apis = [r["Properties"]["Body"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert len(apis) == 1
    return apis[0]


def routes(resources: dict) -> dict[tuple[str, str], list]:
    """(METHOD, path) -> the route's OpenAPI `security` list."""
    found = {}
    for path, methods in api_body(resources)["paths"].items():
        for method, spec in methods.items():
            name = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
            found[(name, path)] = spec.get("security")
    return found


def test_the_http_api_has_one_jwt_authorizer_trusting_only_the_operator_pool_and_its_app_client(resources):
    schemes = api_body(resources)["components"]["securitySchemes"]
    assert list(schemes) == ["OperatorAuthorizer"]
    authorizer = schemes["OperatorAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["identitySource"] == "$request.header.Authorization"
    issuer = authorizer["jwtConfiguration"]["issuer"]["Fn::Sub"]
    assert issuer == "https://cognito-idp.${AWS::Region}.amazonaws.com/${OperatorUserPool}"
    assert authorizer["jwtConfiguration"]["audience"] == [{"Ref": "OperatorUserPoolClient"}]


def test_every_dashboard_route_needs_a_signed_in_operator(resources):
    found = routes(resources)
    assert OPERATOR_ROUTES <= set(found)
    for key in OPERATOR_ROUTES:
        assert found[key] == [{"OperatorAuthorizer": []}], key


def test_approval_links_stay_open_without_signing_in(resources):
    found = routes(resources)
    assert APPROVAL_ROUTES <= set(found)
    for key in APPROVAL_ROUTES:
        assert found[key] == [{"NONE": []}], key


def test_no_route_is_open_by_accident(resources):
    """A route added later is protected unless it opts out as the approval pages do."""
    for key, security in routes(resources).items():
        if key not in APPROVAL_ROUTES:
            assert security == [{"OperatorAuthorizer": []}], key


def test_operators_are_invited_never_signed_up_and_the_first_one_comes_from_a_parameter(sam):
    pool = sam["Resources"]["OperatorUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    user = sam["Resources"]["OperatorUser"]
    assert user["Condition"] == "HasOperatorEmail"
    assert user["Properties"]["Username"] == {"Ref": "OperatorEmail"}
    assert user["Properties"]["DesiredDeliveryMediums"] == ["EMAIL"]
    assert sam["Parameters"]["OperatorEmail"]["Default"] == ""


def test_the_dashboard_app_client_keeps_no_secret_and_short_lived_tokens(sam):
    client = sam["Resources"]["OperatorUserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert client["UserPoolId"] == {"Ref": "OperatorUserPool"}
    assert client["AccessTokenValidity"] <= 60 and client["TokenValidityUnits"]["AccessToken"] == "minutes"


def test_the_dashboard_function_insists_on_signed_in_operators_in_aws(sam):
    variables = sam["Resources"]["DashboardFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["OPERATOR_ACCESS"] == "cognito"
