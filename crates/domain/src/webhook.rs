//! Webhooks: which events exist, when a failed delivery is tried again, and which destinations
//! are refused (so that a subscription cannot make the server call into its own network).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::validation::{FieldViolation, ValidationErrors};

/// The collections whose changes are events.
pub const EVENT_ENTITIES: [&str; 12] = [
    "organisations",
    "contacts",
    "programmes",
    "challenges",
    "phases",
    "applications",
    "awards",
    "milestones",
    "trials",
    "outcomes",
    "users",
    "api_clients",
];

/// What happened, as an event names it.
pub const EVENT_ACTIONS: [&str; 3] = ["created", "updated", "deleted"];

/// The event type of a change: `awards.created`.
pub fn event_type(entity: &str, operation: &str) -> String {
    let action = match operation {
        "create" => "created",
        "delete" => "deleted",
        _ => "updated",
    };
    format!("{entity}.{action}")
}

/// Checks a subscription's event types: `*`, `awards.*` or `awards.created`; at least one.
pub fn validate_event_types(types: &[String], errors: &mut ValidationErrors) -> Vec<String> {
    if types.is_empty() {
        errors.push(FieldViolation::new(
            "event_types",
            "required",
            "name at least one event type, such as awards.created, awards.* or *",
        ));
    }
    if types.len() > 100 {
        errors.push(FieldViolation::new(
            "event_types",
            "too_many",
            "at most 100 event types",
        ));
        return Vec::new();
    }
    let mut valid = Vec::new();
    for (index, name) in types.iter().enumerate() {
        let known = name == "*"
            || name.split_once('.').is_some_and(|(entity, action)| {
                EVENT_ENTITIES.contains(&entity)
                    && (action == "*" || EVENT_ACTIONS.contains(&action))
            });
        if known {
            if !valid.contains(name) {
                valid.push(name.clone());
            }
        } else {
            errors.push(FieldViolation::new(
                &format!("event_types/{index}"),
                "unknown_event_type",
                format!(
                    "{name:?} is not an event type: use <collection>.<created|updated|deleted>, <collection>.* or *, where a collection is one of {}",
                    EVENT_ENTITIES.join(", ")
                ),
            ));
        }
    }
    valid
}

/// Whether a subscription to `subscribed` receives `event` (`awards.created`).
pub fn subscribes_to(subscribed: &[String], event: &str) -> bool {
    subscribed.iter().any(|wanted| {
        wanted == "*"
            || wanted == event
            || wanted
                .strip_suffix(".*")
                .is_some_and(|entity| event.split_once('.').is_some_and(|(e, _)| e == entity))
    })
}

/// The waits between attempts: quick at first, then spread over about three days, after which
/// the delivery is given up. Each wait gets up to 20% jitter (`jitter` in 0..1) so that many
/// deliveries failing together do not retry together.
pub fn retry_delay(attempts_made: u32, jitter: f64) -> Option<Duration> {
    const SCHEDULE: [u64; 9] = [
        5,
        5 * 60,
        30 * 60,
        2 * 3600,
        5 * 3600,
        10 * 3600,
        14 * 3600,
        20 * 3600,
        24 * 3600,
    ];
    let index = usize::try_from(attempts_made.checked_sub(1)?).ok()?;
    let base = *SCHEDULE.get(index)?;
    let spread = 1.0 + 0.2 * jitter.clamp(0.0, 1.0);
    // Whole milliseconds; the product stays far below u64::MAX for these waits.
    let millis = (base as f64 * 1000.0 * spread) as u64;
    Some(Duration::from_millis(millis))
}

/// Whether an address is one a webhook must not reach unless the operator allows it:
/// loopback, private, link-local, unique-local, carrier-grade NAT, unspecified, multicast,
/// broadcast, documentation and benchmarking ranges, and IPv4 hidden in IPv6.
pub fn is_internal_address(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || first == 0x2001 && v6.segments()[1] == 0x0db8 // documentation
                || first == 0x0064 && v6.segments()[1] == 0xff9b // NAT64 to anywhere
                || v6 == Ipv6Addr::UNSPECIFIED
        }
    }
}

fn is_internal_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_multicast()
        || v4.is_broadcast()
        || v4.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_checked_and_matched() {
        let mut errors = ValidationErrors::default();
        let types: Vec<String> = ["awards.created", "trials.*", "awards.created"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            validate_event_types(&types, &mut errors),
            ["awards.created", "trials.*"]
        );
        assert!(errors.is_empty());
        assert!(subscribes_to(&types, "trials.deleted"));
        assert!(!subscribes_to(&types, "awards.updated"));
        assert!(subscribes_to(&["*".to_owned()], "users.created"));
        for bad in ["awards", "awards.paid", "widgets.created", ""] {
            let mut errors = ValidationErrors::default();
            validate_event_types(&[bad.to_owned()], &mut errors);
            assert!(!errors.is_empty(), "{bad:?} accepted");
        }
        assert_eq!(event_type("awards", "create"), "awards.created");
        assert_eq!(event_type("awards", "delete"), "awards.deleted");
    }

    #[test]
    fn retries_spread_over_about_three_days_then_stop() {
        let total: Duration = (1..=9).filter_map(|n| retry_delay(n, 0.0)).sum();
        assert!(total > Duration::from_secs(3 * 86_400) && total < Duration::from_secs(4 * 86_400));
        assert_eq!(retry_delay(1, 0.0), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(1, 1.0), Some(Duration::from_secs(6)));
        assert_eq!(retry_delay(10, 0.5), None);
        assert_eq!(retry_delay(0, 0.5), None);
    }

    #[test]
    fn internal_destinations_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_internal_address(internal.parse().unwrap()), "{internal}");
        }
        for public in ["81.2.69.160", "2a00:1450:4009:81f::200e", "8.8.8.8"] {
            assert!(!is_internal_address(public.parse().unwrap()), "{public}");
        }
    }
}
