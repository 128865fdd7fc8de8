"""aws_semantics.policy decides requests the way AWS's documented evaluation logic does.

Each test checks one rule and cites the AWS page it comes from; most also show the near miss
that the rule turns away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from aws_semantics.policy import (
    ANONYMOUS,
    Decision,
    Effect,
    Match,
    Policy,
    PolicyError,
    Request,
    UnsupportedCondition,
    authorize,
    evaluate,
)

ACCOUNT = "123456789012"
ROLE_NAME = "backend-kit-dev-users-us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/handler"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/backend-kit-dev-orders-us-east-1"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/users"
BUCKET = "arn:aws:s3:::assets"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def request(
    action: str = "dynamodb:GetItem",
    resource: str = TABLE,
    *,
    principal: str = SESSION,
    aliases: tuple[str, ...] = (ROLE,),
    context: Mapping[str, str | Sequence[str]] | None = None,
) -> Request:
    return Request(action, resource, principal, ACCOUNT, context or {}, aliases)


def policy(*statements: dict[str, Any], label: str = "role users / least-privilege") -> Policy:
    return Policy(label, {"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any = "dynamodb:GetItem", resource: Any = TABLE, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "dynamodb:GetItem", resource: Any = TABLE, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def effect(statement: dict[str, Any], req: Request) -> Effect:
    return evaluate(policy(statement), req, resource_policy="Principal" in statement).effect


def holds(condition: dict[str, Any], context: Mapping[str, str | Sequence[str]]) -> bool:
    """Whether an identity-policy Allow with this Condition applies to a request."""
    return effect(allow(Condition=condition), request(context=context)) is Effect.ALLOW


# --- evaluation logic ---------------------------------------------------------------------------


def test_an_identity_policy_allow_grants() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    ("If only identity-based policies apply ... at least one Allow")."""
    decision = authorize(request(), [policy(allow(Sid="ReadUsers"))])
    assert decision.allowed
    assert decision.by == Match(Effect.ALLOW, "role users / least-privilege", "ReadUsers")


def test_nothing_allowing_is_an_implicit_deny() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#AccessPolicyLanguage_Interplay
    (no applicable Allow and no Deny: implicitly denied)."""
    decision = authorize(request(), [policy(allow("dynamodb:PutItem"))])
    assert not decision.allowed
    assert decision.by is None
    assert decision.reason == "because no identity-based policy allows the dynamodb:GetItem action"


def test_no_policies_at_all_is_an_implicit_deny() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-denyallow
    ("By default, all requests are implicitly denied")."""
    assert not authorize(request(), []).allowed


def test_an_explicit_deny_in_one_policy_beats_an_allow_in_another() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    ("an explicit deny in any of these policies overrides the allow")."""
    grants = policy(allow(), label="role users / read")
    forbids = policy(deny(Sid="NoUsers"), label="role users / guard")
    decision = authorize(request(), [grants, forbids])
    assert not decision.allowed
    assert decision.by == Match(Effect.DENY, "role users / guard", "NoUsers")
    assert decision.reason == "with an explicit deny in an identity-based policy"


def test_an_identity_policy_deny_beats_a_bucket_policy_allow_naming_the_role() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-basics-id-rdp
    ("An explicit deny in either of these policies overrides the allow")."""
    bucket = policy(
        allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ROLE}), label="bucket policy"
    )
    identity = policy(deny("s3:*", f"{BUCKET}/*"))
    decision = authorize(request("s3:GetObject", f"{BUCKET}/a"), [identity], bucket)
    assert not decision.allowed
    assert decision.reason == "with an explicit deny in an identity-based policy"


def test_a_deny_in_a_resource_policy_is_reported_as_such() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
    ("with an explicit deny in a resource-based policy")."""
    bucket = policy(deny("s3:*", f"{BUCKET}/*", Principal="*"), label="bucket policy of assets")
    decision = authorize(
        request("s3:GetObject", f"{BUCKET}/a"), [policy(allow("s3:*", "*"))], bucket
    )
    assert not decision.allowed
    assert decision.reason == "with an explicit deny in a resource-based policy"
    assert decision.by == Match(Effect.DENY, "bucket policy of assets", "#0")


def test_a_statement_without_sid_is_named_by_its_index() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
    (Sid is optional)."""
    match = evaluate(policy(allow("s3:*", "*"), deny()), request(), resource_policy=False)
    assert match == Match(Effect.DENY, "role users / least-privilege", "#1")


def test_the_account_root_user_is_allowed_without_policies() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-denyallow
    ("all requests are implicitly denied with the exception of the AWS account root user")."""
    root = request(principal=ROOT, aliases=())
    assert authorize(root, []).allowed
    assert not authorize(root, [policy(deny())]).allowed
    assert not authorize(request(principal=USER, aliases=()), []).allowed


# --- Statement, Effect, Action, Resource --------------------------------------------------------


def test_statement_may_be_a_single_object() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_statement.html
    (Statement is a single object or an array)."""
    single = Policy("inline", {"Version": "2012-10-17", "Statement": allow()})
    assert evaluate(single, request(), resource_policy=False).effect is Effect.ALLOW


