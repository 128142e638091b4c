//! How an audit event looks as a table and as CSV.

use crate::access::events::EventRecord;

use super::Tabular;

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
            self.time.clone(),
            self.actor
                .email
                .clone()
                .unwrap_or_else(|| self.actor.id.clone()),
            self.event_type.clone(),
            about,
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
