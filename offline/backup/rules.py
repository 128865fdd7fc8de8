"""AWS Backup where moto's backup service falls short of the API this stack uses:

- backup selections: create, get, list and delete, with the AWS Backup API's request and
  response shapes (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupSelection.html,
  API_GetBackupSelection.html, API_ListBackupSelections.html, API_DeleteBackupSelection.html);
  a missing plan is ResourceNotFoundException; the selection's role is the one "AWS Backup uses
  to authenticate when backing up the target resource"
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupSelection.html), so AWS
  Backup, the service principal backup.amazonaws.com
  (https://docs.aws.amazon.com/aws-backup/latest/devguide/using-service-linked-roles-AWSServiceRoleForBackup.html),
  must be able to assume it. A role that does not exist or whose trust policy does not let
  backup.amazonaws.com assume it is refused with InvalidParameterValueException (one of
  CreateBackupSelection's errors), in the words AWS Backup answers with when it cannot use the
  role;
- a plan with selections cannot be deleted (API_DeleteBackupPlan.html: "You can delete a
  backup plan only after all associated selections of resources have been deleted");
- UpdateBackupPlan, which replaces the plan's document and gives it a new VersionId
  (API_UpdateBackupPlan.html);
- a deleted plan's name may be used again: moto compares new plans with deleted ones too.

Selections live on moto's backup backend of each account and region, so they share its state.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.backup.models import BackupBackend
from moto.backup.responses import BackupResponse
from moto.core.exceptions import JsonRESTError

from offline.common.patching import wrap

# https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupSelection.html
BACKUP = "backup.amazonaws.com"
SELECTION_NAME = re.compile(r"^[a-zA-Z0-9\-\_\.]{1,50}$")


class InvalidParameterValue(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValueException", message)


class InvalidRequest(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestException", message)


class NotFound(JsonRESTError):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


@dataclass
class Selection:
    plan_id: str
    body: dict[str, Any]
    creator_request_id: str | None
    selection_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: float = field(default_factory=time.time)

    def summary(self) -> dict[str, Any]:
        return {
            "SelectionId": self.selection_id,
            "SelectionName": self.body["SelectionName"],
            "BackupPlanId": self.plan_id,
            "CreationDate": self.created,
            "CreatorRequestId": self.creator_request_id,
            "IamRoleArn": self.body["IamRoleArn"],
        }


def selections(backend: BackupBackend) -> dict[str, Selection]:
    if not hasattr(backend, "offline_selections"):
        backend.offline_selections = {}  # type: ignore[attr-defined]
    return backend.offline_selections  # type: ignore[attr-defined]


def _parts(path: str) -> tuple[str, str | None]:
    """`/backup/plans/{plan}/selections/[{selection}]` as (plan, selection)."""
    parts = path.split("?")[0].strip("/").split("/")
    return parts[2], (parts[4] if len(parts) > 4 and parts[4] else None)


def _selection(backend: BackupBackend, plan_id: str, selection_id: str | None) -> Selection:
    found = selections(backend).get(selection_id or "")
    if found is None or found.plan_id != plan_id:
        raise NotFound(f"Backup selection {selection_id} not found for plan {plan_id}")
    return found


def _assumable_by_backup(backend: BackupBackend, arn: str) -> bool:
    """The role exists in the account and its trust policy lets AWS Backup assume it."""
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    iam = iam_backends[backend.account_id][get_partition(backend.region_name)]
    try:
        role = iam.get_role_by_arn(arn)
    except Exception:  # moto's IAM raises its NoSuchEntity for a role it does not have
        return False
    trust = role.assume_role_policy_document
    document = json.loads(trust) if isinstance(trust, str) else trust
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        principals = (statement.get("Principal") or {}).get("Service", [])
        if (
            statement.get("Effect") == "Allow"
            and "sts:AssumeRole" in ([actions] if isinstance(actions, str) else actions)
            and BACKUP in ([principals] if isinstance(principals, str) else principals)
        ):
            return True
    return False


def create_backup_selection(self: BackupResponse) -> str:
    plan_id, _ = _parts(self.path)
    backend = self.backup_backend
    backend.get_backup_plan(plan_id, None)  # ResourceNotFoundException for a missing plan
    params = json.loads(self.body or "{}")
    body = params.get("BackupSelection") or {}
    name = body.get("SelectionName", "")
    if not SELECTION_NAME.match(name):
        raise InvalidParameterValue(f"Invalid SelectionName: {name!r}")
    role = body.get("IamRoleArn", "")
    if not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:role/", role):
        raise InvalidParameterValue(f"Invalid IamRoleArn: {role!r}")
    if not _assumable_by_backup(backend, role):
        raise InvalidParameterValue(f"IAM Role {role} is not authorized to call tag:GetResources")
    selection = Selection(plan_id, body, params.get("CreatorRequestId"))
    selections(backend)[selection.selection_id] = selection
    summary = selection.summary()
    return json.dumps({k: summary[k] for k in ("SelectionId", "BackupPlanId", "CreationDate")})


def get_backup_selection(self: BackupResponse) -> str:
    plan_id, selection_id = _parts(self.path)
    selection = _selection(self.backup_backend, plan_id, selection_id)
    summary = selection.summary()
    return json.dumps({
        "BackupSelection": selection.body,
        **{k: summary[k] for k in ("SelectionId", "BackupPlanId", "CreationDate",
                                   "CreatorRequestId")},
    })  # fmt: skip


def list_backup_selections(self: BackupResponse) -> str:
    plan_id, _ = _parts(self.path)
    self.backup_backend.get_backup_plan(plan_id, None)
    listed = [s.summary() for s in selections(self.backup_backend).values() if s.plan_id == plan_id]
    return json.dumps({"BackupSelectionsList": listed})


def delete_backup_selection(self: BackupResponse) -> str:
    plan_id, selection_id = _parts(self.path)
    selection = _selection(self.backup_backend, plan_id, selection_id)
    del selections(self.backup_backend)[selection.selection_id]
    return "{}"


def update_backup_plan(self: BackupResponse) -> str:
    plan_id, _ = _parts(self.path)
    plan = self.backup_backend.get_backup_plan(plan_id, None)
    if plan.deletion_date is not None:
        raise NotFound(f"Backup plan {plan_id} was deleted")
    document = json.loads(self.body or "{}").get("BackupPlan") or {}
    for rule in document.get("Rules", []):
        rule.setdefault("RuleId", str(uuid.uuid4()))
    plan.backup_plan = document
    plan.version_id = uuid.uuid4().hex + uuid.uuid4().hex[:16]
    return json.dumps({
        "BackupPlanId": plan.backup_plan_id, "BackupPlanArn": plan.backup_plan_arn,
        "CreationDate": plan.creation_date, "VersionId": plan.version_id,
    })  # fmt: skip


def _names_of_live_plans_only(original: Any) -> Any:
    def create_backup_plan(
        self: BackupBackend, backup_plan: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        name = backup_plan.get("BackupPlanName")
        deleted = {
            plan_id: plan
            for plan_id, plan in self.plans.items()
            if plan.deletion_date is not None and plan.backup_plan.get("BackupPlanName") == name
        }
        for plan_id in deleted:
            del self.plans[plan_id]  # out of the name check only, then put back
        try:
            return original(self, backup_plan, *args, **kwargs)
        finally:
            self.plans.update(deleted)

    return create_backup_plan


def _plan_without_selections(original: Any) -> Any:
    def delete_backup_plan(self: BackupBackend, backup_plan_id: str) -> Any:
        if any(s.plan_id == backup_plan_id for s in selections(self).values()):
            raise InvalidRequest(
                "Related backup plan selections must be deleted prior to backup plan deletion"
            )
        return original(self, backup_plan_id)

    return delete_backup_plan


def install() -> None:
    for handler in (
        create_backup_selection,
        get_backup_selection,
        list_backup_selections,
        delete_backup_selection,
        update_backup_plan,
    ):
        setattr(BackupResponse, handler.__name__, handler)
    wrap(BackupBackend, "delete_backup_plan", _plan_without_selections)
    wrap(BackupBackend, "create_backup_plan", _names_of_live_plans_only)
