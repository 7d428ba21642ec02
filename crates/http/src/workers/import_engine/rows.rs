//! Reading an upload's rows: physical lines a chunk at a time, NDJSON lines as they are, and
//! CSV records (which may span lines) mapped to the bodies the same rows would be in NDJSON,
//! by a header that may be a collection's own export.

use catalyst_domain::ImportCollection;
use catalyst_persistence::imports::{self as store, Import};
use catalyst_persistence::{DbConnection, StoreError};
use serde_json::{Map, Value};

use crate::problem::ProblemItem;

/// Reads the upload a chunk at a time and hands out physical lines with their numbers.
pub(super) struct LineReader {
    pub(super) import_id: String,
    pub(super) next_chunk: i32,
    pub(super) buffer: Vec<u8>,
    pub(super) position: usize,
    pub(super) finished: bool,
    pub(super) line: i64,
}

impl LineReader {
    pub(super) fn new(import_id: &str) -> Self {
        Self {
            import_id: import_id.to_owned(),
            next_chunk: 0,
            buffer: Vec::new(),
            position: 0,
            finished: false,
            line: 0,
        }
    }

    /// The next line (without its line break) and its number; invalid UTF-8 is replaced, and
    /// the row it is in rejected later by the parser.
    pub(super) fn next(
        &mut self,
        connection: &mut DbConnection,
    ) -> Result<Option<(i64, String)>, StoreError> {
        loop {
            if let Some(offset) = self.buffer[self.position..]
                .iter()
                .position(|b| *b == b'\n')
            {
                let end = self.position + offset;
                let mut text = &self.buffer[self.position..end];
                if text.last() == Some(&b'\r') {
                    text = &text[..text.len() - 1];
                }
                let line = decode(text);
                self.position = end + 1;
                self.line += 1;
                return Ok(Some((self.line, line)));
            }
            if self.finished {
                if self.position < self.buffer.len() {
                    let mut text = &self.buffer[self.position..];
                    if text.last() == Some(&b'\r') {
                        text = &text[..text.len() - 1];
                    }
                    let line = decode(text);
                    self.position = self.buffer.len();
                    self.line += 1;
                    return Ok(Some((self.line, line)));
                }
                return Ok(None);
            }
            // Keep the unfinished line, drop what was read, append the next chunk.
            self.buffer.drain(..self.position);
            self.position = 0;
            match store::chunk(connection, &self.import_id, self.next_chunk)? {
                Some(chunk) => {
                    self.buffer.extend_from_slice(&chunk);
                    self.next_chunk += 1;
                }
                None => self.finished = true,
            }
        }
    }
}

pub(super) fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        // A marker the row parser turns into a rejection with the line number.
        Err(_) => "\u{0}invalid-utf8".to_owned(),
    }
}

/// A row as the file gives it, before it is checked.
pub(super) struct RawRow {
    pub(super) line: i64,
    /// The row as a JSON body, or why it cannot be one.
    pub(super) body: Result<Value, Vec<ProblemItem>>,
}

pub(super) fn problem(code: &str, detail: impl Into<String>) -> Vec<ProblemItem> {
    vec![ProblemItem {
        pointer: None,
        parameter: None,
        code: code.to_owned(),
        detail: detail.into(),
    }]
}

/// A CSV record's first line, and its fields or why it cannot be read.
pub(super) type CsvRecord = (i64, Result<Vec<String>, String>);

/// Hands out rows: NDJSON lines, or CSV records mapped to bodies by the header (each column's
/// member, or none for a column that is read and ignored).
pub(super) struct RowReader {
    pub(super) lines: LineReader,
    pub(super) csv_header: Option<Vec<Option<String>>>,
    pub(super) csv: bool,
}

/// A payments import's columns, which the `payments` export writes too.
pub(crate) const PAYMENT_COLUMNS: [&str; 6] = [
    "milestone_id",
    "milestone_source",
    "milestone_external_id",
    "paid_on",
    "amount.amount",
    "amount.currency",
];

