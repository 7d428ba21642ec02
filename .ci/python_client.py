"""Uses Catalyst through a client generated from openapi/v1.json, and nothing else.

.ci/clients generates the client (openapi-python-client) and runs this against a live server
with the demo data: an integration partner's first hour, each step with the generated models,
so a spec change that breaks generated clients fails CI.

Environment: CATALYST_URL, CATALYST_CLIENT_PATH (the folder holding the generated package
`catalyst_client`), CATALYST_USERNAME, CATALYST_PASSWORD, CATALYST_CLIENT_ID,
CATALYST_CLIENT_SECRET.
"""

import csv
import io
import os
import sys
import time
import uuid
import xml.etree.ElementTree as ElementTree

sys.path.insert(0, os.environ["CATALYST_CLIENT_PATH"])

from catalyst_client import AuthenticatedClient, Client  # noqa: E402
from catalyst_client.api.auth import create_token  # noqa: E402
from catalyst_client.api.changes import get_latest_change_cursor, list_changes  # noqa: E402
from catalyst_client.api.imports import create_import, get_import  # noqa: E402
from catalyst_client.api.organisations import (  # noqa: E402
    create_organisation,
    delete_organisation,
    list_organisations,
)
from catalyst_client.api.reports import (  # noqa: E402
    funding_report,
    funding_report_csv,
    funding_report_svg,
    funnel_report_svg,
    payment_times_report_svg,
    sme_share_report_svg,
    pipeline_report,
    pipeline_report_csv,
    sme_share_report,
    sme_share_report_csv,
    trials_report,
    trials_report_csv,
)
from catalyst_client.types import File  # noqa: E402
from catalyst_client.models import (  # noqa: E402
    ChangeEntity,
    ChangeList,
    ChangeOperation,
    ClientCredentialsGrant,
    ClientCredentialsGrantGrantType,
    CreateImportCollection,
    CreateImportFormat,
    CreateImportMode,
    CreateOrganisation,
    FeedPosition,
    FundingReport,
    ImportResource,
    OrganisationKind,
    OrganisationList,
    OrganisationResource,
    PasswordGrant,
    PasswordGrantGrantType,
    PipelineReport,
    Problem,
    Region,
    SmeShareReport,
    TokenResponse,
    TrialsReport,
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
    funding = funding_report.sync(client=client)
    check(isinstance(funding, FundingReport), "funding report as a typed FundingReport")
    committed = sum(row.committed.amount for row in funding.rows)
    check(
        isinstance(funding.totals[0].committed.amount, int)
        and committed == funding.totals[0].committed.amount,
        f"typed figures: rows' committed add up to the total ({committed} pence)",
    )
    shares = sme_share_report.sync(client=client, group_by="owner")
    check(isinstance(shares, SmeShareReport), "SME share as a typed SmeShareReport")
    check(
        all(isinstance(row.owner_id, uuid.UUID) for row in shares.rows),
        "a row's owner_id is a UUID",
    )
    check(isinstance(shares.totals[0].target, float), "the target is a number")
    pipeline = pipeline_report.sync(client=client)
    check(isinstance(pipeline, PipelineReport), "pipeline as a typed PipelineReport")
    check(
        pipeline.totals[0].median_days_to_first_contract is not None,
        "days to a first contract, known on the demo",
    )
    trials = trials_report.sync(client=client)
    check(isinstance(trials, TrialsReport), "trials as a typed TrialsReport")
    check(trials.totals[0].follow_on_value.currency == "GBP", "follow-on value is Money")


def read_reports_as_csv(client: AuthenticatedClient) -> None:
    for name, as_json, as_csv in [
        ("funding", funding_report, funding_report_csv),
        ("sme-share", sme_share_report, sme_share_report_csv),
        ("pipeline", pipeline_report, pipeline_report_csv),
        ("trials", trials_report, trials_report_csv),
    ]:
        body = as_csv.sync(client=client)
        # The generated code hands text/csv over as the bytes received.
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        check(isinstance(text, str), f"{name} as CSV through its own operation")
        table = list(csv.reader(io.StringIO(text)))
        rows = as_json.sync(client=client).rows
        check(len(table) == len(rows) + 1, f"{name}: a header and {len(rows)} rows, as in JSON")


def read_charts(client: AuthenticatedClient) -> None:
    svg = "{http://www.w3.org/2000/svg}"
    for name, as_svg in [
        ("funding", funding_report_svg),
        ("sme-share", sme_share_report_svg),
        ("payment-times", payment_times_report_svg),
        ("funnel", funnel_report_svg),
    ]:
        body = as_svg.sync(client=client, financial_year="2019-20")
        # image/svg+xml is text (openapi/python-client.yml): the body as received.
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        check(isinstance(text, str), f"the {name} chart through its own operation")
        root = ElementTree.fromstring(text)
        title = root.find(f"{svg}title")
        check(root.tag == f"{svg}svg" and title is not None and title.text, f"{name}: an SVG with a title")
        texts = [(element.text or "").strip() for element in root.iter(f"{svg}text")]
        check(any("2019-20" in text for text in texts), f"{name}: says it covers 2019-20")


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


def import_a_spreadsheet(client: AuthenticatedClient) -> None:
    sheet = "name,kind,region\r\nCalderdale Council,local_authority,yorkshire_and_the_humber\r\n"
    queued = create_import.sync(
        client=client,
        body=File(payload=io.BytesIO(sheet.encode("utf-8")), file_name="councils.csv"),
        collection=CreateImportCollection.ORGANISATIONS,
        mode=CreateImportMode.PARTIAL,
        format_=CreateImportFormat.CSV,
    )
    check(isinstance(queued, ImportResource), "an import uploaded through the client")
    deadline = time.monotonic() + 60
    job = queued
    while job.status not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = get_import.sync(client=client, id=queued.id)
    check(job.status == "succeeded" and job.rows_created == 1, f"it ran: {job.status}")


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
    read_reports_as_csv(machine)
    read_charts(machine)
    follow_changes(person)
    import_a_spreadsheet(person)
    read_a_problem(person)
