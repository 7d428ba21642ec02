// Compiled by .ci/clients with `tsc --strict` against types openapi-typescript generates from
// openapi/v1.json: a frontend reading typed report figures, pages and change-feed entries.
// Nothing runs; if the spec stops typing these, the compile fails.
import type { components } from "./catalyst.js";

type Schemas = components["schemas"];

export function committedPence(report: Schemas["FundingReport"]): number {
  return report.totals[0].committed.amount;
}

export function smeShares(report: Schemas["SmeShareReport"]): Array<number | null> {
  return report.rows.map((row) => row.value_share);
}

export function daysToFirstContract(report: Schemas["PipelineReport"]): number | null {
  return report.totals[0].median_days_to_first_contract;
}

export function followOnPounds(report: Schemas["TrialsReport"]): number {
  return report.totals.reduce((sum, row) => sum + row.follow_on_value.amount, 0) / 100;
}

export function ownerOf(row: Schemas["FundingRow"]): string | null | undefined {
  return row.owner;
}

// A list's last page says so with null.
export function isLastPage(page: Schemas["OrganisationList"]): boolean {
  return page.next_cursor === null;
}

export function isDelete(change: Schemas["Change"]): boolean {
  const operation: "create" | "update" | "delete" = change.operation;
  return operation === "delete";
}
