"""Uses Catalyst through a client generated from openapi/v1.json, and nothing else.

.ci/clients generates the client (openapi-python-client) and runs this against a live server
with the demo data: an integration partner's first hour, each step with the generated models,
so a spec change that breaks generated clients fails CI.

Environment: CATALYST_URL, CATALYST_CLIENT_PATH (the folder holding the generated package
`catalyst_client`), CATALYST_USERNAME, CATALYST_PASSWORD, CATALYST_CLIENT_ID,
CATALYST_CLIENT_SECRET.
"""

import os
import sys
import uuid

sys.path.insert(0, os.environ["CATALYST_CLIENT_PATH"])

from catalyst_client import AuthenticatedClient, Client  # noqa: E402
from catalyst_client.api.auth import create_token  # noqa: E402
from catalyst_client.api.changes import get_latest_change_cursor, list_changes  # noqa: E402
from catalyst_client.api.organisations import (  # noqa: E402
    create_organisation,
    delete_organisation,
    list_organisations,
)
from catalyst_client.api.reports import (  # noqa: E402
    funding_report,
    pipeline_report,
    sme_share_report,
    trials_report,
)
from catalyst_client.models import (  # noqa: E402
    ChangeEntity,
    ChangeList,
    ChangeOperation,
    ClientCredentialsGrant,
    ClientCredentialsGrantGrantType,
    CreateOrganisation,
    FeedPosition,
    OrganisationKind,
    OrganisationList,
    OrganisationResource,
    PasswordGrant,
    PasswordGrantGrantType,
    Problem,
    Region,
    Report,
    TokenResponse,
)

BASE = os.environ["CATALYST_URL"].rstrip("/")


def check(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")
    print(f"ok: {message}")


def sign_in() -> tuple[AuthenticatedClient, AuthenticatedClient]:
    anonymous = Client(base_url=BASE)
    person = create_token.sync(
        client=anonymous,
        body=PasswordGrant(
            grant_type=PasswordGrantGrantType.PASSWORD,
            username=os.environ["CATALYST_USERNAME"],
            password=os.environ["CATALYST_PASSWORD"],
        ),
    )
    # Never print a token: only what kind of answer came back.
    check(isinstance(person, TokenResponse), f"password grant ({type(person).__name__})")
    machine = create_token.sync(
        client=anonymous,
        body=ClientCredentialsGrant(
            grant_type=ClientCredentialsGrantGrantType.CLIENT_CREDENTIALS,
            client_id=os.environ["CATALYST_CLIENT_ID"],
            client_secret=os.environ["CATALYST_CLIENT_SECRET"],
        ),
    )
    check(
        isinstance(machine, TokenResponse) and machine.scope == "read reports",
        f"client_credentials grant ({type(machine).__name__}), with its scopes",
    )
    return (
        AuthenticatedClient(base_url=BASE, token=person.access_token),
        AuthenticatedClient(base_url=BASE, token=machine.access_token),
    )


def page_to_the_end(client: AuthenticatedClient) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        kwargs = {"cursor": cursor} if cursor is not None else {}
        page = list_organisations.sync(client=client, limit=3, **kwargs)
        check(isinstance(page, OrganisationList), f"organisations page {pages + 1}")
        pages += 1
        seen.extend(organisation.id for organisation in page.data)
        # The last page says so with null, which the generated model reads as None.
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        if pages > 100:
            sys.exit("FAILED: paging never ended")
    check(len(seen) == len(set(seen)) and pages > 1, f"{len(seen)} organisations in {pages} pages, none twice")
    check(all(isinstance(id, uuid.UUID) for id in seen), "ids are UUIDs")


def read_reports(client: AuthenticatedClient) -> None:
    for name, operation in [
        ("funding", funding_report),
        ("sme-share", sme_share_report),
        ("pipeline", pipeline_report),
        ("trials", trials_report),
    ]:
        report = operation.sync(client=client)
        check(isinstance(report, Report) and report.report == name, f"{name} report as JSON")
        check(len(report.totals) > 0, f"{name} report has totals")


def follow_changes(client: AuthenticatedClient) -> None:
    position = get_latest_change_cursor.sync(client=client)
    check(isinstance(position, FeedPosition), "the feed's latest position")
    made = create_organisation.sync(
        client=client,
        body=CreateOrganisation(
            name="City of Wakefield Metropolitan District Council",
            kind=OrganisationKind.LOCAL_AUTHORITY,
            region=Region.YORKSHIRE_AND_THE_HUMBER,
        ),
    )
    check(isinstance(made, OrganisationResource), "an organisation made through the client")
    deleted = delete_organisation.sync_detailed(client=client, id=made.id)
    check(deleted.status_code == 204, "and deleted")
    page = list_changes.sync(client=client, cursor=position.cursor)
    check(isinstance(page, ChangeList), "the feed from that position")
    mine = [change for change in page.data if change.id == made.id]
    check(
        [change.operation for change in mine] == [ChangeOperation.CREATE, ChangeOperation.DELETE],
        "its create and delete, as enums, matched by UUID",
    )
    check(mine[0].entity == ChangeEntity.ORGANISATIONS, "entity is an enum")
    check(mine[1].version > mine[0].version, "a delete's version follows the last one")


def read_a_problem(client: AuthenticatedClient) -> None:
    refused = create_organisation.sync(
        client=client,
        body=CreateOrganisation(name=" ", kind=OrganisationKind.SME),
    )
    check(isinstance(refused, Problem) and refused.status == 422, "a 422 is a typed Problem")
    pointers = [item.pointer for item in refused.errors]
    check("#/name" in pointers, f"naming the member at fault: {pointers}")


if __name__ == "__main__":
    person, machine = sign_in()
    page_to_the_end(person)
    read_reports(machine)
    follow_changes(person)
    read_a_problem(person)
