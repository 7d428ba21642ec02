#!/usr/bin/env python3
"""Pull this year's SME-share report as CSV and page through every award, as a programme
manager's script would. Standard library only (Python 3.8+).

Configure with environment variables:
  CATALYST_URL            the API's base URL (default http://127.0.0.1:8080)
  CATALYST_CLIENT_ID      an API client with the `reports` and `read` scopes
  CATALYST_CLIENT_SECRET  its secret (shown once when the client was made)
  FINANCIAL_YEAR          optional, such as 2019-20

Writes sme-share.csv in the current folder and prints a summary.
"""

import csv
import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ.get("CATALYST_URL", "http://127.0.0.1:8080").rstrip("/")


def call(path, token=None, form=None, accept="application/json"):
    """One request; returns the body as text. A problem+json answer stops the script."""
    data = urllib.parse.urlencode(form).encode() if form else None
    request = urllib.request.Request(BASE + path, data=data)
    request.add_header("Accept", accept)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        problem = error.read().decode("utf-8", "replace")
        sys.exit(f"{path}: HTTP {error.code}: {problem}")


def token():
    """An access token for the API client (OAuth 2.0 client credentials)."""
    try:
        client_id = os.environ["CATALYST_CLIENT_ID"]
        secret = os.environ["CATALYST_CLIENT_SECRET"]
    except KeyError as missing:
        sys.exit(f"set {missing.args[0]}: an API client with the reports and read scopes")
    reply = call(
        "/api/v1/auth/token",
        form={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    return json.loads(reply)["access_token"]


def pounds(minor):
    return f"£{minor / 100:,.2f}"


def main():
    access = token()

    # The SME-share report as CSV, by owner and financial year.
    query = {"group_by": "owner,financial_year", "format": "csv"}
    if os.environ.get("FINANCIAL_YEAR"):
        query["financial_year"] = os.environ["FINANCIAL_YEAR"]
    text = call("/api/v1/reports/sme-share?" + urllib.parse.urlencode(query), access, accept="text/csv")
    with open("sme-share.csv", "w", encoding="utf-8", newline="") as out:
        out.write(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    print(f"sme-share.csv: {len(rows)} rows")
    for row in rows:
        share = row["value_share"] or "n/a"
        verdict = "meets" if row["meets_target"] == "true" else "below"
        print(f"  {row['owner']} {row['financial_year']}: SME share {share} ({verdict} the 33% target)")

    # Every award, page by page (follow next_cursor until there is none).
    awards, cursor = [], None
    while True:
        path = "/api/v1/awards?limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        page = json.loads(call(path, access))
        awards.extend(page["data"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    committed = sum(award["amount"]["amount"] for award in awards if award["status"] != "terminated")
    paid = sum(award["paid"]["amount"] for award in awards)
    print(f"{len(awards)} awards: {pounds(committed)} committed, {pounds(paid)} paid")

    # The same total from the funding report: the figures reconcile.
    funding = json.loads(call("/api/v1/reports/funding", access))
    reported = sum(total["committed"]["amount"] for total in funding["totals"])
    if reported != committed:
        sys.exit(f"the funding report says {pounds(reported)} committed, the awards {pounds(committed)}")
    print("the funding report agrees")


if __name__ == "__main__":
    main()