/// The CSV columns of an importable collection, and where each goes in the body.
pub(super) fn csv_columns(collection: ImportCollection) -> &'static [&'static str] {
    match collection {
        ImportCollection::Organisations => &[
            "name",
            "kind",
            "scale",
            "region",
            "identifier_scheme",
            "identifier_id",
            "website",
            "external_source",
            "external_id",
        ],
        ImportCollection::Challenges => &[
            "programme_id",
            "owner_organisation_id",
            "reference",
            "title",
            "problem_statement",
            "themes",
            "documents",
            "opens_at",
            "closes_at",
            "external_source",
            "external_id",
        ],
        ImportCollection::Applications => &[
            "phase_id",
            "supplier_organisation_id",
            "amount_requested.amount",
            "amount_requested.currency",
            "summary",
            "external_source",
            "external_id",
        ],
        ImportCollection::Awards => &[
            "phase_id",
            "application_id",
            "contract_reference",
            "amount.amount",
            "amount.currency",
            "vat_included",
            "starts_on",
            "ends_on",
            "parent_award_id",
            "external_source",
            "external_id",
        ],
        ImportCollection::Payments => &PAYMENT_COLUMNS,
    }
}

/// An export's name for a column the import knows by another.
pub(super) fn column_alias(name: &str) -> &str {
    match name {
        "identifier.scheme" => "identifier_scheme",
        "identifier.id" => "identifier_id",
        other => other,
    }
}

/// What a CSV header column means for `collection`: a member of the row's body, ignored
/// (`Ok(None)`), or unknown. The collection's export is read back: its `id` names the record a
/// row updates, and its other columns that set nothing (version, times, status, figures derived
/// from other records) are read and ignored.
pub(super) fn header_column(
    collection: ImportCollection,
    name: &str,
) -> Result<Option<String>, ()> {
    let exported =
        crate::read_models::exports::csv_columns(collection.as_str()).unwrap_or_default();
    let member = column_alias(name);
    if csv_columns(collection).contains(&member) || (member == "id" && exported.contains(&"id")) {
        Ok(Some(member.to_owned()))
    } else if exported.contains(&name) {
        Ok(None)
    } else {
        Err(())
    }
}

impl RowReader {
    pub(super) fn new(import: &Import) -> Self {
        Self {
            lines: LineReader::new(&import.id),
            csv_header: None,
            csv: import.format == "csv",
        }
    }

    /// Reads the CSV header (the first record), checking it names known columns.
    pub(super) fn start(
        &mut self,
        connection: &mut DbConnection,
        collection: ImportCollection,
    ) -> Result<Result<(), String>, StoreError> {
        if !self.csv {
            return Ok(Ok(()));
        }
        let Some((_, record)) = self.csv_record(connection)? else {
            return Ok(Err(
                "the file is empty: a CSV import starts with a header row".to_owned(),
            ));
        };
        let Ok(header) = record else {
            return Ok(Err("the header row is not valid CSV".to_owned()));
        };
        let mut columns = Vec::with_capacity(header.len());
        for name in header {
            match header_column(collection, name.trim()) {
                Ok(column) => columns.push(column),
                Err(()) => {
                    return Ok(Err(format!(
                        "the header names {:?}, which is not a column of {collection}: use {} (and an export's id and read-only columns, which are ignored)",
                        name.trim(),
                        csv_columns(collection).join(", ")
                    )))
                }
            }
        }
        self.csv_header = Some(columns);
        Ok(Ok(()))
    }

    /// One CSV record (which may span lines when a quoted field holds a line break).
    pub(super) fn csv_record(
        &mut self,
        connection: &mut DbConnection,
    ) -> Result<Option<CsvRecord>, StoreError> {
        let Some((first, mut text)) = self.lines.next(connection)? else {
            return Ok(None);
        };
        while text.matches('"').count() % 2 == 1 {
            match self.lines.next(connection)? {
                Some((_, more)) => {
                    text.push('\n');
                    text.push_str(&more);
                }
                None => {
                    return Ok(Some((
                        first,
                        Err("a quoted field is not closed".to_owned()),
                    )))
                }
            }
        }
        Ok(Some((first, parse_csv_record(&text))))
    }

    /// Up to `size` rows (none at the end of the file).
    pub(super) fn next_batch(
        &mut self,
        connection: &mut DbConnection,
        size: usize,
    ) -> Result<Vec<RawRow>, StoreError> {
        let mut rows = Vec::with_capacity(size);
        while rows.len() < size {
            match self.next(connection)? {
                Some(row) => rows.push(row),
                None => break,
            }
        }
        Ok(rows)
    }

