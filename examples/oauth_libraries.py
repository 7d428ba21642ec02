"""Signs in to Catalyst with two OAuth 2.0 client libraries from PyPI, each with its defaults.

Authlib and requests-oauthlib are what most Python integrations use: both authenticate a client
with HTTP Basic (RFC 6749 §2.3.1) and read errors from the `error` member (§5.2). This script
takes a token each way (client credentials; a person's password; a refresh), reads the API with
it, and checks that a wrong secret surfaces as the library's own `invalid_client` error.

Settings come from the environment: CATALYST_URL, CATALYST_CLIENT_ID, CATALYST_CLIENT_SECRET,
CATALYST_USERNAME and CATALYST_PASSWORD. Requires: pip install authlib requests-oauthlib
"""

import os
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from oauthlib.oauth2 import BackendApplicationClient, LegacyApplicationClient
from oauthlib.oauth2.rfc6749.errors import InvalidClientError
from requests_oauthlib import OAuth2Session as RequestsOAuth2Session

BASE = os.environ["CATALYST_URL"].rstrip("/")
TOKEN_URL = f"{BASE}/api/v1/auth/token"
CLIENT_ID = os.environ["CATALYST_CLIENT_ID"]
CLIENT_SECRET = os.environ["CATALYST_CLIENT_SECRET"]
USERNAME = os.environ["CATALYST_USERNAME"]
PASSWORD = os.environ["CATALYST_PASSWORD"]


def check(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")
    print(f"ok: {message}")


def reads_the_api(session, what):
    reply = session.get(f"{BASE}/api/v1/organisations?limit=1")
    check(reply.status_code == 200, f"{what}: the token reads the API ({reply.status_code})")


def password_then_refresh(library, person):
    """Both libraries name these calls alike: sign in with a password, then refresh once."""
    token = person.fetch_token(TOKEN_URL, username=USERNAME, password=PASSWORD)
    check("refresh_token" in token, f"{library}: password grant gives a refresh token")
    reads_the_api(person, f"{library} person")
    refreshed = person.refresh_token(TOKEN_URL, refresh_token=token["refresh_token"])
    check(
        refreshed["refresh_token"] != token["refresh_token"],
        f"{library}: refresh rotates the refresh token",
    )
    reads_the_api(person, f"{library} refreshed")


def authlib_flows():
    # Client credentials, with Authlib's default client authentication (client_secret_basic).
    client = OAuth2Session(CLIENT_ID, CLIENT_SECRET)
    token = client.fetch_token(TOKEN_URL, grant_type="client_credentials")
    check(token["token_type"] == "Bearer", "Authlib: client_credentials over HTTP Basic")
    reads_the_api(client, "Authlib client")

    # A person: the password grant; no client is involved, so none authenticates.
    password_then_refresh("Authlib", OAuth2Session())

    # A wrong secret is the library's own error, named as RFC 6749 names it.
    wrong = OAuth2Session(CLIENT_ID, "cs_wrong")
    try:
        wrong.fetch_token(TOKEN_URL, grant_type="client_credentials")
        check(False, "Authlib: a wrong secret is refused")
    except OAuthError as error:
        check(error.error == "invalid_client", f"Authlib: a wrong secret is {error.error}")


def requests_oauthlib_flows():
    # Client credentials: requests-oauthlib sends the id and secret with HTTP Basic by default.
    client = RequestsOAuth2Session(client=BackendApplicationClient(client_id=CLIENT_ID))
    token = client.fetch_token(TOKEN_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    check(token["token_type"] == "Bearer", "requests-oauthlib: client_credentials")
    reads_the_api(client, "requests-oauthlib client")

    # A person: the legacy application (password) flow.
    password_then_refresh(
        "requests-oauthlib", RequestsOAuth2Session(client=LegacyApplicationClient(client_id=None))
    )

    wrong = RequestsOAuth2Session(client=BackendApplicationClient(client_id=CLIENT_ID))
    try:
        wrong.fetch_token(TOKEN_URL, client_id=CLIENT_ID, client_secret="cs_wrong")
        check(False, "requests-oauthlib: a wrong secret is refused")
    except InvalidClientError as error:
        check(error.error == "invalid_client", "requests-oauthlib: a wrong secret is invalid_client")


if __name__ == "__main__":
    # Plain HTTP is fine on the loopback address the examples run against.
    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
    requests.get(f"{BASE}/readyz", timeout=5).raise_for_status()
    authlib_flows()
    requests_oauthlib_flows()
