"""The emulator's CloudFormation, made to deploy the way AWS CloudFormation does.

moto's CloudFormation does not run transforms, has no resource import, raises out of a failed
change set instead of rolling back, and keeps one template per stack. Each gap is closed here,
in one place, by wrapping the backend's own methods:

- A template with `Transform: AWS::Serverless-2016-10-31` is expanded with aws-sam-translator
  when the change set or stack is created, as CloudFormation does server-side. `GetTemplate`
  returns the submitted template, or the expansion with `TemplateStage=Processed`
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html).
- `ChangeSetType=IMPORT` with `ResourcesToImport` adopts existing resources into a new stack
  instead of creating them (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
  resource-import-new-stack.html). Each imported resource must carry `DeletionPolicy`, as AWS
  requires.
- A change set whose execution fails leaves the stack in ROLLBACK_COMPLETE (a create),
  UPDATE_ROLLBACK_FAILED (an update) or IMPORT_ROLLBACK_FAILED (an import), each a state
  boto3's waiters stop at, with the reason in the stack's events, which is what `sam deploy`
  reads, rather than an HTTP 500.
- Each resource create, read (import), update and delete is authorized as the stack acts: as
  a session of its service role (RoleARN), else as the caller
  (offline/cloudformation/stack_role.py). A refusal fails the resource and rolls the stack
  back, as AWS does.
- An update creates and modifies resources in dependency order, then deletes what the new
  template dropped unless its DeletionPolicy retains it; a resource whose Condition is false
  is neither created, updated nor listed.
"""

from __future__ import annotations

import graphlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from cfn_flip import load_yaml
from moto.cloudformation import models, parsing, responses
from moto.cloudformation.exceptions import ValidationError

from aws_semantics.intrinsics import references
from offline.cloudformation import stack_resources, stack_role
from offline.common.patching import wrap
from offline.s3 import bucket_policy
from template_gen.expand import expand

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
log = logging.getLogger("offline.emulator")

# Per stack id: the template as submitted, for GetTemplate's Original stage.
_originals: dict[str, str] = {}
# Per change set id: the resources an IMPORT change set adopts.
_imports: dict[str, list[dict[str, Any]]] = {}
_request = threading.local()


def parse(template: str) -> dict[str, Any]:
    """JSON or YAML with CloudFormation's short-form tags (`!Ref`, `!Sub`)."""
    try:
        parsed = json.loads(template)
    except ValueError:
        parsed = load_yaml(template)
    if not isinstance(parsed, dict):
        raise ValidationError(message="Template format error: not a JSON or YAML mapping")
    return dict(parsed)


def processed(template: str, parameters: dict[str, str], region: str) -> str:
    """What CloudFormation runs: the SAM transform applied, with the stack's parameters."""
    body = parse(template)
    transform = body.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    if SAM_TRANSFORM not in transforms:
        return template
    if any(t not in (SAM_TRANSFORM, None) for t in transforms):
        raise ValidationError(message=f"the emulator runs only {SAM_TRANSFORM}, not {transform}")
    try:
        expanded = expand(body, parameters=parameters, region=region)
    except Exception as error:  # the translator's own errors name the resource and property
        raise ValidationError(message=f"Transform {SAM_TRANSFORM} failed with: {error}") from None
    return json.dumps(expanded, sort_keys=True)


