//! The Atom rendering (RFC 4287) of the open challenges.

use std::fmt::Write;

use catalyst_domain::Timestamp;

use super::Opportunity;

/// Text safe inside an XML element or attribute: markup escaped, and the characters XML 1.0
/// does not allow at all (most control characters) left out.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(character),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The feed document.
pub fn feed(
    base: &str,
    self_url: &str,
    found: &[Opportunity],
    latest: Option<Timestamp>,
) -> String {
    let updated = latest.map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), |at| at.to_string());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(out, "  <id>{}</id>", xml(self_url));
    out.push_str("  <title>Challenges open for applications</title>\n");
    out.push_str(
        "  <subtitle>Public bodies' innovation challenges (SBRI) that suppliers may apply to now</subtitle>\n",
    );
    let _ = writeln!(out, "  <updated>{updated}</updated>");
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        xml(self_url)
    );
    let _ = writeln!(
        out,
        "  <link rel=\"alternate\" type=\"application/json\" href=\"{}\"/>",
        xml(&format!("{base}/api/v1/challenges?status=open"))
    );
    out.push_str("  <author><name>Catalyst</name></author>\n");
    out.push_str("  <generator>Catalyst</generator>\n");
    for opportunity in found {
        let challenge = &opportunity.challenge;
        let fields = &challenge.fields;
        out.push_str("  <entry>\n");
        let _ = writeln!(out, "    <id>urn:uuid:{}</id>", challenge.id);
        let _ = writeln!(
            out,
            "    <title>{}</title>",
            xml(&format!("{}: {}", fields.reference, fields.title))
        );
        let _ = writeln!(
            out,
            "    <published>{}</published>",
            opportunity.published()
        );
        let _ = writeln!(out, "    <updated>{}</updated>", opportunity.updated());
        let _ = writeln!(
            out,
            "    <author><name>{}</name></author>",
            xml(opportunity.owner_name())
        );
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"application/json\" href=\"{}\"/>",
            xml(&format!("{base}/api/v1/challenges/{}", challenge.id))
        );
        for theme in &fields.themes {
            let _ = writeln!(out, "    <category term=\"{}\"/>", xml(theme));
        }
        let closes = fields.closes_at.map_or_else(
            || "open until further notice".to_owned(),
            |closes| format!("closes {}", closes.as_datetime().format("%Y-%m-%d")),
        );
        let _ = writeln!(
            out,
            "    <summary>{}</summary>",
            xml(&format!("{}: {}", opportunity.owner_name(), closes))
        );
        let _ = writeln!(
            out,
            "    <content type=\"text\">{}</content>",
            xml(&opportunity.description())
        );
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn markup_is_escaped_and_forbidden_characters_dropped() {
        assert_eq!(
            xml("Damp & mould <sensors> \"quoted\" 'too'\u{0}\u{7}"),
            "Damp &amp; mould &lt;sensors&gt; &quot;quoted&quot; &apos;too&apos;"
        );
        assert_eq!(xml("line\nbreak\ttab"), "line\nbreak\ttab");
    }
}
