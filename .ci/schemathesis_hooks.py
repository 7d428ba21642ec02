"""Schemathesis hooks for Catalyst's property-based run (.ci/schemathesis).

Imports take a file of rows (NDJSON or CSV), which Schemathesis has no serializer for: the
generated value is sent as the file's text.
"""

import uuid

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def _positive(case):
    meta = getattr(case, "meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    return mode is not None and getattr(mode, "name", str(mode)).upper() == "POSITIVE"


@schemathesis.hook
def map_case(ctx, case):
    """Valid requests carry what a real client would.

    - A list's `cursor` is opaque and issued by the server (bound to the query that made it);
      a made-up one is a client error (400), which tests/hostile.rs covers. Generated valid
      requests ask for the first page instead; invalid ones keep their made-up cursors.
    - An `Idempotency-Key` names one request; a client sends a new key with each new request.
      Generated keys repeat across different bodies (which is a 422 by design), so valid
      requests get a fresh key each.
    """
    if not _positive(case):
        return case
    if case.query and "cursor" in case.query:
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}
    if case.headers:
        for name in list(case.headers):
            if name.lower() == "idempotency-key":
                case.headers[name] = str(uuid.uuid4())
    return case