    pub(super) fn next(
        &mut self,
        connection: &mut DbConnection,
    ) -> Result<Option<RawRow>, StoreError> {
        if !self.csv {
            loop {
                let Some((line, text)) = self.lines.next(connection)? else {
                    return Ok(None);
                };
                if text.trim().is_empty() {
                    continue;
                }
                let body = if text.starts_with('\u{0}') {
                    Err(problem("invalid_utf8", "the line is not valid UTF-8"))
                } else {
                    serde_json::from_str::<Value>(&text).map_err(|error| {
                        problem(
                            "malformed_json",
                            format!("the line is not a JSON object: {error}"),
                        )
                    })
                };
                return Ok(Some(RawRow { line, body }));
            }
        }
        loop {
            let Some((line, record)) = self.csv_record(connection)? else {
                return Ok(None);
            };
            let fields = match record {
                Ok(fields) if fields.iter().all(|field| field.is_empty()) => continue,
                Ok(fields) => fields,
                Err(reason) => {
                    return Ok(Some(RawRow {
                        line,
                        body: Err(problem("malformed_csv", reason)),
                    }))
                }
            };
            let header = self.csv_header.as_deref().unwrap_or_default();
            if fields.len() != header.len() {
                return Ok(Some(RawRow {
                    line,
                    body: Err(problem(
                        "malformed_csv",
                        format!(
                            "the row has {} fields; the header has {}",
                            fields.len(),
                            header.len()
                        ),
                    )),
                }));
            }
            let body = if fields.iter().any(|field| field.contains('\u{0}')) {
                Err(problem("invalid_utf8", "the row is not valid UTF-8"))
            } else {
                Ok(csv_body(header, fields))
            };
            return Ok(Some(RawRow { line, body }));
        }
    }
}

/// RFC 4180: fields separated by commas, quoted with `"` (doubled inside) when they hold
/// commas, quotes or line breaks.
pub(super) fn parse_csv_record(text: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == '"' {
            return Err("a quote appears inside an unquoted field".to_owned());
        } else if c == ',' {
            fields.push(std::mem::take(&mut field));
            at_start = true;
        } else {
            field.push(c);
            at_start = false;
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    fields.push(field);
    Ok(fields)
}

/// A CSV record as the JSON body the same row would be in NDJSON (empty cells are absent;
/// ignored columns are skipped).
pub(super) fn csv_body(header: &[Option<String>], fields: Vec<String>) -> Value {
    let mut body = Map::new();
    let mut identifier = Map::new();
    let mut external = Map::new();
    let mut milestone = Map::new();
    for (name, value) in header.iter().zip(fields) {
        let Some(name) = name else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let value = without_formula_guard(value);
        match name.as_str() {
            "identifier_scheme" => {
                identifier.insert("scheme".to_owned(), Value::String(value));
            }
            "identifier_id" => {
                identifier.insert("id".to_owned(), Value::String(value));
            }
            "external_source" => {
                external.insert("source".to_owned(), Value::String(value));
            }
            "external_id" => {
                external.insert("id".to_owned(), Value::String(value));
            }
            "milestone_source" => {
                milestone.insert("source".to_owned(), Value::String(value));
            }
            "milestone_external_id" => {
                milestone.insert("id".to_owned(), Value::String(value));
            }
            "vat_included" => {
                let flag = match value.trim().to_ascii_lowercase().as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    // Left as text, so that the row is rejected saying why.
                    _ => Value::String(value),
                };
                body.insert(name.clone(), flag);
            }
            // Money is two columns, as exports write it: `amount.amount` (minor units) and
            // `amount.currency`.
            dotted if dotted.contains('.') => {
                let (object, member) = dotted.split_once('.').unwrap_or((dotted, ""));
                let cell = match (member, value.trim().parse::<i64>()) {
                    ("amount", Ok(minor)) => Value::from(minor),
                    _ => Value::String(value),
                };
                if let Value::Object(money) = body
                    .entry(object.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    money.insert(member.to_owned(), cell);
                }
            }
            // Lists are `;`-separated in a cell.
            "themes" => {
                let items = value
                    .split(';')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| Value::String(item.to_owned()))
                    .collect();
                body.insert(name.clone(), Value::Array(items));
            }
            "documents" => {
                body.insert(name.clone(), Value::Array(document_links(&value)));
            }
            _ => {
                body.insert(name.clone(), Value::String(value));
            }
        }
    }
    if !identifier.is_empty() {
        body.insert("identifier".to_owned(), Value::Object(identifier));
    }
    if !milestone.is_empty() {
        body.insert("milestone_external_id".to_owned(), Value::Object(milestone));
    }
    if !external.is_empty() {
        body.insert(
            "external_ids".to_owned(),
            Value::Array(vec![Value::Object(external)]),
        );
    }
    Value::Object(body)
}

