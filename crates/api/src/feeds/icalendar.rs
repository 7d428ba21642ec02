//! The iCalendar rendering (RFC 5545) of the open challenges' dates: when applications close,
//! and each phase's dates.

use catalyst_domain::Timestamp;
use chrono::{Days, NaiveDate};

use super::Opportunity;

/// A TEXT value: backslash, semicolon, comma and line breaks escaped (RFC 5545, 3.3.11), other
/// control characters left out.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded so that no line is longer than 75 octets (3.1): continuation
/// lines start with a space, and a character is never split.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for character in content.chars() {
        let octets = character.len_utf8();
        if width + octets > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(character);
        width += octets;
    }
    out.push_str("\r\n");
}

fn moment(at: Timestamp) -> String {
    at.as_datetime().format("%Y%m%dT%H%M%SZ").to_string()
}

fn day(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// The calendar document.
pub fn calendar(base: &str, found: &[Opportunity], latest: Option<Timestamp>) -> String {
    let stamp = moment(latest.unwrap_or_else(Timestamp::now));
    let mut out = String::new();
    for content in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Catalyst//Challenges open for applications//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Challenges open for applications",
    ] {
        line(&mut out, content);
    }
    for opportunity in found {
        let challenge = &opportunity.challenge;
        let fields = &challenge.fields;
        let name = format!("{}: {}", fields.reference, fields.title);
        let url = format!("{base}/api/v1/challenges/{}", challenge.id);
        let categories: Vec<String> = fields.themes.iter().map(|theme| text(theme)).collect();
        if let Some(closes) = fields.closes_at {
            line(&mut out, "BEGIN:VEVENT");
            line(&mut out, &format!("UID:{}-closes@catalyst", challenge.id));
            line(&mut out, &format!("DTSTAMP:{stamp}"));
            // A deadline is a moment: DTSTART alone (the event ends as it starts).
            line(&mut out, &format!("DTSTART:{}", moment(closes)));
            line(
                &mut out,
                &format!("SUMMARY:{}", text(&format!("Applications close: {name}"))),
            );
            line(
                &mut out,
                &format!("DESCRIPTION:{}", text(&opportunity.description())),
            );
            line(&mut out, &format!("URL:{url}"));
            if !categories.is_empty() {
                line(&mut out, &format!("CATEGORIES:{}", categories.join(",")));
            }
            line(&mut out, "TRANSP:TRANSPARENT");
            line(&mut out, "END:VEVENT");
        }
        for phase in &opportunity.phases {
            let phase_fields = &phase.fields;
            let Some(starts) = phase_fields.starts_on else {
                continue;
            };
            line(&mut out, "BEGIN:VEVENT");
            line(&mut out, &format!("UID:{}-phase@catalyst", phase.id));
            line(&mut out, &format!("DTSTAMP:{stamp}"));
            line(&mut out, &format!("DTSTART;VALUE=DATE:{}", day(starts)));
            // DTEND is exclusive: the day after the phase's last day.
            if let Some(after) = phase_fields
                .ends_on
                .and_then(|ends| ends.checked_add_days(Days::new(1)))
            {
                line(&mut out, &format!("DTEND;VALUE=DATE:{}", day(after)));
            }
            line(
                &mut out,
                &format!(
                    "SUMMARY:{}",
                    text(&format!(
                        "{name}, phase {} ({})",
                        phase_fields.number, phase_fields.kind
                    ))
                ),
            );
            line(
                &mut out,
                &format!(
                    "DESCRIPTION:{}",
                    text(&format!(
                        "{} seeks a solution. Phase {}: budget {}, up to {} per supplier.",
                        opportunity.owner_name(),
                        phase_fields.number,
                        phase_fields.budget,
                        phase_fields.max_award
                    ))
                ),
            );
            line(&mut out, &format!("URL:{base}/api/v1/phases/{}", phase.id));
            line(&mut out, "TRANSP:TRANSPARENT");
            line(&mut out, "END:VEVENT");
        }
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::{line, text};

    #[test]
    fn text_is_escaped_and_long_lines_folded_without_splitting_a_character() {
        assert_eq!(text("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(60));
        line(&mut out, &long);
        for folded in out.trim_end_matches("\r\n").split("\r\n") {
            assert!(folded.len() <= 75, "{folded:?} is {} octets", folded.len());
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, long);
    }
}
