// Starts Swagger UI on the local OpenAPI document (a file, so the page's CSP needs no inline script).
window.ui = SwaggerUIBundle({ url: "/api/v1/openapi.json", dom_id: "#swagger-ui" });