def test_effect_must_be_allow_or_deny() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_effect.html
    (valid values are Allow and Deny)."""
    with pytest.raises(PolicyError, match="Effect"):
        evaluate(policy({**allow(), "Effect": "allow"}), request(), resource_policy=False)


def test_action_may_be_a_string_or_a_list_and_ignores_case() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    ("The prefix and the action name are case insensitive"; several actions in a list)."""
    assert effect(allow("DynamoDB:getitem"), request()) is Effect.ALLOW
    assert effect(allow(["dynamodb:Query", "dynamodb:GetItem"]), request()) is Effect.ALLOW
    assert effect(allow("dynamodb:GetItem"), request("dynamodb:BatchGetItem")) is Effect.NONE


def test_action_wildcards() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    (wildcards, `*` or `?`, "as part of the action name")."""
    assert effect(allow("dynamodb:Get*"), request()) is Effect.ALLOW
    assert effect(allow("dynamodb:Get*"), request("dynamodb:PutItem")) is Effect.NONE
    assert effect(allow("dynamodb:?etItem"), request()) is Effect.ALLOW
    assert effect(allow("dynamodb:?etItem"), request("dynamodb:GetItems")) is Effect.NONE
    assert effect(allow("*"), request()) is Effect.ALLOW


def test_not_action_matches_every_action_it_does_not_list() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html"""
    statement = {"Effect": "Allow", "NotAction": ["iam:*", "kms:*"], "Resource": "*"}
    assert effect(statement, request()) is Effect.ALLOW
    assert effect(statement, request("iam:CreateUser", "*")) is Effect.NONE


def test_not_resource_matches_every_resource_it_does_not_list() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html"""
    statement = {"Effect": "Deny", "Action": "dynamodb:*", "NotResource": TABLE}
    assert effect(statement, request(resource=TABLE)) is Effect.NONE
    assert effect(statement, request(resource=f"{TABLE}-archive")) is Effect.DENY


def test_a_statement_needs_an_action_and_a_resource() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    ("Statements must include either a Resource or a NotResource element")."""
    with pytest.raises(PolicyError, match="Resource"):
        evaluate(policy({"Effect": "Allow", "Action": "*"}), request(), resource_policy=False)
    with pytest.raises(PolicyError, match="Action"):
        evaluate(policy({"Effect": "Allow", "Resource": "*"}), request(), resource_policy=False)


def test_resources_are_case_sensitive() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    (resource names are case sensitive)."""
    assert effect(allow(resource=TABLE.replace("users", "Users")), request()) is Effect.NONE


def test_resource_list_any_entry_matches() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    (several resources in a list)."""
    assert effect(allow(resource=[f"{TABLE}-archive", TABLE]), request()) is Effect.ALLOW


def test_index_wildcard_covers_the_indexes_but_not_the_table() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    (`*` in the resource part of the ARN)."""
    statement = allow("dynamodb:Query", f"{TABLE}/index/*")
    assert effect(statement, request("dynamodb:Query", f"{TABLE}/index/by-email")) is Effect.ALLOW
    assert effect(statement, request("dynamodb:Query", TABLE)) is Effect.NONE
    other_table = f"{TABLE}-archive/index/by-email"
    assert effect(statement, request("dynamodb:Query", other_table)) is Effect.NONE


def test_object_wildcard_spans_slashes_under_its_prefix_only() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    (`*` "can expand to replace everything within a segment, including ... a forward slash")."""
    statement = allow("s3:GetObject", "arn:aws:s3:::bucket/items/*")
    assert effect(statement, request("s3:GetObject", "arn:aws:s3:::bucket/items/a/b.json")) == (
        Effect.ALLOW
    )
    assert effect(statement, request("s3:GetObject", "arn:aws:s3:::bucket/other/a")) == (
        Effect.NONE
    )
    assert effect(statement, request("s3:GetObject", "arn:aws:s3:::bucket/items")) == (Effect.NONE)


