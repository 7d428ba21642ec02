//! Content negotiation by `Accept` (RFC 9110, section 12.5.1), for the reads that answer in
//! more than one format: the media type the caller prefers among those offered, weighing
//! q-values (`q=0` refuses a type) and preferring the most specific range that matches
//! (`text/csv` over `text/*` over `*/*`). Between equal weights the type named more precisely
//! wins, then the first offered; no `Accept` takes anything. Such answers send `Vary: Accept`, so that no cache hands one format to a caller
//! that asked for another.

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::HttpResponseBuilder;

use crate::problem::ApiError;

/// The offered media type the caller's `Accept` prefers, or 406 naming what is offered.
pub fn negotiate(headers: &HeaderMap, offered: &[&'static str]) -> Result<&'static str, ApiError> {
    let text = match headers.get(header::ACCEPT) {
        Some(value) => value.to_str().unwrap_or("?"),
        None => "",
    };
    // An empty `Accept` says no more than an absent one.
    if text.trim().is_empty() {
        return offered.first().copied().ok_or_else(|| refusal(offered));
    }
    let accept: Vec<MediaRange> = text.split(',').filter_map(MediaRange::parse).collect();
    // Each offered type takes the weight of the most specific range naming it; between equal
    // weights, the type named more precisely wins (`text/csv, */*` asks for CSV).
    let mut best: Option<(&'static str, f32, u8)> = None;
    for &media in offered {
        let Some((rank, quality)) = accept
            .iter()
            .filter_map(|range| range.specificity(media).map(|rank| (rank, range.quality)))
            .max_by_key(|(rank, _)| *rank)
        else {
            continue;
        };
        let better = best.is_none_or(|(_, best_quality, best_rank)| {
            quality > best_quality || (quality == best_quality && rank > best_rank)
        });
        if quality > 0.0 && better {
            best = Some((media, quality, rank));
        }
    }
    best.map(|(media, ..)| media)
        .ok_or_else(|| refusal(offered))
}

/// Marks an answer chosen by [`negotiate`] as depending on `Accept`.
pub fn varies_by_accept(response: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
    response.append_header((header::VARY, HeaderValue::from_static("Accept")))
}

fn refusal(offered: &[&str]) -> ApiError {
    ApiError::NotAcceptable(format!("this is offered as {}", offered.join(" or ")))
}

/// One element of `Accept`: `type/subtype` (either may be `*`) and its weight.
#[derive(Debug, Clone, PartialEq)]
struct MediaRange {
    kind: String,
    subtype: String,
    quality: f32,
}

impl MediaRange {
    /// `None` for an empty or malformed element, which is passed over.
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            return None;
        }
        let mut quality = 1.0;
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=') {
                if name.trim().eq_ignore_ascii_case("q") {
                    quality = value.trim().parse::<f32>().ok()?.clamp(0.0, 1.0);
                }
            }
        }
        Some(Self {
            kind: kind.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            quality,
        })
    }

    /// How precisely this range names `media` (higher is more precise), if it does.
    fn specificity(&self, media: &str) -> Option<u8> {
        let (kind, subtype) = media.split_once('/')?;
        match (self.kind.as_str(), self.subtype.as_str()) {
            ("*", "*") => Some(0),
            (range_kind, "*") if range_kind == kind => Some(1),
            (range_kind, range_subtype) if range_kind == kind && range_subtype == subtype => {
                Some(2)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &[&str] = &["application/json", "text/csv"];

    fn chosen(accept: Option<&str>) -> Option<&'static str> {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
        }
        negotiate(&headers, REPORT).ok()
    }

    #[test]
    fn the_callers_preference_wins_and_ties_go_to_the_first_offered() {
        assert_eq!(chosen(None), Some("application/json"));
        assert_eq!(chosen(Some(" ")), Some("application/json"));
        assert_eq!(chosen(Some("*/*")), Some("application/json"));
        assert_eq!(chosen(Some("text/csv")), Some("text/csv"));
        assert_eq!(chosen(Some("text/*")), Some("text/csv"));
        assert_eq!(chosen(Some("TEXT/CSV; charset=utf-8")), Some("text/csv"));
        assert_eq!(
            chosen(Some("application/json;q=0.5, text/csv")),
            Some("text/csv")
        );
        assert_eq!(chosen(Some("application/json;q=0, */*")), Some("text/csv"));
        assert_eq!(chosen(Some("text/csv, */*")), Some("text/csv"));
        assert_eq!(
            chosen(Some("text/csv;q=0.5, */*")),
            Some("application/json")
        );
        // A browser's: JSON and CSV only through */*, so the first offered.
        assert_eq!(
            chosen(Some(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
            )),
            Some("application/json")
        );
    }

    #[test]
    fn nothing_acceptable_is_refused() {
        assert_eq!(chosen(Some("application/xml")), None);
        assert_eq!(chosen(Some("text/csv;q=0, application/json;q=0")), None);
        assert_eq!(chosen(Some("*/*;q=0")), None);
        // Malformed elements are passed over, not taken as anything.
        assert_eq!(chosen(Some("csv, */html")), None);
        assert_eq!(chosen(Some("csv, text/csv")), Some("text/csv"));
    }
}
