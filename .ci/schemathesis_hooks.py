"""Schemathesis hooks for Catalyst's property-based run (.ci/schemathesis)."""

import uuid

import schemathesis


def _positive(case):
    meta = getattr(case, "meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    return mode is not None and getattr(mode, "name", str(mode)).upper() == "POSITIVE"


@schemathesis.hook
def map_case(ctx, case):
    """Valid requests carry what a real client would.

    - A list's `cursor` is opaque and issued by the server (bound to the query that made it);
      a made-up one is a client error (400), which tests/api/hostile.rs covers. Generated valid
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


# Rules no JSON Schema can state, by the code the server gives them in a 422's `errors`: a value
# compared with another member, another record, the path, the stored record a partial update
# lands on, or the outside world. A valid-looking request may break one; .ci/schemathesis.toml
# therefore accepts 422 for valid data, and this check holds it to these codes. Any other code
# in a 422 to valid data (a member's type, length, format, a required member the schema does
# not require) is a gap between the spec and the server, and fails the run.
RULES_BEYOND_THE_SCHEMA = {
    # Between members of one body.
    "before_start": "an end before its start (closes_at, ends_on)",
    "currency_mismatch": "two amounts that must share a currency",
    "exceeds_budget": "max_award above the phase's budget",
    "repeated_source": "the same partner system twice in external_ids",
    "conflicts_with_path": "external_ids giving the path's source another key",
    "too_many_with_path_key": "20 external_ids of other sources than the path's, whose key makes 21",
    "not_allowed": "invoiced_on on a milestone move other than to invoiced",
    # With other records.
    "not_found": "a referenced record (organisation, award, phase...) that does not exist",
    "not_public_body": "a referenced organisation that is not a public body",
    "before_previous_phase": "a phase starting before the one before it",
    "after_next_phase": "a phase starting after the one after it",
    "exceeds_award": "a milestone above its award",
    "exceeds_max_award": "an award above its phase's max_award",
    "exceeds_phase_budget": "awards above their phase's budget",
    "not_earlier_award": "a parent award that is not an earlier one",
    "mismatch": "an amount that must equal another record's",
    # With the stored record, on a partial update or an upsert of an existing record.
    "immutable": "a member a record keeps for life (a challenge's programme and owner)",
    "not_adopted": "a follow-on value on a trial not adopted",
    "before_invoice": "a payment dated before the milestone's invoice",
    "inconsistent_with_kind": "a scale that does not fit the stored kind",
    # With a secret: the caller's current password, which no schema can know.
    "incorrect": "a current password that is not the caller's",
    # With the world: a webhook's host must resolve, to a public address.
    "invalid_destination": "a webhook URL whose host does not resolve to a public address",
    # With the calendar: an invoice may not be dated after today.
    "in_future": "an invoice dated after today",
}

# On a partial update, a member that the record's new state needs (a payment milestone's amount,
# an SME's scale) may be missing from the body and from the stored record alike.
RULES_ON_PARTIAL_UPDATES = {"required"}


@schemathesis.check
def valid_data_is_refused_only_for_rules_beyond_the_schema(ctx, response, case):
    if not _positive(case) or response.status_code != 422:
        return None
    try:
        problem = response.json()
    except ValueError as error:
        raise AssertionError(f"a 422 without a problem document: {error}") from error
    allowed = set(RULES_BEYOND_THE_SCHEMA)
    if case.method.upper() == "PATCH":
        allowed |= RULES_ON_PARTIAL_UPDATES
    items = problem.get("errors") or []
    if not items:
        raise AssertionError(
            f"valid data refused with no member named: {problem.get('code')}: {problem.get('detail')}"
        )
    unexplained = [item for item in items if item.get("code") not in allowed]
    if unexplained:
        described = "; ".join(
            f"{item.get('pointer') or item.get('parameter')}: {item.get('code')} ({item.get('detail')})"
            for item in unexplained
        )
        raise AssertionError(f"valid data refused for a rule the schema could state: {described}")
    return None



@schemathesis.check
def valid_data_gets_400_only_as_an_unknown_grant(ctx, response, case):
    """.ci/schemathesis.toml lets valid data get 400 for one reason: a well-formed token request
    whose password or refresh token the server does not know, which RFC 6749 answers 400
    invalid_grant (Schemathesis cannot know a real one). Any other 400 to valid data is a gap
    between the spec and the server."""
    if not _positive(case) or response.status_code != 400:
        return None
    error = None
    if case.path == "/api/v1/auth/token":
        try:
            error = response.json().get("error")
        except ValueError:
            error = None
    if error != "invalid_grant":
        raise AssertionError(f"valid data refused with 400: {response.text[:300]}")
    return None