def _create_stack(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_stack(self: Any, name: str, template: str, parameters: dict[str, str], **kw: Any):
        expanded = processed(template, parameters, self.region_name)
        role = kw.get("role_arn")
        try:
            with stack_role.acting(None, role):
                stack = original(self, name, expanded, parameters, **kw)
        except stack_role.Refused as refused:
            # moto lists the stack before it creates the resources: roll that stack back.
            stack = next(s for s in self.stacks.values() if s.name == name)
            with stack_role.acting(None, role):
                _refused(stack, None, "CREATE", refused)
        stack_role.remember(stack.stack_id, role)
        _originals[stack.stack_id] = template
        return stack

    return create_stack


def _create_change_set(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_change_set(
        self: Any,
        stack_name: str,
        change_set_name: str,
        template: str,
        parameters: dict[str, str],
        description: str,
        change_set_type: str,
        **kw: Any,
    ) -> tuple[str, str]:
        imports = getattr(_request, "resources_to_import", None)
        if change_set_type == "IMPORT":
            if any(s.name == stack_name for s in self.stacks.values()):
                raise ValidationError(
                    message="the emulator imports into a new stack only; delete the stack first"
                )
            if not imports:
                raise ValidationError(message="ResourcesToImport is required for an IMPORT")
        expanded = processed(template, parameters, self.region_name)
        change_set_id, stack_id = original(
            self,
            stack_name,
            change_set_name,
            expanded,
            parameters,
            description,
            change_set_type,
            **kw,
        )
        _originals.setdefault(stack_id, template)
        change_set = self.change_sets[change_set_id]
        change_set.original_template = template
        if change_set_type == "UPDATE" and _no_changes(change_set.stack, expanded, parameters):
            change_set.status = "FAILED"
            change_set.execution_status = "UNAVAILABLE"
            change_set.status_reason = NO_CHANGES
        if change_set_type == "IMPORT":
            _check_import(change_set.template_dict, imports or [])
            _imports[change_set_id] = imports or []
            for change in change_set.changes:
                change.action = "Import"
        return change_set_id, stack_id

    return create_change_set


# CloudFormation's words, which `sam deploy` recognises as "no changes to deploy".
NO_CHANGES = (
    "The submitted information didn't contain changes."
    " Submit different information to create a change set."
)


def _effective(template: dict[str, Any], given: dict[str, Any]) -> dict[str, str]:
    """Each parameter's value as the stack would see it: given, else its default."""
    declared = template.get("Parameters", {})
    return {k: str(given.get(k, d.get("Default", ""))) for k, d in declared.items()}


def _no_changes(stack: Any, template: str, parameters: dict[str, str]) -> bool:
    """SAM CLI passes UsePreviousValue for parameters it does not override, which moto resolves
    to values where the stack kept none; compare what each parameter would be, as AWS does."""
    if not stack.has_template(template):
        return False
    return _effective(stack.template_dict, parameters) == _effective(
        stack.template_dict, stack.parameters
    )


def _check_import(template: dict[str, Any], imports: list[dict[str, Any]]) -> None:
    """The rules AWS applies to an import template (resource-import-new-stack.html): every
    resource in it is imported, and every imported resource has a DeletionPolicy."""
    resources = template.get("Resources", {})
    named = {i["LogicalResourceId"] for i in imports}
    if set(resources) != named:
        raise ValidationError(
            message="an import template holds exactly the resources to import;"
            f" not imported: {sorted(set(resources) - named)}, not in the template:"
            f" {sorted(named - set(resources))}"
        )
    for logical in named:
        if "DeletionPolicy" not in resources[logical]:
            raise ValidationError(message=f"{logical} needs a DeletionPolicy to be imported")


# How an existing resource is found, per type, from its import identifier.
def _existing(kind: str, identifier: dict[str, str], account: str, region: str, props: Any) -> Any:
    from moto.dynamodb.models import dynamodb_backends
    from moto.kms.models import kms_backends
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    if kind == "AWS::DynamoDB::Table":
        return dynamodb_backends[account][region].get_table(identifier["TableName"])
    if kind == "AWS::S3::Bucket":
        return s3_backends[account][get_partition(region)].get_bucket(identifier["BucketName"])
    if kind == "AWS::KMS::Key":
        return kms_backends[account][region].describe_key(identifier["KeyId"])
    if kind == "AWS::KMS::Alias":
        backend = kms_backends[account][region]
        name = identifier["AliasName"]
        from moto.kms import models as kms_models

        Alias: Any = kms_models.Alias  # moto's types call it abstract; it is not
        target = backend.describe_key(name)
        return Alias(account, region, name, target)
    if kind == "AWS::Cognito::UserPool":
        return stack_resources.imported_user_pool(region, identifier["UserPoolId"], props)
    if kind == "AWS::Backup::BackupVault":
        return stack_resources.imported_backup_vault(region, identifier["BackupVaultName"], props)
    raise ValidationError(message=f"the emulator cannot import {kind}")


def _adopt(stack: Any, change_set: Any, imports: list[dict[str, Any]]) -> None:
    resources = change_set.template_dict.get("Resources", {})
    found: dict[str, Any] = {}
    for item in imports:
        logical = item["LogicalResourceId"]
        kind = item["ResourceType"]
        if resources[logical]["Type"] != kind:
            raise ValidationError(
                message=f"{logical} is a {resources[logical]['Type']}, not {kind}"
            )
        try:
            found[logical] = _existing(
                kind,
                item["ResourceIdentifier"],
                stack.account_id,
                stack.region_name,
                resources[logical].get("Properties", {}),
            )
        except ValidationError:
            raise
        except Exception:
            raise ValidationError(
                message=f"{logical}: no {kind} {item['ResourceIdentifier']} exists to import"
            ) from None
    resolving = _import_resolver(stack, change_set, found)
    for logical, resource in found.items():
        kind = resources[logical]["Type"]
        properties = parsing.clean_json(resources[logical].get("Properties", {}), resolving)
        stack_role.check(
            logical, kind, properties, _physical_id(resource), "read", stack.region_name,
            stack.account_id,
        )  # fmt: skip
        resource.cf_resource_type = kind
        resource.logical_resource_id = logical
    stack.resource_map._parsed_resources.update(found)


def _import_resolver(stack: Any, change_set: Any, found: dict[str, Any]) -> Any:
    """A resource map that resolves the imported resources' properties: the change set's
    template and parameters (the new stack's own map still holds the empty review template),
    and only the resources being imported, so a Ref never makes moto create one."""
    resolving = parsing.ResourceMap(
        stack.stack_id, stack.name, change_set.parameters or {}, {}, stack.region_name,
        stack.account_id, change_set.template_dict, None,
    )  # fmt: skip
    resolving._resource_json_map = {}
    resolving.load_mapping()
    resolving.load_parameters()
    resolving.load_conditions()
    resolving._parsed_resources.update(found)
    return resolving


def _execute(
    original: Callable[..., Any], backend: Any, change_set: Any, name: str, stack_name: str | None
) -> None:
    stack = backend.stacks[change_set.stack_id]
    if change_set.change_set_type != "IMPORT":
        original(backend, name, stack_name)
        return
    _adopt(stack, change_set, _imports.pop(change_set.change_set_id, []))
    change_set.change_set_type = "UPDATE"  # moto applies it as an update
    try:
        original(backend, name, stack_name)
    finally:
        change_set.change_set_type = "IMPORT"
    stack.status = "IMPORT_COMPLETE"
    stack._add_stack_event("IMPORT_COMPLETE")


# The status a change set's execution leaves when it raised (not a refusal): a create is rolled
# back; an update or import that raised part-way could not be rolled back cleanly.
_FAILED = {
    "CREATE": "ROLLBACK_COMPLETE",
    "UPDATE": "UPDATE_ROLLBACK_FAILED",
    "IMPORT": "IMPORT_ROLLBACK_FAILED",
}


def _execute_change_set(original: Callable[..., Any]) -> Callable[..., Any]:
    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None):
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]
        kind = change_set.change_set_type
        stack_role.remember(stack.stack_id, change_set.role_arn)
        try:
            with stack_role.acting(stack.stack_id):
                _execute(original, self, change_set, change_set_name, stack_name)
        except stack_role.Refused as refused:
            with stack_role.acting(stack.stack_id):
                _refused(stack, change_set, kind, refused)
            return
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            log.warning("stack %s: %s failed: %s", stack.name, kind, reason)
            log.debug("where it failed", exc_info=True)
            stack._add_stack_event(f"{kind}_FAILED", resource_status_reason=reason)
            if kind == "CREATE":
                with stack_role.acting(stack.stack_id):
                    _roll_back(stack)
            stack.status = _FAILED[kind]
            stack.status_reason = reason
            change_set.execution_status = "EXECUTE_FAILED"
            return
        _originals[stack.stack_id] = getattr(change_set, "original_template", change_set.template)
        # moto builds outputs when the stack object is made, before a change set fills it.
        stack._parse_template()
        stack.output_map = stack._create_output_map()

    return execute_change_set


