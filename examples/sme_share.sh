#!/usr/bin/env bash
# Pull the SME-share report as CSV and page through every award, with curl and jq.
#
#   CATALYST_URL=http://127.0.0.1:8080 CATALYST_CLIENT_ID=... CATALYST_CLIENT_SECRET=... \
#     examples/sme_share.sh
#
# The API client needs the `reports` and `read` scopes. Writes sme-share.csv here.
set -euo pipefail

base="${CATALYST_URL:-http://127.0.0.1:8080}"
: "${CATALYST_CLIENT_ID:?set CATALYST_CLIENT_ID: an API client with the reports and read scopes}"
: "${CATALYST_CLIENT_SECRET:?set CATALYST_CLIENT_SECRET}"
command -v jq >/dev/null || { echo "this example needs jq" >&2; exit 2; }

# --fail-with-body: a problem+json answer is printed and stops the script.
api() { curl --silent --show-error --fail-with-body "$@"; }

token="$(api "$base/api/v1/auth/token" \
  --data-urlencode grant_type=client_credentials \
  --data-urlencode "client_id=$CATALYST_CLIENT_ID" \
  --data-urlencode "client_secret=$CATALYST_CLIENT_SECRET" | jq -r .access_token)"
auth=(-H "authorization: Bearer $token")

# The report, as a spreadsheet would take it.
api "${auth[@]}" -H 'accept: text/csv' \
  "$base/api/v1/reports/sme-share?group_by=owner,financial_year" > sme-share.csv
echo "sme-share.csv: $(($(wc -l < sme-share.csv) - 1)) rows"

# Every award, following next_cursor.
count=0 committed=0 cursor=""
while :; do
  page="$(api "${auth[@]}" "$base/api/v1/awards?limit=100${cursor:+&cursor=$cursor}")"
  count=$((count + $(jq '.data | length' <<<"$page")))
  committed=$((committed + $(jq '[.data[] | select(.status != "terminated") | .amount.amount] | add // 0' <<<"$page")))
  cursor="$(jq -r '.next_cursor // empty' <<<"$page")"
  [ -n "$cursor" ] || break
done
echo "$count awards, $committed pence committed"

reported="$(api "${auth[@]}" "$base/api/v1/reports/funding" | jq '[.totals[].committed.amount] | add // 0')"
if [ "$reported" != "$committed" ]; then
  echo "the funding report says $reported pence, the awards $committed" >&2
  exit 1
fi
echo "the funding report agrees"
