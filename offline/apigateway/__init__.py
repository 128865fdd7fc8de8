"""API Gateway HTTP APIs: routes, CORS and limits read from the deployed template, the JWT
authorizer against the local user pool, payload format 2.0, and the local HTTP server that
hands each request to the Lambda sandboxes."""