def test_a_trailing_star_in_a_segment_spans_colons() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    ("If the * wildcard is the last character of a resource ARN segment, it can expand to match
    beyond the colon boundaries")."""
    assert effect(allow(resource="arn:aws:dynamodb:*"), request()) is Effect.ALLOW
    assert effect(allow(resource="arn:aws:s3:::*"), request()) is Effect.NONE


def test_question_mark_is_exactly_one_character() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    ("a question mark (?) represents any single character")."""
    pattern = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/user?"
    assert effect(allow(resource=pattern), request()) is Effect.ALLOW
    assert effect(allow(resource=pattern), request(resource=f"{TABLE}x")) is Effect.NONE
    assert effect(allow(resource=pattern), request(resource=TABLE[:-1])) is Effect.NONE


def test_an_action_without_a_resource_matches_only_resource_star() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    (actions that take no resource use `*` in the Resource element)."""
    listing = request("dynamodb:ListTables", "*")
    assert effect(allow("dynamodb:ListTables", "*"), listing) is Effect.ALLOW
    assert effect(allow("dynamodb:ListTables", TABLE), listing) is Effect.NONE


def test_policy_variables_are_refused() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    (a variable needs request data this module does not have)."""
    with pytest.raises(PolicyError, match="variables"):
        evaluate(
            policy(allow(resource="arn:aws:s3:::b/${aws:username}/*")),
            request(),
            resource_policy=False,
        )


# --- Principal and NotPrincipal -----------------------------------------------------------------


def resource_statement(principal: Any, **extra: Any) -> dict[str, Any]:
    return allow(Principal=principal, **extra)


def named(principal: Any, req: Request | None = None) -> Match:
    return evaluate(policy(resource_statement(principal)), req or request(), resource_policy=True)


def test_principal_star_and_aws_star_name_every_caller() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous
    ("Principal": "*" and {"AWS": "*"} are equivalent)."""
    for principal in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
        assert named(principal) == Match(Effect.ALLOW, "role users / least-privilege", "#0")


def test_a_role_principal_matches_its_sessions_through_the_alias() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-denyallow
    (a role session is the caller; the role ARN names the role it belongs to)."""
    assert named({"AWS": ROLE}).effect is Effect.ALLOW
    assert named({"AWS": ROLE}, request(aliases=())).effect is Effect.NONE
    assert named({"AWS": OTHER_ROLE}).effect is Effect.NONE


def test_session_and_user_principals_match_exactly() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    ("You cannot use a wildcard to match part of a principal name or ARN")."""
    assert named({"AWS": SESSION}).effect is Effect.ALLOW
    user = request(principal=USER, aliases=())
    assert named({"AWS": [OTHER_ROLE, USER]}, user).effect is Effect.ALLOW
    assert named({"AWS": f"arn:aws:iam::{ACCOUNT}:user/*"}, user).effect is Effect.NONE
    assert named({"AWS": USER.upper()}, user).effect is Effect.NONE


def test_the_account_root_and_the_bare_account_id_delegate() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    ("The account ARN and the shortened account ID behave the same way. Both delegate")."""
    for principal in ({"AWS": ROOT}, {"AWS": ACCOUNT}):
        match = named(principal)
        assert match.effect is Effect.ALLOW
        assert match.delegated
    assert named({"AWS": "999999999999"}).effect is Effect.NONE


def test_a_service_principal_never_matches_an_iam_caller() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-services
    (a service principal is an identifier for a service)."""
    assert named({"Service": "s3.amazonaws.com"}).effect is Effect.NONE
    assert named({"Service": "s3.amazonaws.com", "AWS": ROLE}).effect is Effect.ALLOW


def test_a_resource_policy_statement_needs_a_principal() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    ("You must use the Principal element in resource-based policies")."""
    with pytest.raises(PolicyError, match="Principal"):
        evaluate(policy(allow()), request(), resource_policy=True)
    with pytest.raises(PolicyError, match="Principal"):
        named("arn:aws:iam::123456789012:root")  # a bare string other than "*"


def test_a_statement_naming_the_caller_wins_over_one_naming_the_account() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-denyallow
    (a grant to the caller stands alone; a grant to the account needs IAM as well)."""
    document = policy(
        resource_statement({"AWS": ROOT}), resource_statement({"AWS": ROLE}, Sid="Role")
    )
    match = evaluate(document, request(), resource_policy=True)
    assert match == Match(Effect.ALLOW, "role users / least-privilege", "Role", delegated=False)


def test_a_deny_naming_the_account_applies_to_its_callers() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    (a deny to an account "might deny access to the entire account containing the principal")."""
    statement = deny(Principal={"AWS": ROOT})
    assert evaluate(policy(statement), request(), resource_policy=True).effect is Effect.DENY


def test_not_principal_spares_a_session_only_with_its_role_and_account() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html:
    AWS "might validate the account first, then the role, and then the assumed-role user", so
    a Deny whose NotPrincipal lists the session alone, or with its role only, still denies."""
    for partial in ([SESSION], [SESSION, ROLE], [SESSION, ROOT], [ROOT]):
        statement = deny(NotPrincipal={"AWS": partial})
        assert evaluate(policy(statement), request(), resource_policy=True).effect is Effect.DENY
    whole = deny(NotPrincipal={"AWS": [SESSION, ROLE, ACCOUNT]})  # the bare id is the account
    assert evaluate(policy(whole), request(), resource_policy=True).effect is Effect.NONE
    root = request(principal=ROOT, aliases=())
    spare_account = policy(deny(NotPrincipal={"AWS": ROOT}))
    assert evaluate(spare_account, root, resource_policy=True).effect is Effect.NONE


def test_an_anonymous_caller_is_named_only_by_everyone() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous:
    no identity policies, no account, and only "*" names it."""
    anonymous = request(principal=ANONYMOUS, aliases=())
    anonymous = Request(anonymous.action, anonymous.resource, ANONYMOUS, "", {})
    for named, allowed in [("*", True), ({"AWS": "*"}, True), ({"AWS": ROOT}, False),
                           ({"AWS": ACCOUNT}, False)]:  # fmt: skip
        bucket = policy(allow(Principal=named), label="bucket policy")
        assert authorize(anonymous, [], bucket).allowed is allowed, named
    everyone_but = policy(deny(NotPrincipal={"AWS": ROOT}), allow(Principal="*"))
    assert not authorize(anonymous, [], everyone_but).allowed


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (f"arn:aws:dynamodb:*:{ACCOUNT}:table/users", True),
        ("arn:aws:dynamodb:us-*:*:table/users", True),
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/us*", True),
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:*users", True),
        ("arn:aws:dynamodb:us-east-1:*:users", False),  # users follows a slash there, not a colon
        ("arn:aws:dynamodb:*:table/users", True),  # a segment's last * may expand past colons
        ("arn:aws:dynamodb:us-east-1:*", True),  # the last segment's * spans the rest
        ("arn:aws:dynamodb:*", True),  # fewer segments: the trailing * expands past colons
    ],
)
def test_resource_wildcards_keep_to_their_arn_segment(pattern: str, expected: bool) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards"""
    assert (effect(allow(resource=pattern), request()) is Effect.ALLOW) is expected


LOG_STREAM = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn:log-stream:2026/12/05/x"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # a * inside a segment stays in it: here it would have to cross two colons
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/*/x", False),
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/*/fn:log-stream:2026/*/x", True),
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*/fn:log-stream:*", True),
        # a segment's last * may cross colons: here the region's takes in the account too
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/*", True),
        ("arn:aws:logs:*:log-group:/aws/lambda/fn:log-stream:*", True),
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:*:log-stream:2026/12/05/x", True),
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/f*", True),
        # ? is one character of its segment, never a colon
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn?log-stream:*", False),
        (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/f?:log-stream:*", True),
    ],
)
def test_a_wildcard_keeps_to_its_segment_unless_it_ends_it(pattern: str, expected: bool) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
    (wildcards "within the individual segments of an ARN (the parts separated by colons)";
    only a segment's last `*` "can expand to match beyond the colon boundaries"): the resource
    part has colon-separated segments of its own, as a log stream's ARN does."""
    writes = request("logs:PutLogEvents", LOG_STREAM)
    assert (effect(allow("logs:PutLogEvents", pattern), writes) is Effect.ALLOW) is expected


def test_not_principal_with_allow_is_refused() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    ("NotPrincipal must be used with "Effect":"Deny". Using it with "Effect":"Allow" is not
    supported"): refused, whether or not the statement concerns the request."""
    for action in ("dynamodb:GetItem", "s3:GetObject"):
        statement = allow(action, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/other"})
        with pytest.raises(PolicyError, match="NotPrincipal"):
            evaluate(policy(statement), request(), resource_policy=True)
    spare_other = deny(NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/other"})
    assert evaluate(policy(spare_other), request(), resource_policy=True).effect is Effect.DENY


def test_an_anonymous_caller_has_no_identity_policies() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous
    (an unsigned request is anonymous: no identity, so nothing but a resource policy can
    allow it), and it is never the account's root user."""
    anonymous = Request("s3:GetObject", f"{BUCKET}/a", ANONYMOUS, ACCOUNT, {})
    with pytest.raises(PolicyError, match="anonymous"):
        authorize(anonymous, [policy(allow("s3:*", "*"))])
    assert not authorize(anonymous, []).allowed  # not the root user, even with an account
    named_account = policy(allow("s3:*", "*", Principal={"AWS": ACCOUNT}), label="bucket")
    assert not authorize(anonymous, [], named_account).allowed


def test_a_decision_tells_an_explicit_deny_from_an_implicit_one() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#AccessPolicyLanguage_Interplay
    (an explicit deny overrides; without any allow the request is implicitly denied)."""
    denied = authorize(request(), [policy(allow(), deny())])
    assert denied.explicitly_denied and not denied.allowed
    implicit = authorize(request(), [policy(allow("dynamodb:PutItem"))])
    assert not implicit.explicitly_denied and not implicit.allowed
    assert not authorize(request(), [policy(allow())]).explicitly_denied


def test_not_principal_deny_spares_only_the_listed_session() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    (an assumed-role session must be named itself: "Principals must always name a specific
    session"; the account ARN does not spare the account's other principals)."""
    spare_session = deny(NotPrincipal={"AWS": [SESSION, ROLE, ROOT]})
    assert evaluate(policy(spare_session), request(), resource_policy=True).effect is Effect.NONE
    spare_role_only = deny(NotPrincipal={"AWS": [ROLE, ROOT]})
    assert evaluate(policy(spare_role_only), request(), resource_policy=True).effect is Effect.DENY
    user = request(principal=USER, aliases=())
    assert evaluate(policy(spare_session), user, resource_policy=True).effect is Effect.DENY


# --- Conditions ---------------------------------------------------------------------------------


def test_string_equals_is_exact_and_case_sensitive() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    (StringEquals: "Exact matching, case sensitive")."""
    condition = {"StringEquals": {"aws:username": "johndoe"}}
    assert holds(condition, {"aws:username": "johndoe"})
    assert not holds(condition, {"aws:username": "JohnDoe"})


def test_condition_key_names_ignore_case() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    ("Condition key names are not case-sensitive")."""
    condition = {"StringEquals": {"AWS:SourceIp": "203.0.113.7"}}
    assert holds(condition, {"aws:sourceip": "203.0.113.7"})
    assert not holds(condition, {"aws:sourceip": "203.0.113.8"})


def test_a_key_absent_from_the_request_fails_the_condition() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    ("If the key ... is not present in the request context, the values do not match")."""
    assert not holds({"StringEquals": {"aws:PrincipalTag/team": "users"}}, {})
    assert not holds({"NumericLessThan": {"s3:max-keys": "10"}}, {})


def test_several_values_for_one_key_are_or_ed() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    ("those values are evaluated using a logical OR")."""
    condition = {"StringEquals": {"aws:PrincipalTag/team": ["audit", "security"]}}
    assert holds(condition, {"aws:PrincipalTag/team": "security"})
    assert not holds(condition, {"aws:PrincipalTag/team": "users"})


def test_several_keys_and_operators_are_and_ed() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    (operators and keys in a block are evaluated using a logical AND)."""
    condition = {
        "StringEquals": {"aws:PrincipalTag/team": "users", "aws:RequestedRegion": "us-east-1"},
        "Bool": {"aws:SecureTransport": "true"},
    }
    every = {
        "aws:PrincipalTag/team": "users",
        "aws:RequestedRegion": "us-east-1",
        "aws:SecureTransport": "true",
    }
    assert holds(condition, every)
    for key in every:
        assert not holds(condition, {**every, key: "other"})


def test_negated_string_operators_nor_their_values_and_hold_for_an_absent_key() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    (negated operators' values are NOR-ed) and
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    ("the right key is not present, the condition is true")."""
    condition = {"StringNotEquals": {"aws:PrincipalTag/team": ["audit", "security"]}}
    assert holds(condition, {"aws:PrincipalTag/team": "users"})
    assert not holds(condition, {"aws:PrincipalTag/team": "audit"})
    assert not holds(condition, {"aws:PrincipalTag/team": "security"})
    assert holds(condition, {})


def test_string_ignore_case_operators() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    (StringEqualsIgnoreCase / StringNotEqualsIgnoreCase)."""
    equal = {"StringEqualsIgnoreCase": {"aws:username": "johndoe"}}
    assert holds(equal, {"aws:username": "JohnDoe"})
    assert not holds(equal, {"aws:username": "janedoe"})
    unequal = {"StringNotEqualsIgnoreCase": {"aws:username": "johndoe"}}
    assert not holds(unequal, {"aws:username": "JOHNDOE"})
    assert holds(unequal, {"aws:username": "janedoe"})


def test_string_like_wildcards_match_the_whole_value() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    (StringLike: `*` and `?` anywhere, case-sensitive; the s3:prefix example with "")."""
    condition = {"StringLike": {"s3:prefix": ["", "home/", "home/*/"]}}
    assert holds(condition, {"s3:prefix": ""})
    assert holds(condition, {"s3:prefix": "home/alice/"})
    assert not holds(condition, {"s3:prefix": "home/alice"})
    assert not holds(condition, {"s3:prefix": "Home/"})
    assert holds({"StringLike": {"s3:prefix": "h?me/"}}, {"s3:prefix": "home/"})


def test_string_not_like() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    (StringNotLike: negated matching; true when the key is absent)."""
    condition = {"StringNotLike": {"s3:prefix": "private/*"}}
    assert holds(condition, {"s3:prefix": "public/a"})
    assert not holds(condition, {"s3:prefix": "private/a"})
    assert holds(condition, {})


def test_arn_operators_match_component_by_component() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    (the page's own example: StringLike matches, ArnLike does not)."""
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    assert holds({"StringLike": {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
    for operator in ("ArnLike", "ArnEquals"):
        assert not holds({operator: {"aws:SourceArn": pattern}}, {"aws:SourceArn": value})
        fits = "arn:aws:someservice:us-east-2:111122223333:finance/document.txt"
        assert holds({operator: {"aws:SourceArn": pattern}}, {"aws:SourceArn": fits})


def test_negated_arn_operators() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    (ArnNotEquals / ArnNotLike: negated matching)."""
    for operator in ("ArnNotEquals", "ArnNotLike"):
        condition = {operator: {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/backend-*"}}
        assert not holds(condition, {"aws:PrincipalArn": ROLE})
        assert holds(condition, {"aws:PrincipalArn": USER})
        assert holds(condition, {})


def test_bool_compares_json_booleans_as_text() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/policy-conditions.html
    (policies write `"Bool": {"kms:GrantIsForAWSResource": true}`)."""
    assert holds(
        {"Bool": {"kms:GrantIsForAWSResource": True}}, {"kms:GrantIsForAWSResource": "true"}
    )
    assert not holds({"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": "true"})
    assert not holds({"Bool": {"aws:SecureTransport": "false"}}, {})
    # String operators see the same text: JSON true is "true", not "True".
    assert holds(
        {"StringEquals": {"aws:MultiFactorAuthPresent": True}},
        {"aws:MultiFactorAuthPresent": "true"},
    )


def test_null_checks_whether_the_key_is_there() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
    (true: the key doesn't exist; false: the key exists)."""
    assert holds({"Null": {"aws:TokenIssueTime": True}}, {})
    assert not holds({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "t"})
    assert holds(
        {"Null": {"kms:EncryptionContextKeys": False}}, {"kms:EncryptionContextKeys": ["a"]}
    )
    assert not holds({"Null": {"kms:EncryptionContextKeys": False}}, {})


@pytest.mark.parametrize(
    ("operator", "below", "equal", "above"),
    [
        ("NumericEquals", False, True, False),
        ("NumericNotEquals", True, False, True),
        ("NumericLessThan", True, False, False),
        ("NumericLessThanEquals", True, True, False),
        ("NumericGreaterThan", False, False, True),
        ("NumericGreaterThanEquals", False, True, True),
    ],
)
def test_numeric_operators_compare_numbers(
    operator: str, below: bool, equal: bool, above: bool
) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
    (a JSON number 14 in the policy compares as the number 14, "9" < 14 < "100")."""
    condition = {operator: {"s3:max-keys": 14}}
    assert holds(condition, {"s3:max-keys": "9"}) is below
    assert holds(condition, {"s3:max-keys": "14.0"}) is equal
    assert holds(condition, {"s3:max-keys": "100"}) is above


def test_a_request_value_that_is_not_a_number_matches_no_numeric_operator() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
    (numeric operators compare to an integer or decimal value)."""
    assert not holds({"NumericNotEquals": {"s3:max-keys": 10}}, {"s3:max-keys": "ten"})
    assert holds({"NumericNotEquals": {"s3:max-keys": 10}}, {})  # negated: absent is true
    with pytest.raises(PolicyError, match="Numeric"):
        holds({"NumericEquals": {"s3:max-keys": "ten"}}, {"s3:max-keys": "10"})


def test_if_exists_holds_for_an_absent_key_and_checks_a_present_one() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
    ("If the key is not present, evaluate the condition element as true")."""
    condition = {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*"]}}
    assert holds(condition, {})
    assert holds(condition, {"ec2:InstanceType": "t2.micro"})
    assert not holds(condition, {"ec2:InstanceType": "m5.large"})
    assert holds({"NumericLessThanIfExists": {"s3:max-keys": 10}}, {})


def test_for_all_values_needs_every_request_value_listed() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    (ForAllValues: every request value matches a policy value; an empty set is true) and
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    (true "if there are no context keys in the request")."""
    condition = {"ForAllValues:StringLike": {"dynamodb:Attributes": ["PostDateTime", "Message"]}}
    assert holds(condition, {"dynamodb:Attributes": ["PostDateTime", "Message"]})
    assert not holds(condition, {"dynamodb:Attributes": ["PostDateTime", "UserName"]})
    assert holds(condition, {"dynamodb:Attributes": []})
    assert holds(condition, {})


def test_for_any_value_needs_one_request_value_listed() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    (ForAnyValue: any one request value matches; an empty set is false)."""
    condition = {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}}
    assert holds(condition, {"dynamodb:Attributes": ["UserName", "PostDateTime"]})
    assert not holds(condition, {"dynamodb:Attributes": ["UserName", "Message"]})
    assert not holds(condition, {"dynamodb:Attributes": []})
    assert not holds(condition, {})


def test_a_set_operator_decides_an_absent_key_with_if_exists_or_without() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    (ForAllValues "also returns true if there are no context keys in the request"; for
    ForAnyValue, with no key in the request context "the condition returns false"): the set
    operator decides, and an IfExists after it changes nothing."""
    assert not holds({"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "team"}}, {})
    assert not holds({"ForAnyValue:StringNotEqualsIfExists": {"aws:TagKeys": "team"}}, {})
    assert holds({"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": "team"}}, {})
    assert holds({"ForAllValues:StringNotEquals": {"aws:TagKeys": "team"}}, {})


def test_set_operators_combine_with_negated_operators_per_value() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    (the qualifier applies the operator to each request value; negated values are NOR-ed)."""
    condition = {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["owner", "cost"]}}
    assert holds(condition, {"aws:TagKeys": ["team", "stage"]})
    assert not holds(condition, {"aws:TagKeys": ["team", "owner"]})


@pytest.mark.parametrize(
    "operator",
    [
        "NullIfExists",
        "ForAnyValue:Null",
        "ForEveryValue:StringEquals",
        "stringequals",
    ],
)
def test_an_unknown_operator_is_refused_by_name(operator: str) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    (operators outside this module's set, and IfExists on Null, which the page excludes)."""
    with pytest.raises(UnsupportedCondition, match=operator):
        holds({operator: {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}, {})


def test_a_single_valued_operator_never_matches_a_multivalued_key() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    ("Multivalued context keys require a condition set operator"): present, a multivalued key
    matches no single-valued operator, negated or IfExists included, however many values it
    has; with a set operator it does."""
    for operator in ("StringEquals", "StringNotEquals", "StringEqualsIfExists"):
        assert not holds({operator: {"aws:TagKeys": "team"}}, {"aws:TagKeys": ["team"]})
        assert not holds({operator: {"aws:TagKeys": "x"}}, {"aws:TagKeys": ["team", "stage"]})
    assert holds({"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}, {"aws:TagKeys": ["team"]})
    assert holds({"StringNotEquals": {"aws:TagKeys": "team"}}, {})  # absent: negated holds


DATES = {"aws:CurrentTime": "2026-12-05T10:00:00Z", "aws:EpochTime": "1796464800"}


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("DateEquals", "2026-12-05T10:00:00Z", True),
        ("DateEquals", "2026-12-05T11:00:00+01:00", True),  # the same moment, another offset
        ("DateEquals", "1796464800", True),  # epoch seconds
        ("DateNotEquals", "2026-12-05T10:00:01Z", True),
        ("DateLessThan", "2026-12-05T10:00:00Z", False),
        ("DateLessThanEquals", "2026-12-05T10:00:00Z", True),
        ("DateGreaterThan", "2026-12-05T09:59:59Z", True),
        ("DateGreaterThanEquals", "2026-12-06T00:00:00Z", False),
    ],
)
def test_date_operators_compare_moments(operator: str, value: str, expected: bool) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
    (ISO 8601 dates or epoch time, on either side)."""
    assert holds({operator: {"aws:CurrentTime": value}}, DATES) is expected
    assert holds({operator: {"aws:EpochTime": value}}, DATES) is expected


def test_a_date_operator_on_an_absent_key_or_a_bad_value() -> None:
    assert not holds({"DateLessThan": {"aws:TokenIssueTime": "2030-01-01T00:00:00Z"}}, DATES)
    assert holds({"DateNotEquals": {"aws:TokenIssueTime": "2030-01-01T00:00:00Z"}}, DATES)
    assert not holds({"DateEquals": {"aws:CurrentTime": "2026-12-05T10:00:00Z"}},
                     {"aws:CurrentTime": "not a date"})  # fmt: skip
    with pytest.raises(PolicyError, match="must be dates"):
        holds({"DateEquals": {"aws:CurrentTime": "tomorrow"}}, DATES)


@pytest.mark.parametrize(
    ("operator", "cidrs", "address", "expected"),
    [
        ("IpAddress", "203.0.113.0/24", "203.0.113.7", True),
        ("IpAddress", ["10.0.0.0/8", "203.0.113.7/32"], "203.0.113.7", True),
        ("IpAddress", "203.0.113.0/24", "203.0.114.7", False),
        ("IpAddress", "2001:db8::/32", "2001:db8::1", True),
        ("IpAddress", "0.0.0.0/0", "2001:db8::1", False),  # IPv6 is in no IPv4 range
        ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", True),
        ("NotIpAddress", "203.0.113.0/24", "203.0.113.9", False),
    ],
)
def test_ip_address_operators_match_cidr_ranges(
    operator: str, cidrs: Any, address: str, expected: bool
) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress"""
    assert holds({operator: {"aws:SourceIp": cidrs}}, {"aws:SourceIp": address}) is expected


def test_binary_equals_compares_base64_values() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_BinaryEquals"""
    assert holds({"BinaryEquals": {"key": "QmluYXJ5VmFsdWU="}}, {"key": "QmluYXJ5VmFsdWU="})
    assert not holds({"BinaryEquals": {"key": "QmluYXJ5VmFsdWU="}}, {"key": "b3RoZXI="})


def test_a_statement_that_does_not_concern_the_request_is_not_checked() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    (only statements that apply to the request take part)."""
    other = allow("s3:GetObject", "*", Condition={"DateGreaterThan": {"aws:CurrentTime": "x"}})
    assert effect(other, request()) is Effect.NONE


# --- KMS ----------------------------------------------------------------------------------------


def kms_request(action: str = "kms:Decrypt", **context: str) -> Request:
    return request(action, KEY, context=dict(context))


def key_policy(*statements: dict[str, Any]) -> Policy:
    return policy(*statements, label=f"key policy of {KEY}")


ENABLE_IAM = {"Sid": "Enable IAM policies", **allow("kms:*", "*", Principal={"AWS": ROOT})}
IAM_DECRYPT = policy(allow("kms:Decrypt", KEY, Sid="Decrypt"))


def test_kms_key_policy_naming_the_account_plus_an_iam_allow_allows() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
    (the account principal lets IAM policies delegate access to the key)."""
    decision = authorize(
        kms_request(), [IAM_DECRYPT], key_policy(ENABLE_IAM), resource_required=True
    )
    assert decision.allowed
    assert decision.by == Match(Effect.ALLOW, "role users / least-privilege", "Decrypt")


def test_kms_key_policy_naming_the_account_without_an_iam_allow_denies() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
    ("the policy statement doesn't give any IAM users or roles permission to use the KMS key")."""
    decision = authorize(kms_request(), [], key_policy(ENABLE_IAM), resource_required=True)
    assert not decision.allowed
    assert decision.reason == "because no identity-based policy allows the kms:Decrypt action"


def test_kms_iam_allow_without_a_matching_key_policy_statement_denies() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    ("Without permission from the key policy, IAM policies that allow permissions have no
    effect")."""
    admins_only = allow("kms:Describe*", "*", Principal={"AWS": ROOT})
    for resource in (key_policy(admins_only), None):
        decision = authorize(kms_request(), [IAM_DECRYPT], resource, resource_required=True)
        assert not decision.allowed
        assert decision.reason == "because no resource-based policy allows the kms:Decrypt action"


def test_kms_key_policy_naming_the_role_allows_without_iam() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    ("You can use the key policy alone to control access")."""
    users = allow("kms:Decrypt", "*", Principal={"AWS": ROLE}, Sid="Key users")
    decision = authorize(kms_request(), [], key_policy(users), resource_required=True)
    assert decision.allowed
    assert decision.by == Match(Effect.ALLOW, f"key policy of {KEY}", "Key users")


def test_kms_the_root_user_needs_the_key_policy_too() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
    ("No AWS principal, including the account root user ... has any permissions to a KMS key
    unless they are explicitly allowed")."""
    root = request("kms:Decrypt", KEY, principal=ROOT, aliases=())
    assert authorize(root, [], key_policy(ENABLE_IAM), resource_required=True).allowed
    bare_account = allow("kms:*", "*", Principal={"AWS": ACCOUNT})
    assert authorize(root, [], key_policy(bare_account), resource_required=True).allowed
    users = allow("kms:Decrypt", "*", Principal={"AWS": ROLE})
    assert not authorize(root, [], key_policy(users), resource_required=True).allowed


def test_kms_via_service_limits_the_key_to_one_service() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/policy-conditions.html#conditions-kms-via-service
    (StringEquals on kms:ViaService)."""
    via_s3 = allow(
        "kms:Decrypt",
        "*",
        Principal={"AWS": ROLE},
        Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    )
    key = key_policy(via_s3)
    through_s3 = kms_request(**{"kms:ViaService": "s3.us-east-1.amazonaws.com"})
    through_dynamodb = kms_request(**{"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"})
    assert authorize(through_s3, [], key, resource_required=True).allowed
    assert not authorize(through_dynamodb, [], key, resource_required=True).allowed
    assert not authorize(kms_request(), [], key, resource_required=True).allowed  # direct call


def test_kms_encryption_context_condition() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/policy-conditions.html#conditions-kms-encryption-context
    (StringEquals on kms:EncryptionContext:<key>; a request without that pair does not match;
    "the condition key is not case sensitive", the value is)."""
    bucket_only = allow(
        "kms:Decrypt",
        "*",
        Principal={"AWS": ROLE},
        Condition={"StringEquals": {"kms:EncryptionContext:aws:s3:arn": BUCKET}},
    )
    key = key_policy(bucket_only)
    assert authorize(
        kms_request(**{"kms:EncryptionContext:AWS:S3:ARN": BUCKET}), [], key, resource_required=True
    ).allowed
    assert not authorize(kms_request(), [], key, resource_required=True).allowed
    other_bucket = kms_request(**{"kms:EncryptionContext:aws:s3:arn": f"{BUCKET}-logs"})
    assert not authorize(other_bucket, [], key, resource_required=True).allowed
    upper = kms_request(**{"kms:EncryptionContext:aws:s3:arn": BUCKET.upper()})
    assert not authorize(upper, [], key, resource_required=True).allowed


# --- S3 bucket policies -------------------------------------------------------------------------

TLS_ONLY = {
    "Sid": "DenyPlainHttp",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET, f"{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
S3_READ = policy(allow("s3:GetObject", f"{BUCKET}/*"))


def bucket_policy(*statements: dict[str, Any]) -> Policy:
    return policy(*statements, label="bucket policy of assets")


def s3_get(secure: str = "true", **kwargs: Any) -> Request:
    return request(
        "s3:GetObject", f"{BUCKET}/items/a.json", context={"aws:SecureTransport": secure}, **kwargs
    )


def test_bucket_policy_denies_plain_http_even_with_an_iam_allow() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
    (the Bool aws:SecureTransport "false" deny example)."""
    bucket = bucket_policy(TLS_ONLY)
    plain = authorize(s3_get("false"), [S3_READ], bucket)
    assert not plain.allowed
    assert plain.by == Match(Effect.DENY, "bucket policy of assets", "DenyPlainHttp")
    assert authorize(s3_get("true"), [S3_READ], bucket).allowed


def test_bucket_policy_allow_naming_the_role_grants_without_iam() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html#policy-eval-basics-id-rdp
    ("If an action is allowed by an identity-based policy, a resource-based policy, or both,
    then AWS allows the action")."""
    bucket = bucket_policy(TLS_ONLY, allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ROLE}))
    decision = authorize(s3_get(), [], bucket)
    assert decision.allowed
    assert decision.reason == "because a resource-based policy allows the s3:GetObject action"
    other_caller = s3_get(principal=USER, aliases=())
    assert not authorize(other_caller, [], bucket).allowed


def test_bucket_policy_allow_naming_only_the_account_needs_iam() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    (an account principal "delegates authority to the account")."""
    bucket = bucket_policy(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ACCOUNT}))
    alone = authorize(s3_get(), [], bucket)
    assert not alone.allowed
    assert alone.reason == "because no identity-based policy allows the s3:GetObject action"
    assert authorize(s3_get(), [S3_READ], bucket).allowed


# --- Decision.message ---------------------------------------------------------------------------


def test_message_uses_the_access_denied_wording() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
    ("User: <arn> is not authorized to perform: <action> on resource: <arn> because no
    identity-based policy allows the <action> action")."""
    decision = authorize(request(), [])
    assert decision.message() == (
        f"User: {SESSION} is not authorized to perform: dynamodb:GetItem on resource: {TABLE} "
        "because no identity-based policy allows the dynamodb:GetItem action"
    )


def test_message_for_an_explicit_deny_on_a_kms_key() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
    ("... on resource: <arn> with an explicit deny in a resource-based policy")."""
    key = key_policy(ENABLE_IAM, deny("kms:Decrypt", "*", Principal="*"))
    decision = authorize(kms_request(), [IAM_DECRYPT], key, resource_required=True)
    assert decision.message() == (
        f"User: {SESSION} is not authorized to perform: kms:Decrypt on resource: {KEY} "
        "with an explicit deny in a resource-based policy"
    )


def test_message_leaves_out_the_resource_for_actions_without_one() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
    ("... is not authorized to perform: codecommit:ListRepositories because no identity-based
    policy allows the codecommit:ListRepositories action")."""
    decision = authorize(request("dynamodb:ListTables", "*"), [])
    assert decision.message() == (
        f"User: {SESSION} is not authorized to perform: dynamodb:ListTables "
        "because no identity-based policy allows the dynamodb:ListTables action"
    )
    assert isinstance(decision, Decision)