/// A `documents` cell as the export writes it, `Title <https://...>; Other <https://...>`, as
/// links. A URL has a scheme and no spaces or angle brackets, so a title may hold `;`, `<` or
/// `>`; an entry
/// without a `<url>` becomes a link without a URL, which the body's validation refuses saying
/// which one.
pub(super) fn document_links(cell: &str) -> Vec<Value> {
    let mut links = Vec::new();
    let mut rest = cell;
    loop {
        let entry = rest.trim_start();
        let entry = entry.strip_prefix(';').unwrap_or(entry).trim_start();
        if entry.is_empty() {
            return links;
        }
        let url = entry
            .char_indices()
            .filter(|(_, c)| *c == '<')
            .find_map(|(open, _)| {
                let after = &entry[open + 1..];
                let close = after.find(|c: char| c == '>' || c == '<' || c.is_whitespace())?;
                (after[close..].starts_with('>') && after[..close].contains("://"))
                    .then_some((open, open + 1 + close))
            });
        let Some((open, close)) = url else {
            links.push(serde_json::json!({ "title": entry.trim_end() }));
            return links;
        };
        links.push(serde_json::json!({
            "title": entry[..open].trim_end(),
            "url": &entry[open + 1..close],
        }));
        rest = &entry[close + 1..];
    }
}

/// An export writes text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`...)
/// with a leading apostrophe (`crate::read_models::exports`): read back, the apostrophe goes.
pub(super) fn without_formula_guard(value: String) -> String {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_documents_cell_reads_back_as_links() {
        assert_eq!(
            document_links(
                "Brief; part 1 <https://a.example/1>; <Draft> spec <https://a.example/2?x=1;y=2>"
            ),
            vec![
                json!({"title": "Brief; part 1", "url": "https://a.example/1"}),
                json!({"title": "<Draft> spec", "url": "https://a.example/2?x=1;y=2"}),
            ]
        );
        assert_eq!(document_links(" ; "), Vec::<Value>::new());
        // No URL: a link without one, which validation refuses by name.
        assert_eq!(
            document_links("Brief <https://a.example/1>; Notes"),
            vec![
                json!({"title": "Brief", "url": "https://a.example/1"}),
                json!({"title": "Notes"}),
            ]
        );
    }

    #[test]
    fn an_exports_header_and_cells_read_back() {
        assert_eq!(
            header_column(ImportCollection::Organisations, "identifier.scheme"),
            Ok(Some("identifier_scheme".to_owned()))
        );
        assert_eq!(
            header_column(ImportCollection::Awards, "id"),
            Ok(Some("id".to_owned()))
        );
        assert_eq!(
            header_column(ImportCollection::Awards, "paid.amount"),
            Ok(None)
        );
        assert_eq!(header_column(ImportCollection::Payments, "id"), Err(()));
        assert_eq!(
            header_column(ImportCollection::Organisations, "colour"),
            Err(())
        );
        assert_eq!(without_formula_guard("'=SUM(A1)".to_owned()), "=SUM(A1)");
        assert_eq!(without_formula_guard("'-5".to_owned()), "-5");
        assert_eq!(without_formula_guard("O'Neil".to_owned()), "O'Neil");
        assert_eq!(without_formula_guard("'quoted'".to_owned()), "'quoted'");
    }

    #[test]
    fn csv_records_follow_rfc_4180() {
        assert_eq!(parse_csv_record("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(
            parse_csv_record("\"Leeds, City of\",\"say \"\"hi\"\"\",x").unwrap(),
            ["Leeds, City of", "say \"hi\"", "x"]
        );
        assert_eq!(
            parse_csv_record("\"two\nlines\",y").unwrap(),
            ["two\nlines", "y"]
        );
        assert!(parse_csv_record("a\"b,c").is_err());
        assert!(parse_csv_record("\"open,c").is_err());
    }
}
