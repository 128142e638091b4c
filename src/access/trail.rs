//! Noticing changes made by someone else between this tool's read of a principal and its write.
//! Segment has no conditional write: a replace (`PUT`) overwrites whatever changed since the
//! read it was computed from. The audit trail (Business tier) records every change, so the
//! events about a principal from just before the read to just after the write say whether
//! anything other than our own write happened in between. Where the trail cannot be read (other
//! tiers, a Workspace Member token), only what the read-back shows is noticed.

use crate::segment::Client;
use crate::segment::models::AuditEvent;

use super::record::Principal;

/// Events read at once: more than this between a read and a write counts as a change.
const WINDOW: u32 = 50;

/// The audit trail of one principal, as it stood before a read.
pub(crate) struct Watch {
    resource_id: String,
    /// The newest event before the read; `None` when there was none.
    newest: Option<String>,
    /// Whether the trail could be read at all.
    available: bool,
}

fn resource_id(p: &Principal) -> Option<&str> {
    match p {
        Principal::User { id, .. } | Principal::Group { id, .. } => Some(id),
        Principal::Invite { .. } => None,
    }
}

/// Marks where the trail stands before a read of `p`.
pub(crate) async fn watch(client: &Client, p: &Principal) -> Watch {
    let id = resource_id(p).unwrap_or_default().to_string();
    match client.recent_audit_events(&id, 1).await {
        Ok(events) => Watch {
            newest: events.first().map(|e| e.id.clone()),
            resource_id: id,
            available: true,
        },
        Err(e) => {
            tracing::debug!(error = %e, "audit trail unavailable; concurrent changes are noticed only by reading back");
            Watch {
                resource_id: id,
                newest: None,
                available: false,
            }
        }
    }
}

/// The events about the principal since the watch began, when there are more of them than the
/// `ours` writes this tool made: then someone else changed it too.
pub(crate) async fn others(client: &Client, w: &Watch, ours: usize) -> Option<Vec<AuditEvent>> {
    if !w.available {
        return None;
    }
    let events = client
        .recent_audit_events(&w.resource_id, WINDOW)
        .await
        .ok()?;
    let since: Vec<AuditEvent> = match &w.newest {
        Some(mark) => events.into_iter().take_while(|e| &e.id != mark).collect(),
        None => events,
    };
    (since.len() > ours).then_some(since)
}

/// The events, for people: type, who, when.
pub(crate) fn describe(events: &[AuditEvent]) -> String {
    events
        .iter()
        .rev()
        .map(|e| format!("{} by {} at {}", e.event_type, e.actor, e.timestamp))
        .collect::<Vec<_>>()
        .join("; ")
}
