"""An SME subscribing to Catalyst's opportunity feeds with the parsers feed readers and calendar
applications use: feedparser for the Atom feed (RFC 4287) and icalendar for the iCalendar feed
(RFC 5545). It publishes one open challenge first (as a council officer would), then reads both
feeds, checks what a subscriber relies on, and polls again with the validators it was given.

Run by examples/run against a live server. Environment: CATALYST_URL, CATALYST_USERNAME and
CATALYST_PASSWORD (an admin, to publish the challenge). Requires: pip install feedparser icalendar
"""

import datetime
import json
import os
import urllib.parse
import urllib.request

import feedparser
import icalendar

base = os.environ["CATALYST_URL"]


def call(method, path, token=None, body=None, form=None):
    headers = {"accept": "application/json"}
    data = None
    if token:
        headers["authorization"] = f"Bearer {token}"
    if body is not None:
        headers["content-type"] = "application/json"
        data = json.dumps(body).encode()
    if form is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request) as response:
        return json.load(response)


token = call("POST", "/api/v1/auth/token", form={
    "grant_type": "password",
    "username": os.environ["CATALYST_USERNAME"],
    "password": os.environ["CATALYST_PASSWORD"],
})["access_token"]

# Publish an opportunity: a challenge of the demo's Leeds City Council, open for a year.
index = call("GET", "/api/v1")
atom_url = base + index["links"]["opportunities_atom"]
calendar_url = base + index["links"]["opportunities_calendar"]
leeds = call("GET", "/api/v1/organisations?q=leeds", token)["data"][0]
programme = call("GET", "/api/v1/programmes", token)["data"][0]
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
closes = now + datetime.timedelta(days=365)
reference = f"gtc-feed-{now:%Y%m%d%H%M%S}"
challenge = call("POST", "/api/v1/challenges", token, {
    "programme_id": programme["id"], "owner_organisation_id": leeds["id"],
    "reference": reference, "title": "Keeping gullies clear, street by street",
    "problem_statement": "How might we know which road gullies are blocked before it rains?",
    "themes": ["highways", "flooding"],
    "opens_at": now.isoformat().replace("+00:00", "Z"),
    "closes_at": closes.isoformat().replace("+00:00", "Z"),
})
starts = (now + datetime.timedelta(days=400)).date()
call("POST", f"/api/v1/challenges/{challenge['id']}/phases", token, {
    "number": 1, "kind": "feasibility", "budget": {"amount": 50_000_000, "currency": "GBP"},
    "max_award": {"amount": 5_000_000, "currency": "GBP"},
    "starts_on": starts.isoformat(), "ends_on": (starts + datetime.timedelta(days=90)).isoformat(),
})
call("POST", f"/api/v1/challenges/{challenge['id']}/transitions", token, {"to": "open"})

# The Atom feed, as a feed reader sees it.
feed = feedparser.parse(atom_url + "?theme=flooding")
assert feed.bozo == 0, f"feedparser found the feed ill-formed: {feed.bozo_exception!r}"
assert feed.version == "atom10", feed.version
assert feed.status == 200, feed.status
titles = [entry.title for entry in feed.entries]
entry = next(entry for entry in feed.entries if entry.title.startswith(reference.upper()))
assert entry.id == f"urn:uuid:{challenge['id']}", entry.id
assert entry.author == "Leeds City Council", entry.author
assert {tag.term for tag in entry.tags} == {"highways", "flooding"}, entry.tags
assert entry.published_parsed and entry.updated_parsed
assert "up to GBP 50000.00 per supplier" in entry.content[0].value, entry.content[0].value
alternates = [link.href for link in entry.links if link.rel == "alternate"]
assert any(href.endswith(f"/api/v1/challenges/{challenge['id']}") for href in alternates), alternates
print(f"Atom: {len(feed.entries)} open challenge(s) on flooding: {titles}")

# Polling: the validators the server gave make the next poll a 304 with no body.
again = feedparser.parse(atom_url + "?theme=flooding", etag=feed.etag)
assert again.status == 304, again.status
again = feedparser.parse(atom_url + "?theme=flooding", modified=feed.modified)
assert again.status == 304, again.status
print(f"Atom: polled again with ETag {feed.etag} and Last-Modified {feed.modified}: 304")

# The iCalendar feed, as a calendar application reads it.
with urllib.request.urlopen(calendar_url) as response:
    assert response.headers["content-type"].startswith("text/calendar"), response.headers
    calendar = icalendar.Calendar.from_ical(response.read())
assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
events = list(calendar.walk("VEVENT"))
uids = [str(event["UID"]) for event in events]
assert len(uids) == len(set(uids)), "each event has its own UID"
deadline = next(event for event in events if str(event["UID"]) == f"{challenge['id']}-closes@catalyst")
assert deadline.decoded("DTSTART") == closes, (deadline.decoded("DTSTART"), closes)
assert str(deadline["SUMMARY"]).startswith("Applications close: " + reference.upper())
phase = next(event for event in events if str(event["SUMMARY"]).startswith(reference.upper()))
assert phase.decoded("DTSTART") == starts, phase.decoded("DTSTART")
assert phase.decoded("DTEND") == starts + datetime.timedelta(days=91), phase.decoded("DTEND")
for event in events:
    assert event.get("DTSTAMP") is not None, event
print(f"iCalendar: {len(events)} event(s); applications to {reference.upper()} close {closes:%Y-%m-%d %H:%M} UTC")
