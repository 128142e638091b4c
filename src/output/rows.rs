//! How each row type looks as a table and as CSV.

use crate::access::record::{GrantRecord, LabelRef, Principal};
use crate::access::views::{InviteRow, ResourceRow, WorkspaceInfo};
use crate::segment::models::{Role, User, UserGroup};

use super::Tabular;

fn labels(ls: &[LabelRef]) -> String {
    ls.iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl Tabular for GrantRecord {
    fn headers() -> Vec<&'static str> {
        vec!["PRINCIPAL", "ROLE", "RESOURCE", "LABELS", "VIA"]
    }

    fn cells(&self) -> Vec<String> {
        vec![
            self.principal.display(),
            match &self.role {
                Some(r) => r.name.clone(),
                None => "(member)".to_string(),
            },
            self.resource.display(),
            labels(&self.labels),
            match &self.via {
                Some(v) => format!("group:{}", v.name),
                None => "direct".to_string(),
            },
        ]
    }

    fn csv_headers() -> Vec<&'static str> {
        vec![
            "principal_type",
            "principal_id",
            "principal_email",
            "principal_name",
            "role_id",
            "role_name",
            "resource_type",
            "resource_id",
            "resource_name",
            "labels",
            "via_type",
            "via_id",
            "via_name",
        ]
    }

    fn csv_row(&self) -> Vec<String> {
        let (pid, pemail, pname) = match &self.principal {
            Principal::User { id, email, name } => (id.clone(), email.clone(), name.clone()),
            Principal::Invite { email } => (String::new(), email.clone(), String::new()),
            Principal::Group { id, name } => (id.clone(), String::new(), name.clone()),
        };
        let (rid, rname) = match &self.role {
            Some(r) => (r.id.clone(), r.name.clone()),
            None => (String::new(), String::new()),
        };
        let (vt, vid, vname) = match &self.via {
            Some(v) => ("group".to_string(), v.id.clone(), v.name.clone()),
            None => (String::new(), String::new(), String::new()),
        };
        vec![
            self.principal.kind().to_string(),
            pid,
            pemail,
            pname,
            rid,
            rname,
            self.resource.kind.as_str().to_string(),
            self.resource.id.clone(),
            self.resource.name.clone().unwrap_or_default(),
            labels(&self.labels),
            vt,
            vid,
            vname,
        ]
    }
}

impl Tabular for crate::segment::models::Label {
    fn headers() -> Vec<&'static str> {
        vec!["KEY", "VALUE", "DESCRIPTION"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.key.clone(),
            self.value.clone(),
            self.description.clone().unwrap_or_default(),
        ]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec!["key", "value", "description"]
    }
}

impl Tabular for User {
    fn headers() -> Vec<&'static str> {
        vec!["ID", "NAME", "EMAIL"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.id.clone(), self.name.clone(), self.email.clone()]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec!["id", "name", "email"]
    }
}

impl Tabular for UserGroup {
    fn headers() -> Vec<&'static str> {
        vec!["ID", "NAME", "MEMBERS", "ROLES"]
    }
    fn cells(&self) -> Vec<String> {
        let mut roles: Vec<String> = self
            .permissions
            .iter()
            .flatten()
            .map(|p| p.role_name.clone())
            .collect();
        roles.sort();
        roles.dedup();
        vec![
            self.id.clone(),
            self.name.clone(),
            format!("{}", self.member_count),
            roles.join(", "),
        ]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec!["id", "name", "member_count", "roles"]
    }
}

impl Tabular for Role {
    fn headers() -> Vec<&'static str> {
        vec!["ID", "NAME", "DESCRIPTION"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.id.clone(), self.name.clone(), self.description.clone()]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec!["id", "name", "description"]
    }
}

impl Tabular for ResourceRow {
    fn headers() -> Vec<&'static str> {
        vec!["TYPE", "ID", "NAME", "SLUG", "LABELS"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.kind.as_str().to_string(),
            self.id.clone(),
            self.name.clone(),
            self.slug.clone().unwrap_or_default(),
            labels(&self.labels),
        ]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec!["type", "id", "name", "slug", "labels"]
    }
}

impl Tabular for WorkspaceInfo {
    fn headers() -> Vec<&'static str> {
        vec!["ID", "NAME", "SLUG", "API URL"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.name.clone(),
            self.slug.clone(),
            self.api_url.clone(),
        ]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec!["id", "name", "slug", "api_url"]
    }
}

impl Tabular for InviteRow {
    fn headers() -> Vec<&'static str> {
        vec!["EMAIL"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.email.clone()]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec!["email"]
    }
}

impl Tabular for Principal {
    fn headers() -> Vec<&'static str> {
        vec!["TYPE", "ID", "EMAIL", "NAME"]
    }
    fn cells(&self) -> Vec<String> {
        match self {
            Principal::User { id, email, name } => {
                vec!["user".into(), id.clone(), email.clone(), name.clone()]
            }
            Principal::Invite { email } => {
                vec!["invite".into(), String::new(), email.clone(), String::new()]
            }
            Principal::Group { id, name } => {
                vec!["group".into(), id.clone(), String::new(), name.clone()]
            }
        }
    }
    fn csv_headers() -> Vec<&'static str> {
        vec!["type", "id", "email", "name"]
    }
}

impl Tabular for crate::access::plan::ChangeResult {
    fn headers() -> Vec<&'static str> {
        vec![
            "PRINCIPAL",
            "ACTION",
            "ROLE",
            "RESOURCE",
            "LABELS",
            "STATUS",
            "MESSAGE",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.principal.clone(),
            self.action.clone(),
            self.role.clone().unwrap_or_default(),
            self.resource.clone().unwrap_or_default(),
            labels(&self.labels),
            self.status.as_str().to_string(),
            self.message.clone(),
        ]
    }
    fn csv_headers() -> Vec<&'static str> {
        vec![
            "principal",
            "action",
            "role",
            "resource",
            "labels",
            "status",
            "message",
            "line",
        ]
    }
    fn csv_row(&self) -> Vec<String> {
        let mut v = self.cells();
        v.push(self.line.map(|l| l.to_string()).unwrap_or_default());
        v
    }
}
