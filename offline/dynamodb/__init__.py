"""DynamoDB's write semantics that moto lacks: each request applied atomically, and
transactions made idempotent by their client token."""