def _resource_event(stack: Any, refused: stack_role.Refused, status: str) -> None:
    stack.events.append(
        models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=refused.logical_id,
            physical_resource_id="",
            resource_type=refused.kind,
            resource_status=status,
            resource_status_reason=refused.reason,
            resource_properties=None,
        )
    )


def _refused(stack: Any, change_set: Any | None, kind: str, refused: stack_role.Refused) -> None:
    """A handler refused as the stack's principal: the resource fails, and the stack rolls back
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html):
    a create to ROLLBACK_COMPLETE with what it made deleted; an update to UPDATE_ROLLBACK_COMPLETE
    with what it added deleted (_update_resources) and the previous template kept."""
    log.warning("stack %s: %s %s refused: %s", stack.name, refused.logical_id, kind, refused.reason)
    verb = {"create": "create", "update": "update", "delete": "delete", "read": "import"}
    _resource_event(stack, refused, f"{verb[refused.operation].upper()}_FAILED")
    failed = (
        f"The following resource(s) failed to {verb[refused.operation]}: [{refused.logical_id}]."
    )
    if kind == "CREATE":
        stack._add_stack_event(
            "ROLLBACK_IN_PROGRESS", resource_status_reason=f"{failed} Rollback requested by user."
        )
        _roll_back(stack)
        stack._add_stack_event("ROLLBACK_COMPLETE")
        stack.status = "ROLLBACK_COMPLETE"
    elif kind == "IMPORT":  # imported resources are retained; the new stack is left empty
        stack._add_stack_event("IMPORT_ROLLBACK_IN_PROGRESS", resource_status_reason=failed)
        stack.resource_map._parsed_resources = {
            k: v for k, v in stack.resource_map._parsed_resources.items() if isinstance(v, str)
        }
        stack._add_stack_event("IMPORT_ROLLBACK_COMPLETE")
        stack.status = "IMPORT_ROLLBACK_COMPLETE"
    else:
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=failed)
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
    stack.status_reason = failed
    if change_set is not None:
        change_set.execution_status = "EXECUTE_FAILED"


