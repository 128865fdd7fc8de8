"""The one declaration of the stack. Adding a function is one entry here plus one folder."""

from __future__ import annotations

from template_gen.model import (
    Api,
    Bucket,
    Function,
    Index,
    Key,
    Layer,
    Route,
    SecureParameter,
    Spec,
    Table,
    queries,
    reads,
    writes,
)

USERS = Table(
    name="users",
    # Profiles live under `user#<id>`, email claims under `email#<lowercased>`: one
    # transaction writes both, which is what keeps emails unique case-insensitively.
    partition_key=Key("pk"),
    indexes=(
        # Only profiles carry the listing keys, and the index projects only public fields,
        # so listing users can never leak an email.
        Index(
            name="by-created",
            partition_key=Key("listing"),
            sort_key=Key("created_at"),
            projected=("id", "name"),
        ),
    ),
    purpose="user profiles and their unique email claims",
)

ITEMS = Table(
    name="items",
    # Tenancy is in the key: every read is a query on the caller's own partition.
    partition_key=Key("owner"),
    sort_key=Key("id"),
    purpose="items, partitioned by owner",
)

IDEMPOTENCY = Table(
    name="idempotency",
    partition_key=Key("id"),
    ttl_attribute="expiration",
    purpose="Powertools idempotency records for POST /items",
)

ASSETS = Bucket(name="assets", purpose="item attachments, uploaded with presigned POSTs")
ACCESS_LOGS = Bucket(name="access-logs", purpose="S3 server access logs of the assets bucket")

CURSOR_KEY = SecureParameter(
    name="cursor-signing-key", purpose="HMAC key that signs pagination cursors"
)

SPEC = Spec(
    project="backend-kit",
    functions=(
        Function(
            name="health",
            source="functions/health",
            routes=(Route("GET", "/health", authorized=False),),
            memory_mb=256,
            timeout_s=3,
            reports_build_version=True,
            layers=(),  # the standard library only: nothing to load on a cold start
            description="Liveness and build version, without auth",
        ),
        Function(
            name="users",
            source="functions/users",
            routes=(
                Route("POST", "/users"),
                Route("GET", "/users"),
                Route("GET", "/users/{id}"),
                Route("PATCH", "/users/{id}"),
                Route("DELETE", "/users/{id}"),
            ),
            relations=(
                reads(USERS.name),
                queries(USERS.name, index="by-created"),
                # Registrations, changes and deletions are transactions of puts and deletes.
                writes(USERS.name, only=("dynamodb:DeleteItem", "dynamodb:PutItem")),
                reads(CURSOR_KEY.name),
            ),
            fields="profile_fields",
            description="User profiles with unique emails",
        ),
        Function(
            name="items",
            source="functions/items",
            routes=(
                Route("POST", "/items"),
                Route("GET", "/items"),
                Route("GET", "/items/{id}"),
                Route("PATCH", "/items/{id}"),
                Route("DELETE", "/items/{id}"),
                Route("POST", "/items/{id}/attachments"),
            ),
            relations=(
                reads(ITEMS.name),
                queries(ITEMS.name),
                writes(ITEMS.name),
                # Powertools reads a record back from a failed conditional put, with
                # ReturnValuesOnConditionCheckFailure: it never needs GetItem.
                writes(IDEMPOTENCY.name),
                writes(ASSETS.name, prefix="items/"),
                reads(CURSOR_KEY.name),
            ),
            fields="item_fields",
            description="Items owned by the caller, with attachment uploads",
        ),
    ),
    tables=(USERS, ITEMS, IDEMPOTENCY),
    buckets=(ASSETS,),
    access_log_bucket=ACCESS_LOGS,
    parameters=(CURSOR_KEY,),
    layers=(
        Layer(name="deps", source="layers/deps", description="Third-party dependencies"),
        Layer(name="shared", source="layers/shared", description="In-house shared code"),
    ),
    api=Api(
        default_origins=("http://localhost:5173",),
        allowed_headers=("authorization", "content-type", "if-match", "idempotency-key"),
        exposed_headers=("etag", "location", "retry-after"),
    ),
)
