"""Each service's JSON API described in OpenAPI 3.1: parts.py (the pieces and the frame
of a document), serving.py (GET /openapi.json)."""
