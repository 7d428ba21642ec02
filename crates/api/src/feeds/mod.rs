//! The opportunity feeds' renderings: the challenges open for applications as an Atom feed
//! (RFC 4287) and their deadlines and phase dates as an iCalendar feed (RFC 5545). The http
//! crate's `read_models/feeds/` finds the challenges, filters them and serves the feeds.

pub mod atom;
pub mod icalendar;

use std::fmt::Write as _;

use catalyst_domain::{Challenge, Organisation, Phase, Timestamp};

/// A challenge open for applications, with what a subscriber needs beside it.
pub struct Opportunity {
    pub challenge: Challenge,
    pub owner: Option<Organisation>,
    pub phases: Vec<Phase>,
}

impl Opportunity {
    /// When it was published: its opening, or when it was recorded.
    pub fn published(&self) -> Timestamp {
        self.challenge
            .fields
            .opens_at
            .unwrap_or(self.challenge.created_at)
    }

    /// When it, its phases or its owner last changed.
    pub fn updated(&self) -> Timestamp {
        let mut latest = self.challenge.updated_at;
        for phase in &self.phases {
            latest = latest.max(phase.updated_at);
        }
        if let Some(owner) = &self.owner {
            latest = latest.max(owner.updated_at);
        }
        latest
    }

    pub fn owner_name(&self) -> &str {
        self.owner
            .as_ref()
            .map_or("a public body", |owner| owner.fields.name.as_str())
    }

    /// What an entry (Atom) or event (iCalendar) says in full: the problem, the phases with their money, the deadline.
    pub fn description(&self) -> String {
        let fields = &self.challenge.fields;
        let mut text = format!(
            "{} seeks a solution.\n\n{}\n",
            self.owner_name(),
            fields.problem_statement
        );
        if !self.phases.is_empty() {
            text.push_str("\nPhases:\n");
        }
        for phase in &self.phases {
            let phase_fields = &phase.fields;
            let _ = write!(
                text,
                "- Phase {} ({}): budget {}, up to {} per supplier",
                phase_fields.number, phase_fields.kind, phase_fields.budget, phase_fields.max_award
            );
            match (phase_fields.starts_on, phase_fields.ends_on) {
                (Some(starts), Some(ends)) => {
                    let _ = write!(text, ", {starts} to {ends}");
                }
                (Some(starts), None) => {
                    let _ = write!(text, ", from {starts}");
                }
                _ => {}
            }
            text.push('\n');
        }
        match fields.closes_at {
            Some(closes) => {
                let _ = write!(
                    text,
                    "\nApplications close at {}.",
                    closes.as_datetime().format("%Y-%m-%d %H:%M UTC")
                );
            }
            None => text.push_str("\nApplications are open until further notice."),
        }
        text
    }
}
