//! How an audit event looks as a table and as CSV.

use crate::access::events::EventRecord;

use super::Tabular;
use super::table::{self, Give};

impl Tabular for EventRecord {
    fn headers() -> Vec<&'static str> {
        vec!["TIME", "ACTOR", "TYPE", "ABOUT"]
    }

    fn cells(&self) -> Vec<String> {
        let about = match &self.principal {
            Some(p) => p.display(),
            None => format!("{}:{}", self.resource.kind, self.resource.name),
        };
        vec![
            minutes(&self.time),
            self.actor
                .email
                .clone()
                .unwrap_or_else(|| self.actor.id.clone()),
            self.event_type.clone(),
            about,
        ]
    }

    /// The time is never cut (it is short already), nor what the event is about; who and what
    /// kind of change give way alike.
    fn give() -> Vec<Give> {
        vec![
            table::CUT_LAST,
            table::CUT_NAMES,
            table::CUT_NAMES,
            table::CUT_LAST,
        ]
    }

    fn csv_headers() -> Vec<&'static str> {
        vec![
            "id",
            "time",
            "type",
            "actor_id",
            "actor_email",
            "resource_type",
            "resource_id",
            "resource_name",
            "principal_type",
        ]
    }

    fn csv_row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.time.clone(),
            self.event_type.clone(),
            self.actor.id.clone(),
            self.actor.email.clone().unwrap_or_default(),
            self.resource.kind.clone(),
            self.resource.id.clone(),
            self.resource.name.clone(),
            self.principal
                .as_ref()
                .map(|p| p.kind().to_string())
                .unwrap_or_default(),
        ]
    }
}

/// `2026-11-22T00:20:15.515Z` as a person reads it in a table: `2026-11-22 00:20` (UTC, like
/// every time Segment sends). Anything else is shown as sent; CSV and JSON keep it whole.
fn minutes(rfc3339: &str) -> String {
    let b = rfc3339.as_bytes();
    let shaped = b.len() >= 17
        && b[10] == b'T'
        && b[13] == b':'
        && rfc3339.ends_with('Z')
        && rfc3339.is_char_boundary(16);
    if shaped {
        format!("{} {}", &rfc3339[..10], &rfc3339[11..16])
    } else {
        rfc3339.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_to_the_minute_and_odd_ones_whole() {
        assert_eq!(
            super::minutes("2026-11-22T00:20:15.515Z"),
            "2026-11-22 00:20"
        );
        assert_eq!(super::minutes("2026-11-22T00:20:15Z"), "2026-11-22 00:20");
        assert_eq!(
            super::minutes("2026-11-22T00:20:15+01:00"),
            "2026-11-22T00:20:15+01:00"
        );
        assert_eq!(super::minutes("yesterday"), "yesterday");
    }
}
