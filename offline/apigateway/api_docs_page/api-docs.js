// Swagger UI over this gateway's /openapi.json, whose first server is this gateway: "Try it
// out" calls the API from the page's own origin, so no CORS preflight is involved.
// A file of its own, not an inline script, so that the page's CSP can be script-src 'self'.
"use strict";

window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  filter: true,
  displayRequestDuration: true,
  // "Authorize" takes the token `make token USER=alice` prints; it survives a reload.
  persistAuthorization: true,
  // Otherwise Swagger UI sends the document to an outside validator and shows its badge.
  validatorUrl: null,
});
