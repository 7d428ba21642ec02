//! The domain's text rules (`catalyst_domain::text`) as JSON Schema: which rule each member
//! follows, and its `maxLength`, `minLength` and `pattern`.

/// White space that trimming removes (Unicode `White_Space`).
pub(super) const SPACE: &str =
    r"[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Any character of single-line text: no control characters.
pub(super) const LINE_CHAR: &str = r"[^\u0000-\u001f\u007f-\u009f]";
/// Any character of multi-line text: tabs and line breaks too.
pub(super) const TEXT_CHAR: &str = r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]";
/// A character that is neither white space nor a control character.
pub(super) const VISIBLE: &str =
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Like [`VISIBLE`], and not `@`.
pub(super) const VISIBLE_NOT_AT: &str =
    r"[^@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Like [`VISIBLE_NOT_AT`], and not `.`.
pub(super) const VISIBLE_NOT_AT_DOT: &str =
    r"[^@.\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// How one text member is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rule {
    /// Free text on one line, at most this many characters.
    Line(usize),
    /// Free text that may span lines.
    Text(usize),
    /// A code or reference: 2 to 40 letters, digits and hyphens.
    Code,
    /// An email address.
    Email,
    /// An absolute http or https URL with an ASCII host.
    Url,
    /// A partner system's name (`leeds-housing-crm`).
    Source,
    /// A partner's key for a record: no control characters, no surrounding spaces.
    Key,
    /// A new password: 12 to 256 characters of anything.
    NewPassword,
    /// A secret or token being presented: anything, bounded.
    Secret(usize),
}

/// The rule of `schema.member`, or of `member` in any schema; `Update<X>` schemas share the
/// rules of `Create<X>`.
pub(super) fn rule_for(schema: &str, member: &str) -> Option<Rule> {
    let specific = match (schema, member) {
        ("CreateWebhook", "description") => Some(Rule::Line(500)),
        ("OrganisationIdentifier", "id") => Some(Rule::Line(64)),
        ("ExternalIdBody", "source") => Some(Rule::Source),
        ("ExternalIdBody", "id") => Some(Rule::Key),
        ("TokenRequest", "username") => Some(Rule::Secret(254)),
        ("TokenRequest", "password") | ("ChangePassword", "current_password") => {
            Some(Rule::Secret(256))
        }
        ("TokenRequest", _) | ("RevokeRequest", "token") => Some(Rule::Secret(4096)),
        _ => None,
    };
    specific.or(match member {
        "name" | "title" | "metric" | "role" => Some(Rule::Line(200)),
        "contract_reference" => Some(Rule::Line(100)),
        "unit" => Some(Rule::Line(40)),
        "unit_label" => Some(Rule::Line(60)),
        "themes" => Some(Rule::Line(60)),
        "sites" => Some(Rule::Line(200)),
        "problem_statement" => Some(Rule::Text(20_000)),
        "summary" | "notes" | "result" => Some(Rule::Text(10_000)),
        "description" => Some(Rule::Text(5000)),
        "code" | "reference" => Some(Rule::Code),
        "email" => Some(Rule::Email),
        "website" | "url" => Some(Rule::Url),
        "password" | "new_password" => Some(Rule::NewPassword),
        _ => None,
    })
}

/// `maxLength`, `minLength` and `pattern` of a member under `rule`.
pub(super) fn constraints(rule: Rule, required: bool) -> (usize, usize, String) {
    let optional = |body: String| {
        if required {
            body
        } else {
            format!("({body})?")
        }
    };
    match rule {
        Rule::Line(max) => (
            max,
            1,
            format!(
                "^{SPACE}*{}{SPACE}*$",
                optional(format!("{VISIBLE}({LINE_CHAR}*{VISIBLE})?"))
            ),
        ),
        Rule::Text(max) => (
            max,
            1,
            format!(
                "^{SPACE}*{}{SPACE}*$",
                optional(format!("{VISIBLE}({TEXT_CHAR}*{VISIBLE})?"))
            ),
        ),
        Rule::Code => (40, 2, format!("^{SPACE}*[A-Za-z0-9-]{{2,40}}{SPACE}*$")),
        Rule::Email => (
            254,
            5,
            format!(
                "^{SPACE}*{}{SPACE}*$",
                optional(format!(
                    "{VISIBLE_NOT_AT}+@{VISIBLE_NOT_AT_DOT}{VISIBLE_NOT_AT}*\\.{VISIBLE_NOT_AT}*{VISIBLE_NOT_AT_DOT}"
                ))
            ),
        ),
        Rule::Url => (
            2000,
            8,
            format!(
                "^{SPACE}*{}{SPACE}*$",
                optional(format!(
                    r"https?://(\[{}\]|[A-Za-z0-9.-]+)(:[0-9]{{1,5}})?([/?#]{VISIBLE}*)?",
                    catalyst_domain::text::IPV6_PATTERN
                ))
            ),
        ),
        Rule::Source => (64, 1, "^[a-z0-9][a-z0-9._-]{0,63}$".to_owned()),
        Rule::Key => (
            200,
            1,
            format!("^{VISIBLE}({LINE_CHAR}{{0,198}}{VISIBLE})?$"),
        ),
        Rule::NewPassword => (256, 12, String::new()),
        Rule::Secret(max) => (max, 0, String::new()),
    }
}
