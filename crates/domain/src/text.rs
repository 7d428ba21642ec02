//! Rules for free text that every entity shares.
//!
//! Control characters (U+0000 above all: PostgreSQL refuses it in text, so letting it through would
//! turn a client's mistake into a server error) are refused everywhere; multi-line fields may keep
//! line breaks and tabs.

use crate::validation::{FieldViolation, ValidationErrors};

/// Whether line breaks and tabs are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    Single,
    Multi,
}

/// Trims `value` and checks it is non-blank, at most `max_chars` characters and free of control
/// characters. Records a violation at `path` and returns `None` when it is not.
pub fn required_text(
    value: &str,
    path: &str,
    max_chars: usize,
    lines: Lines,
    errors: &mut ValidationErrors,
) -> Option<String> {
    if !within_length(value, path, max_chars, errors) {
        return None;
    }
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.push(FieldViolation::new(
            path,
            "blank",
            format!("{} must not be blank", field_name(path)),
        ));
        return None;
    }
    check_text(trimmed, path, lines, errors).then(|| trimmed.to_owned())
}

/// Like [`required_text`] but a blank value means "none".
pub fn optional_text(
    value: Option<&str>,
    path: &str,
    max_chars: usize,
    lines: Lines,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = value?;
    if !within_length(value, path, max_chars, errors) {
        return None;
    }
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return None;
    }
    check_text(trimmed, path, lines, errors).then(|| trimmed.to_owned())
}

/// Lengths count characters as sent, before trimming, as the spec's `maxLength` does.
fn within_length(value: &str, path: &str, max_chars: usize, errors: &mut ValidationErrors) -> bool {
    let length = value.chars().count();
    if length > max_chars {
        errors.push(FieldViolation::new(
            path,
            "too_long",
            format!(
                "{} must be at most {max_chars} characters (got {length})",
                field_name(path)
            ),
        ));
        return false;
    }
    true
}

/// Whether `value` (trimmed) is free of the control characters `lines` forbids.
fn check_text(value: &str, path: &str, lines: Lines, errors: &mut ValidationErrors) -> bool {
    let name = field_name(path);
    let forbidden = value.chars().find(|&c| match lines {
        Lines::Single => c.is_control(),
        Lines::Multi => c.is_control() && c != '\n' && c != '\r' && c != '\t',
    });
    if let Some(character) = forbidden {
        errors.push(FieldViolation::new(
            path,
            "invalid_characters",
            format!(
                "{name} must not contain control characters (found U+{:04X})",
                u32::from(character)
            ),
        ));
        return false;
    }
    true
}

/// The last segment of a pointer path, for messages: `identifier/id` reads as `id`.
pub fn field_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Checks an absolute `http`/`https` URL with a host and no whitespace. Deliberately modest: it
/// catches the mistakes people make (a missing scheme, a space, an email address) without
/// pretending to be a full URL parser.
pub fn web_url(value: &str, path: &str, errors: &mut ValidationErrors) -> Option<String> {
    let url = optional_text(Some(value), path, 2000, Lines::Single, errors)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let authority = rest.map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    let valid = authority.is_some_and(valid_authority) && !url.chars().any(char::is_whitespace);
    if valid {
        Some(url)
    } else {
        errors.push(FieldViolation::new(
            path,
            "invalid_url",
            format!(
                "{} must be an absolute http or https URL, such as https://www.leeds.gov.uk",
                field_name(path)
            ),
        ));
        None
    }
}

/// An IPv6 address in hex groups (RFC 4291, compressed or not; no embedded IPv4, no zone), as
/// a regular expression: the spec's URL pattern uses it, and `valid_authority` accepts the
/// same literals, so that a generator never makes a URL the server or a client's URL parser
/// refuses (Python's urlsplit raises on `[45DDf]`).
pub const IPV6_PATTERN: &str = "(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,7}:|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}|:((:[0-9A-Fa-f]{1,4}){1,7}|:))";

/// `host[:port]`: a name of ASCII letters, digits, dots and hyphens, or an IPv6 address in
/// brackets (hex groups, as `IPV6_PATTERN`); a port is 1 to 5 digits.
fn valid_authority(authority: &str) -> bool {
    let (host, port) = if let Some(literal) = authority.strip_prefix('[') {
        match literal.split_once(']') {
            Some((address, rest)) => {
                let address_ok = address.parse::<std::net::Ipv6Addr>().is_ok()
                    && address.chars().all(|c| c.is_ascii_hexdigit() || c == ':');
                if !address_ok {
                    return false;
                }
                ("[ipv6]", rest)
            }
            None => return false,
        }
    } else {
        match authority.find(':') {
            Some(colon) => (&authority[..colon], &authority[colon..]),
            None => (authority, ""),
        }
    };
    let host_ok = !host.is_empty()
        && (host == "[ipv6]"
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')));
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|digits| {
            (1..=5).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
        });
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed() {
        let mut errors = ValidationErrors::default();
        let value = required_text("  Leeds  ", "name", 10, Lines::Single, &mut errors);
        assert_eq!(value.as_deref(), Some("Leeds"));
        assert!(errors.is_empty());
    }

    #[test]
    fn nul_characters_are_refused() {
        let mut errors = ValidationErrors::default();
        assert!(required_text("a\u{0}b", "name", 10, Lines::Multi, &mut errors).is_none());
        assert_eq!(errors.violations()[0].code, "invalid_characters");
        assert_eq!(errors.violations()[0].pointer, "#/name");
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let mut errors = ValidationErrors::default();
        assert!(required_text("éééé", "name", 4, Lines::Single, &mut errors).is_some());
        assert!(required_text("ééééé", "name", 4, Lines::Single, &mut errors).is_none());
        assert_eq!(errors.violations()[0].code, "too_long");
    }

    #[test]
    fn blank_required_text_is_refused() {
        let mut errors = ValidationErrors::default();
        assert!(required_text("   ", "name", 4, Lines::Single, &mut errors).is_none());
        assert_eq!(errors.violations()[0].code, "blank");
    }

    #[test]
    fn web_urls_need_a_scheme_and_a_host() {
        for good in [
            "https://www.leeds.gov.uk",
            "http://example.org/path?q=1",
            "https://[2001:db8::1]:8443/hook",
            "http://localhost:8080",
        ] {
            let mut errors = ValidationErrors::default();
            assert_eq!(web_url(good, "website", &mut errors).as_deref(), Some(good));
        }
        for bad in [
            "www.leeds.gov.uk",
            "https://",
            "https://a b.com",
            "mailto:x@y.z",
            "ftp://x.org",
            "http://[",
            "https://[::1",
            "https://[45DDf]/",
            "https://[1:2:3]/",
            "https://[::ffff:1.2.3.4]/",
            "https://host:port",
            "https://a@b.org",
        ] {
            let mut errors = ValidationErrors::default();
            assert!(web_url(bad, "website", &mut errors).is_none(), "{bad}");
            assert_eq!(errors.violations()[0].code, "invalid_url");
        }
    }
}
