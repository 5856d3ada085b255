"""The parts of the services' OpenAPI 3.1 documents: building blocks, what every service
answers alike (errors, /health, /metrics, the document itself, a consumer's polling), and
the frame of a whole document. The services answer JSON to a client that does not prefer
HTML (common/negotiation.py); the documents describe those answers."""
from __future__ import annotations

from common.feed.pace import WINDOW
from common.listing import MAX_SEARCH
from common.feed.standing import STATES

OPENAPI = "3.1.0"
API_VERSION = "1"
JSON = "application/json"


def schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def response(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def answer(description: str, body: dict | None = None, media_type: str = JSON,
           headers: dict[str, dict] | None = None) -> dict:
    """A response: `body` the schema of its content (None: no body), `headers` by name."""
    described: dict = {"description": description}
    if headers:
        described["headers"] = headers
    if body is not None:
        described["content"] = {media_type: {"schema": body}}
    return described


def record(properties: dict, **more) -> dict:
    """An object with exactly these properties, all present."""
    return {"type": "object", "additionalProperties": False, "required": list(properties),
            "properties": properties, **more}


def header(description: str, required: bool = True, **kind) -> dict:
    return {"description": description, "required": required, "schema": kind or {"type": "string"}}


def parameter(name: str, where: str, description: str, required: bool = False, example=None, **kind) -> dict:
    described = {"name": name, "in": where, "description": description, "required": required or where == "path",
                 "schema": kind or {"type": "string"}}
    if example is not None:
        described["example"] = example
    return described


def identifier(name: str, description: str) -> dict:
    """A whole number in the path, as Flask's `int` converter takes it."""
    return parameter(name, "path", description, example=1, type="integer", minimum=0)


def operation(summary: str, responses: dict, *parameters: dict, body: dict | None = None,
              database: bool = True) -> dict:
    """One operation; any may meet a URL too long to read, and one that reads the
    database answers 503 when it does not answer."""
    described: dict = {"summary": summary}
    if parameters:
        described["parameters"] = list(parameters)
    if body is not None:
        described["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    described["responses"] = {**responses, "414": response("UriTooLong"),
                              **({"503": response("Unavailable")} if database else {})}
    return described


MONEY = {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "description": "A decimal with two places.",
         "examples": ["84.00"]}
MOMENT = {"type": "string", "format": "date-time"}
ETAG = header("The validator of this representation, for `If-None-Match`.")
CACHE_CONTROL = header("What caches may keep of the answer.")
IF_NONE_MATCH = parameter("If-None-Match", "header", "The ETag of the client's copy: 304 while it is current.")
SEE_OTHER = answer("Where the client goes next.",
                   headers={"Location": header("The URL to follow.", format="uri-reference")})
NOT_MODIFIED = answer("The client's copy is current.", headers={"ETag": ETAG})
NOT_KEPT = {"Cache-Control": header("`no-store`: a copy would only mislead.", const="no-store")}
NOT_FOUND = response("NotFound")
BAD_REQUEST = response("BadRequest")
SERVICE = {"type": "string", "description": "The service's name."}
PER_MINUTE = f"a minute, over the last {WINDOW.seconds // 60} minutes"


def nullable(kind: dict) -> dict:
    return {"anyOf": [kind, {"type": "null"}]}


def status_of(name: str) -> dict:
    """GET /status (common/status.py): the service's own state, `name` its schema."""
    return {"get": operation("The service's state now", {
        "200": answer("Its state, as JSON whatever the client prefers.", schema(name), headers=NOT_KEPT)})}


def page_of(item: dict, noun: str, statuses: tuple[str, ...], searched: str, numbered: str) -> dict:
    """A list a page at a time (common/web/responses.py respond_list), newest first, of one status
    and of the rows that hold the words searched for in `searched` (common/listing.py);
    a number finds what `numbered` names."""
    return operation(
        f"A page of {noun}, the newest first", {
            "200": answer(f"The page's {noun}.", {"type": "array", "items": item},
                          headers={"Link": header('The newer (`rel="prev"`) and older (`rel="next"`) pages '
                                                  '(RFC 8288), of the same status and search.', required=False)}),
            "400": BAD_REQUEST,
            "404": NOT_FOUND,
        },
        parameter("page", "query", "The page, from 1.", type="integer", minimum=1),
        parameter("status", "query", f"Only the {noun} of this status; leave it out for every status.",
                  enum=list(statuses)),
        parameter("q", "query", f"Words to look for, each in {searched} (case does not matter); a word of digits "
                  f"also finds {numbered} of that number. Every word must be found.", example="johnson",
                  type="string", maxLength=MAX_SEARCH))


# The consumers' own operations (common/web/consumer.py: polling). A client that does not name
# JSON above HTML (plain `curl -X POST`) is sent to the list instead, as a browser is.
FOLLOWING = {
    "/poll": {"post": operation(
        "Poll the feed now", {"200": answer("What the poll did.", schema("PollResult")),
                                    "303": SEE_OTHER})},
    "/rejected/{position}/retry": {"post": operation(
        "Import a rejected entry's document again",
        {"200": answer("Whether it is imported (now, or already by another retry or a rebuild), and if not why.",
                       schema("Retried")), "303": SEE_OTHER,
         "404": NOT_FOUND},
        identifier("position", "The feed position of the rejected entry."))},
    "/status": status_of("ConsumerStatus"),
    "/rebuild": {"post": operation(
        "Rebuild the service's data from the whole feed", {
            "202": answer("The rebuild started; it runs in the background. Until it has caught up, the service "
                          "serves its current data; then the rebuilt data take their place at once.",
                          schema("RebuildProgress")),
            "303": SEE_OTHER,
            "400": answer("A form post without the confirmation (a client that does not name JSON above HTML).",
                          schema("Error")),
            "409": answer("A rebuild is running already.", schema("Error")),
        })},
}
FOLLOWING_SCHEMAS = {
    "PollResult": record({
        "status": {"description": "The feed's answer, 200 or 304, or `error`.",
                   "anyOf": [{"enum": [200, 304]}, {"const": "error"}]},
        "imported": {"type": "integer", "minimum": 0},
        "pending": {"type": "integer", "minimum": 0, "description": "Entries left for the next poll."},
        "message": {"type": "string"},
        "rejected": {"type": "integer", "minimum": 0,
                     "description": "Entries whose documents could not be used, kept to retry."},
    }),
    "Retried": record({"imported": {"type": "boolean"}, "message": {"type": "string"}}),
    "ConsumerStatus": record({
        "service": SERVICE,
        "position": {"type": "integer", "minimum": 0, "description": "The last feed position that took effect."},
        "entriesBehind": {"type": "integer", "minimum": 0,
                          "description": "Entries of the feed not applied yet, as the last poll that could tell "
                                         "found them."},
        "secondsBehind": {"type": "number", "minimum": 0,
                          "description": "The age of the oldest entry not applied yet (its `updated` in the feed, "
                                         "as the last poll that could tell read it); 0 when none is."},
        "state": {"enum": list(STATES), "description": "What it does now; `failing` when it does not try again "
                                                       "by itself (it polls only when asked)."},
        "reason": nullable({"type": "string", "description": "Why the last poll failed."}),
        "retryInSeconds": nullable({"type": "number", "minimum": 0,
                                    "description": "While it backs off: when it tries again."}),
        "polledAt": nullable({**MOMENT, "description": "When the last poll ended."}),
        "importsPerMinute": {"type": "number", "minimum": 0,
                             "description": f"Entries imported {PER_MINUTE} (from counts by window of "
                                            f"{WINDOW.seconds // 60} minutes)."},
    }),
    "RebuildProgress": record({
        "status": {"enum": ["none", "running", "done", "failed"]},
        "position": {"type": "integer", "minimum": 0, "description": "The last feed entry the rebuild took."},
        "left": {"type": "integer", "minimum": 0,
                 "description": "Entries of the feed still to take, as the rebuild last read it."},
        "startedAt": {"anyOf": [MOMENT, {"type": "null"}]},
        "finishedAt": {"anyOf": [MOMENT, {"type": "null"}]},
        "message": {"type": "string", "description": "Why it failed; empty otherwise."},
    }),
}

SHARED_PATHS = {
    "/health": {"get": operation("Whether the service and its database answer", {
        "200": answer("The service and its database answer.", schema("Health"), headers=NOT_KEPT),
        "503": answer("The database does not answer.", schema("Health"), headers=NOT_KEPT),
    }, database=False)},
    "/metrics": {"get": operation("The service's metrics", {
        "200": answer("Prometheus text format.", {"type": "string"}, "text/plain", headers=NOT_KEPT),
    }, database=False)},
    "/openapi.json": {"get": operation("This document", {
        "200": answer("The OpenAPI 3.1 document of the service's JSON API.", {"type": "object"},
                      headers={"ETag": ETAG}),
        "304": NOT_MODIFIED,
    }, IF_NONE_MATCH, database=False)},
}
SHARED_SCHEMAS = {
    "Error": {
        "type": "object", "additionalProperties": False, "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, in one sentence a person understands."},
            "details": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "What is wrong with each field of the input, by its name."},
        },
    },
    "Health": {
        "type": "object", "additionalProperties": False, "required": ["status"],
        "properties": {"status": {"enum": ["ok", "unavailable"]}},
    },
}
SHARED_RESPONSES = {
    "BadRequest": answer("The request was not accepted; `details` says why, field by field.", schema("Error")),
    "NotFound": answer("There is nothing at this URL.", schema("Error")),
    # Answered by whichever server reads the request line first, Apache in front or the
    # service's own, each in its own format.
    "UriTooLong": answer("The URL is longer than the server reads (8 KB behind Apache)."),
    "Unavailable": answer("The service's database does not answer; try again in a moment.", schema("Error"),
                          headers={"Retry-After": header("Seconds to wait before trying again.")}),
}


def openapi_document(title: str, description: str, paths: dict, schemas: dict) -> dict:
    """The whole document of one service. Its server is relative ("."): the service's
    root as seen by whoever fetched the document, behind a proxy's prefix too."""
    return {
        "openapi": OPENAPI,
        "info": {"title": title, "version": API_VERSION, "description": description},
        "servers": [{"url": "."}],
        "paths": {**paths, **SHARED_PATHS},
        "components": {"schemas": {**SHARED_SCHEMAS, **schemas}, "responses": SHARED_RESPONSES},
    }