def _update_stack(original: Callable[..., Any]) -> Callable[..., Any]:
    """UpdateStack acts as the RoleARN it is given, else the role the stack keeps; a refused
    resource rolls the stack back to its template (UPDATE_ROLLBACK_COMPLETE)."""

    def update_stack(self: Any, name: str, template: str, role_arn: str | None, **kw: Any) -> Any:
        stack = self.get_stack(name)
        stack_role.remember(stack.stack_id, role_arn)
        previous = stack.template
        try:
            with stack_role.acting(stack.stack_id):
                return original(self, name=name, template=template, role_arn=role_arn, **kw)
        except stack_role.Refused as refused:
            stack.template = previous
            stack._parse_template()
            with stack_role.acting(stack.stack_id):
                _refused(stack, None, "UPDATE", refused)
            return stack

    return update_stack


def _delete_stack(original: Callable[..., Any]) -> Callable[..., Any]:
    """A delete that cannot finish leaves the stack in DELETE_FAILED with the reason, as AWS
    does; moto would drop the stack from its list and answer 500."""

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        stack = next(
            (s for s in self.stacks.values() if name_or_stack_id in (s.name, s.stack_id)), None
        )
        if stack is not None:
            stack_role.remember(stack.stack_id, getattr(_request, "role_arn", None))
        try:
            with stack_role.acting(stack.stack_id if stack else None):
                original(self, name_or_stack_id)
        except Exception as error:
            if stack is None:
                raise
            reason = f"{type(error).__name__}: {error}"
            if isinstance(error, stack_role.Refused):
                reason = error.reason
                _resource_event(stack, error, "DELETE_FAILED")
            log.warning("stack %s: delete failed: %s", stack.name, reason)
            self.stacks[stack.stack_id] = stack
            self.deleted_stacks.pop(stack.stack_id, None)
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=reason)
            stack.status = "DELETE_FAILED"

    return delete_stack


