"""Who can open what, as the template builds it: operators sign in (Cognito's hosted UI, a
session cookie, the HTTP API's Lambda authorizer), approvers follow signed links without signing in."""
from __future__ import annotations

import pytest

from cwsync_local.runtime.translate import load_template, translate

OPERATOR_ROUTES = {("GET", "/"), ("GET", "/tasks/{id}"), ("POST", "/tasks/{id}"), ("POST", "/check"),
                   ("GET", "/links"), ("POST", "/links")}
APPROVAL_ROUTES = {("GET", "/approvals/{id}"), ("POST", "/approvals/{id}"), ("ANY", "/approvals/{id}")}
SIGN_IN_ROUTES = {("GET", "/sign-in"), ("GET", "/auth/callback"), ("GET", "/sign-out"), ("GET", "/signed-out")}
API_URL = "https://${ApprovalsApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"


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


def test_the_http_api_has_one_lambda_authorizer_that_checks_every_request_without_caching(resources):
    schemes = api_body(resources)["components"]["securitySchemes"]
    assert list(schemes) == ["OperatorAuthorizer"]
    authorizer = schemes["OperatorAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "request"
    assert authorizer["authorizerUri"]["Fn::Sub"][1]["__FunctionArn__"] == {
        "Fn::GetAtt": ["OperatorAuthorizerFunction", "Arn"]}
    assert authorizer["authorizerPayloadFormatVersion"] == "2.0" and authorizer["enableSimpleResponses"] is True
    # No cache: a signed-out or expired session is refused at once, never from a cached answer.
    assert authorizer["authorizerResultTtlInSeconds"] == 0 and authorizer["identitySource"] == []
    permission = resources["ApprovalsApiOperatorAuthorizerAuthorizerPermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"


def test_the_authorizer_knows_the_operator_pool_and_may_only_list_its_app_clients(sam):
    function = sam["Resources"]["OperatorAuthorizerFunction"]["Properties"]
    assert function["CodeUri"] == "../functions/operator_authorizer/"
    variables = function["Environment"]["Variables"]
    assert variables["OPERATOR_POOL_ID"] == {"Ref": "OperatorUserPool"}
    assert variables["OPERATOR_POOL_CLIENT_NAME"] == \
        sam["Resources"]["OperatorUserPoolClient"]["Properties"]["ClientName"]
    statements = [s for policy in function["Policies"] for s in policy["Statement"]]
    assert statements == [{"Sid": "FindTheDashboardAppClient", "Effect": "Allow",
                           "Action": ["cognito-idp:ListUserPoolClients"],
                           "Resource": {"Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:"
                                                   "${AWS::AccountId}:userpool/${OperatorUserPool}"}}]


def test_the_sign_in_pages_are_open_and_everything_else_but_the_approval_links_is_not(resources):
    found = routes(resources)
    assert SIGN_IN_ROUTES <= set(found)
    for key in SIGN_IN_ROUTES:
        assert found[key] == [{"NONE": []}], key


def test_the_app_client_signs_in_with_the_code_flow_back_to_the_dashboards_own_callback(sam):
    client = sam["Resources"]["OperatorUserPoolClient"]["Properties"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]  # never the implicit flow: no token in a URL
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email"}
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["CallbackURLs"] == [{"Fn::Sub": API_URL + "/auth/callback"}]
    assert client["LogoutURLs"] == [{"Fn::Sub": API_URL + "/signed-out"}]
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]


def test_the_pool_has_a_hosted_sign_in_domain_named_by_a_parameter_or_the_stack(sam):
    domain = sam["Resources"]["OperatorUserPoolDomain"]["Properties"]
    assert domain["UserPoolId"] == {"Ref": "OperatorUserPool"}
    assert domain["Domain"]["Fn::If"][:2] == ["HasSignInDomainPrefix", {"Ref": "OperatorSignInDomainPrefix"}]
    assert domain["ManagedLoginVersion"] == 1
    for function in ("DashboardFunction", "OperatorAuthorizerFunction"):
        variables = sam["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables["OPERATOR_SIGN_IN_DOMAIN"] == {
            "Fn::Sub": "${OperatorUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"}, function


def test_the_dashboard_address_given_to_operators_is_the_sign_in_page(sam):
    assert sam["Outputs"]["DashboardUrl"]["Value"] == {"Fn::Sub": API_URL + "/sign-in"}


def test_every_dashboard_route_needs_a_signed_in_operator(resources):
    found = routes(resources)
    assert OPERATOR_ROUTES <= set(found)
    for key in OPERATOR_ROUTES:
        assert found[key] == [{"OperatorAuthorizer": []}], key


def test_the_pages_a_signed_out_browser_is_sent_to_sign_in_from_are_exactly_the_protected_get_routes(resources):
    """The authorizer lets a page through signed out (the page redirects to sign in); every
    protected GET route is such a page, and no POST is."""
    from cwsync.operator_session import PAGE_ROUTES

    protected = {f"{method} {path}" for (method, path), security in routes(resources).items()
                 if security == [{"OperatorAuthorizer": []}]}
    assert PAGE_ROUTES == {route for route in protected if route.startswith("GET ")}
    assert all(route.split(" ")[0] == "GET" for route in PAGE_ROUTES)


def test_approval_links_stay_open_without_signing_in(resources):
    found = routes(resources)
    assert APPROVAL_ROUTES <= set(found)
    for key in APPROVAL_ROUTES:
        assert found[key] == [{"NONE": []}], key


def test_no_route_is_open_by_accident(resources):
    """A route added later is protected unless it opts out as the approval pages do."""
    for key, security in routes(resources).items():
        if key not in APPROVAL_ROUTES | SIGN_IN_ROUTES:
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
