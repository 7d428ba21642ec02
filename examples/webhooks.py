"""An integration partner's webhook receiver, verifying Catalyst's deliveries with the Standard
Webhooks reference library (`standardwebhooks`, as a receiver would install it): it subscribes to
organisations' events, creates an organisation, and checks that the delivery verifies with the
secret it was given, that a tampered body or a stale timestamp does not, and that after a secret
rotation a delivery verifies with the new secret and with the old one (for its 24 hours).

Run by examples/run against a live server started with CATALYST_WEBHOOK_ALLOW_PRIVATE=true (the
receiver listens on 127.0.0.1). Environment: CATALYST_URL, CATALYST_USERNAME and CATALYST_PASSWORD
(an admin). Requires: pip install standardwebhooks
"""

import http.server
import json
import os
import queue
import threading
import time
import urllib.parse
import urllib.request

from standardwebhooks import Webhook, WebhookVerificationError

base = os.environ["CATALYST_URL"]
received = queue.Queue()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        received.put(({name.lower(): value for name, value in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


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
        text = response.read()
        return json.loads(text) if text else None


def next_delivery(kind):
    """The next delivery of this event type, skipping others."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            headers, body = received.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        if json.loads(body)["type"] == kind:
            return headers, body
    raise SystemExit(f"no {kind} delivery within 30 s")


def refused(webhook, body, headers):
    try:
        webhook.verify(body, headers)
    except WebhookVerificationError:
        return True
    return False


def organisation(name):
    return call("POST", "/api/v1/organisations", token, body={
        "name": name, "kind": "local_authority", "region": "north_west"})


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
hook = f"http://127.0.0.1:{server.server_address[1]}/hook"

token = call("POST", "/api/v1/auth/token", form={
    "grant_type": "password",
    "username": os.environ["CATALYST_USERNAME"],
    "password": os.environ["CATALYST_PASSWORD"],
})["access_token"]

subscription = call("POST", "/api/v1/webhooks", token, body={
    "url": hook, "event_types": ["organisations.created"]})
first_secret = subscription["secret"]
assert first_secret.startswith("whsec_"), first_secret
print("ok: subscribed; the secret is whsec_…")

created = organisation("Example Borough Council")
headers, body = next_delivery("organisations.created")
payload = Webhook(first_secret).verify(body, headers)
assert payload["data"]["id"] == created["id"], payload
assert payload["data"]["version"] == created["version"], payload
print("ok: the delivery verifies with standardwebhooks and holds the record as GET returns it")

assert refused(Webhook(first_secret), body.replace(b"Example", b"Exemple"), headers)
print("ok: a tampered body does not verify")
stale = dict(headers, **{"webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)})
assert refused(Webhook(first_secret), body, stale)
print("ok: a timestamp an hour old does not verify (replays are refused)")

etag = f'"{subscription["version"]}"'
request = urllib.request.Request(
    base + f"/api/v1/webhooks/{subscription['id']}/rotate-secret", method="POST",
    headers={"authorization": f"Bearer {token}", "if-match": etag, "accept": "application/json"})
with urllib.request.urlopen(request) as response:
    rotated = json.load(response)
second_secret = rotated["secret"]
assert second_secret != first_secret

organisation("Another Example Council")
headers, body = next_delivery("organisations.created")
Webhook(second_secret).verify(body, headers)
Webhook(first_secret).verify(body, headers)
print("ok: after a rotation a delivery verifies with the new secret, and with the old one")

server.shutdown()