def _roll_back(stack: Any) -> None:
    """A failed create removes what it made, but for what DeletionPolicy retains."""
    try:
        stack.resource_map.delete()
    except Exception as error:  # what is left stays, as AWS leaves DELETE_FAILED resources
        log.warning("stack %s: rollback left resources behind: %s", stack.name, error)


def _response_create_change_set(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_change_set(self: Any) -> Any:
        # CreateChangeSet with nothing changed succeeds and leaves a FAILED change set (as
        # _no_changes decides); only UpdateStack answers "No updates are to be performed".
        self._validate_different_update = lambda *args: None
        _request.resources_to_import = self._get_param("ResourcesToImport", [])
        try:
            return original(self)
        finally:
            _request.resources_to_import = None

    return create_change_set


def _response_delete_stack(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_stack(self: Any) -> Any:
        # A RoleARN given to DeleteStack becomes the stack's; none keeps the one it has.
        _request.role_arn = self._get_param("RoleARN")
        try:
            return original(self)
        finally:
            _request.role_arn = None

    return delete_stack


def _response_get_template(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_template(self: Any) -> Any:
        result = original(self)
        stage = self._get_param("TemplateStage", "Original")
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stage != "Processed" and stack.stack_id in _originals:
            result = responses.ActionResult({"TemplateBody": _originals[stack.stack_id]})
        return result

    return get_template


def _response_template_from_s3(original: Callable[..., Any]) -> Callable[..., Any]:
    """SAM CLI uploads the template to the artifacts bucket and passes its URL; against the
    emulator that URL is path-style on 127.0.0.1, which moto reads only as `localhost`."""

    def get_stack_from_s3_url(self: Any, template_url: str) -> str:
        parts = urlparse(template_url)
        if parts.hostname in ("127.0.0.1", "::1"):
            template_url = parts._replace(netloc=f"localhost:{parts.port}").geturl()
        return original(self, template_url)

    return get_stack_from_s3_url


def _parameter_list(self: Any) -> list[dict[str, Any]]:
    """DescribeStacks gives a list parameter's value comma-joined, as it was passed in; moto
    gives Python's repr of the list. NoEcho values are masked, as in AWS."""
    hidden = set(self.resource_map.no_echo_parameter_keys)
    return [
        {
            "ParameterKey": key,
            "ParameterValue": "****"
            if key in hidden
            else ",".join(map(str, value))
            if isinstance(value, list)
            else value,
        }
        for key, value in self.resource_map.resolved_parameters.items()
    ]


def _stack_resources(self: Any) -> list[Any]:
    """What the stack holds. A resource whose Condition is false is not created, and AWS
    leaves it out of ListStackResources; moto lists it as an entry with empty names."""
    return [resource for resource in self.resource_map.values() if resource is not None]


def _update_in_place(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto has no update for several types (DynamoDB tables, KMS keys) and then drops the
    resource from the stack, so the next Ref to it fails. AWS updates those in place, keeping
    the table and its items; the emulator keeps the resource as it is."""

    def parse_and_update_resource(
        logical_id: str, resource_json: dict[str, Any], resources_map: Any, **kw: Any
    ) -> Any:
        condition = resource_json.get("Condition")
        if condition and not resources_map.lazy_condition_map[condition]:
            return None  # not created, so nothing to update; moto checks no condition here
        existing = resources_map._parsed_resources.get(logical_id)
        stack_role.check(
            logical_id, resource_json["Type"], _properties(resource_json, resources_map),
            _physical_id(existing), "update", kw["region_name"], kw["account_id"],
        )  # fmt: skip
        updated = original(logical_id, resource_json, resources_map, **kw)
        if updated is None:
            stack_resources.update_in_place(
                resource_json["Type"], existing, _properties(resource_json, resources_map)
            )
            return resources_map._parsed_resources.get(logical_id)
        return updated

    return parse_and_update_resource


# DeletionPolicy values that keep a resource when the stack stops managing it
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html).
RETAINED = ("Retain", "RetainExceptOnCreate")


def dependency_order(resources: dict[str, Any], names: set[str]) -> list[str]:
    """`names` with each after every resource it refers to or DependsOn."""
    graph: dict[str, set[str]] = {}
    for name in sorted(names):
        resource = resources[name]
        depends = resource.get("DependsOn", [])
        after = references(resource) | set([depends] if isinstance(depends, str) else depends)
        graph[name] = after & names
    return list(graphlib.TopologicalSorter(graph).static_order())


def _update_resources(self: Any, template: dict[str, Any], parameters: Any = None) -> None:
    """A stack update as CloudFormation runs it: new and changed resources in dependency order,
    so a new Lambda Version is published after its function's configuration changed and an
    alias moves after its version exists; then, in cleanup, the resources the template dropped
    are deleted, but for those DeletionPolicy retains (using-cfn-updating-stacks-update-
    behaviors.html). moto adds before it modifies and deletes first, ignoring DeletionPolicy."""
    changes = self.build_resource_diff(template, parameters)
    previous = self._resource_json_map
    previous_template = self._template
    self._template = template
    if parameters:
        self.input_parameters = parameters
    self.load_mapping()
    self.load_parameters()
    self.load_conditions()
    self._resource_json_map = template["Resources"]
    added = set(changes["Add"])
    before = (previous_template, dict(self._parsed_resources))
    try:
        for name in dependency_order(template["Resources"], added | set(changes["Modify"])):
            if name in added:
                _ = self[name]  # moto's map creates a resource on first access
                continue
            self._parsed_resources[name] = parsing.parse_and_update_resource(
                name,
                template["Resources"][name],
                self,
                account_id=self._account_id,
                region_name=self._region_name,
            )
    except stack_role.Refused:
        _undo_update(self, added, previous, before)
        raise
    for name in changes["Remove"]:
        resource = self._parsed_resources.pop(name, None)
        if resource is not None and previous[name].get("DeletionPolicy") not in RETAINED:
            try:
                self._delete_resource(resource, previous[name])
            except stack_role.Refused as refused:
                # A failed cleanup leaves the resource and the update complete, as AWS's
                # UPDATE_COMPLETE_CLEANUP_IN_PROGRESS does (using-cfn-updating-stacks.html).
                log.warning("cleanup kept %s: %s", name, refused.reason)


def _undo_update(
    resources: Any, added: set[str], previous: dict[str, Any], before: tuple[Any, dict[str, Any]]
) -> None:
    """Roll a refused update back: delete what it added, and return to the previous template.
    A modified resource keeps what moto changed in place (the emulator keeps no earlier copy)."""
    for name in added:
        made = resources._parsed_resources.get(name)
        if made is not None and not isinstance(made, str) and name not in before[1]:
            try:
                resources._delete_resource(made, resources._resource_json_map[name])
            except Exception as error:
                log.warning("rollback left %s behind: %s", name, error)
    resources._template = before[0]
    resources._resource_json_map = previous
    resources._parsed_resources = before[1]
    resources.load_conditions()


def _properties(resource_json: dict[str, Any], resources: Any) -> dict[str, Any]:
    """The resource's properties with intrinsics resolved, as moto resolves them to create it."""
    return dict(parsing.clean_json(resource_json.get("Properties") or {}, resources))


def _physical_id(resource: Any) -> str | None:
    if resource is None or isinstance(resource, str):
        return None
    try:
        return str(resource.physical_resource_id)
    except Exception:  # a model without one: the handler's ARNs come from its properties
        return None


def _authorized_create(original: Callable[..., Any]) -> Callable[..., Any]:
    """The create handler's actions, decided as the stack acts: those that name the resource by
    its properties before it is made, those that need its physical id after; a refusal after
    deletes what was just made."""

    def parse_and_create_resource(
        logical_id: str, resource_json: dict[str, Any], resources: Any, **kw: Any
    ) -> Any:
        condition = resource_json.get("Condition")
        if condition and not resources.lazy_condition_map[condition]:
            return None
        kind = resource_json["Type"]
        region, account = kw["region_name"], kw["account_id"]
        properties = _properties(resource_json, resources)
        done = stack_role.check(logical_id, kind, properties, None, "create", region, account)
        made = original(logical_id, resource_json, resources, **kw)
        if made is None:
            return None
        try:
            stack_role.check(
                logical_id, kind, properties, _physical_id(made), "create", region, account, done
            )
        except stack_role.Refused:
            try:
                resources._delete_resource(made, resource_json)
            except Exception as error:
                log.warning("could not delete refused %s: %s", logical_id, error)
            raise
        return made

    return parse_and_create_resource


def _authorized_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_resource(self: Any, resource: Any, resource_json: dict[str, Any]) -> None:
        logical = getattr(resource, "logical_resource_id", "")
        # moto deletes in no particular order; AWS deletes a resource before what it refers to.
        # What was deleted already is put back for the resolution only, so a Ref to it reads
        # as it did, and moto's lazy map does not create it again.
        gone: dict[str, Any] = self.__dict__.setdefault("_offline_deleted", {})
        back = {k: v for k, v in gone.items() if k not in self._parsed_resources}
        self._parsed_resources.update(back)
        properties: dict[str, Any] = {}
        try:
            parsed = set(self._parsed_resources)
            for key, value in (resource_json.get("Properties") or {}).items():
                try:
                    resolvable = references(value) <= parsed
                    properties[key] = parsing.clean_json(value, self) if resolvable else value
                except Exception:  # an attribute moto cannot read any more: keep it as written
                    properties[key] = value
        finally:
            for key in back:
                self._parsed_resources.pop(key, None)
        boundary = getattr(resource, "permissions_boundary_arn", None)
        if boundary:  # the boundary the role has, which its DeleteRole request carries
            properties["PermissionsBoundary"] = boundary
        stack_role.check(
            logical, resource_json["Type"], properties, _physical_id(resource), "delete",
            self._region_name, self._account_id,
        )  # fmt: skip
        original(self, resource, resource_json)
        if logical:
            gone[logical] = resource

    return delete_resource


def install() -> None:
    """Wrap moto's CloudFormation in this process; safe to call more than once."""
    stack_resources.register()
    bucket_policy.install()
    models.Stack.parameter_list = property(_parameter_list)  # type: ignore[method-assign, assignment]
    models.Stack.stack_resources = property(_stack_resources)  # type: ignore[method-assign, assignment]
    wrap(parsing, "parse_and_update_resource", _update_in_place)
    parsing.ResourceMap.update = _update_resources  # type: ignore[method-assign]
    backend = models.CloudFormationBackend
    wrap(backend, "create_stack", _create_stack)
    wrap(backend, "create_change_set", _create_change_set)
    wrap(backend, "execute_change_set", _execute_change_set)
    wrap(backend, "delete_stack", _delete_stack)
    wrap(backend, "update_stack", _update_stack)
    response = responses.CloudFormationResponse
    wrap(response, "create_change_set", _response_create_change_set)
    wrap(response, "get_template", _response_get_template)
    wrap(response, "delete_stack", _response_delete_stack)
    wrap(parsing, "parse_and_create_resource", _authorized_create)
    wrap(parsing.ResourceMap, "_delete_resource", _authorized_delete)
    wrap(response, "_get_stack_from_s3_url", _response_template_from_s3)
