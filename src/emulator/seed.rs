//! Seed workspaces. Every seed, built-in or from a file, goes through the same loader
//! ([`from_file_contents`]), which checks every permission with the same rules as the API, so a
//! seed can never hold a binding Segment would refuse.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::state::{
    FunctionRec, GroupRec, InviteRec, Perm, SourceRec, SpaceRec, State, UserRec, WarehouseRec,
    valid_email,
};
use super::{EmulatorError, Seed, ids, time};
use crate::segment::models::{Label, PermissionResource, ResourceType, Workspace};

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct SeedFile {
    pub workspace: Option<SeedWorkspace>,
    pub labels: Vec<Label>,
    pub sources: Vec<SeedSource>,
    pub warehouses: Vec<SeedWarehouse>,
    pub functions: Vec<SeedFunction>,
    pub spaces: Vec<SeedSpace>,
    pub users: Vec<SeedUser>,
    pub invites: Vec<SeedInvite>,
    pub groups: Vec<SeedGroup>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct SeedWorkspace {
    pub id: Option<String>,
    pub name: Option<String>,
    pub slug: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SeedSource {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Catalogue slug of the kind of source (`javascript`, `ios`, ...).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SeedWarehouse {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SeedFunction {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default = "source_type")]
    pub resource_type: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SeedSpace {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SeedUser {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub permissions: Vec<SeedPermission>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SeedInvite {
    pub email: String,
    #[serde(default)]
    pub permissions: Vec<SeedPermission>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SeedGroup {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// User ids or emails. An email that is not a user makes that person an invite member.
    #[serde(default, alias = "memberIds")]
    pub members: Vec<String>,
    /// Emails of pending invites (created if missing).
    #[serde(default, alias = "inviteEmails")]
    pub invites: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<SeedPermission>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SeedPermission {
    #[serde(default)]
    pub role_id: Option<String>,
    /// A role name (`Source Admin`) or id.
    #[serde(default, alias = "roleName")]
    pub role: Option<String>,
    /// Defaults to the workspace.
    #[serde(default)]
    pub resources: Vec<SeedResource>,
    /// Narrows the WORKSPACE resources, unless a resource lists its own labels.
    #[serde(default)]
    pub labels: Vec<Label>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SeedResource {
    /// WORKSPACE, SOURCE, WAREHOUSE, FUNCTION or SPACE (any case).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub id: Option<String>,
    /// Instead of `id`: the name (or slug) of the source, warehouse, function or space.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub labels: Option<Vec<Label>>,
}

fn yes() -> bool {
    true
}

fn source_type() -> String {
    "SOURCE".to_string()
}

fn slugify(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

fn bad(msg: impl Into<String>) -> EmulatorError {
    EmulatorError::Seed(msg.into())
}

/// Builds the initial state for a seed.
pub(super) fn build(seed: &Seed, rng_seed: u64) -> Result<State, EmulatorError> {
    // Built-in seeds come with a history in the audit trail, as a real workspace would.
    let with_history = |st: Result<State, EmulatorError>, n: usize, seed: u64| {
        st.map(|mut st| {
            super::audit::seed_history(&mut st, n, seed);
            st
        })
    };
    match seed {
        Seed::Small => with_history(load(small(), 0x5EED_0001, rng_seed), 24, 1),
        Seed::Large => with_history(load(large(2_000), 0x5EED_0002, rng_seed), 800, 2),
        Seed::Users(n) => with_history(
            load(large(*n), 0x5EED_0003 ^ (*n as u64), rng_seed),
            (*n / 3).clamp(10, 5_000),
            3,
        ),
        Seed::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
            let file: SeedFile = serde_json::from_str(&text)
                .map_err(|e| bad(format!("{} is not a seed document: {e}", path.display())))?;
            from_file_contents(file, rng_seed)
        }
    }
}

pub(super) fn from_file_contents(file: SeedFile, rng_seed: u64) -> Result<State, EmulatorError> {
    load(file, 0x5EED_F11E, rng_seed)
}

fn load(file: SeedFile, id_seed: u64, rng_seed: u64) -> Result<State, EmulatorError> {
    let mut rng = StdRng::seed_from_u64(id_seed);
    let ws = file.workspace.unwrap_or_default();
    let name = ws.name.unwrap_or_else(|| "Emulated Workspace".to_string());
    let workspace = Workspace {
        id: ws.id.unwrap_or_else(|| ids::object_id(&mut rng)),
        slug: ws.slug.unwrap_or_else(|| slugify(&name)),
        name,
    };
    let mut st = State::new(workspace, rng_seed);
    st.labels = file.labels;
    // Seeded objects were created "a while ago": a fixed date keeps seeds reproducible.
    let created = time::format_rfc3339(1_704_067_200_000);

    for s in file.sources {
        let id = s.id.unwrap_or_else(|| ids::object_id(&mut rng));
        let write_key = ids::base62(&mut rng, 32);
        st.sources.push(SourceRec {
            id,
            slug: s.slug.unwrap_or_else(|| slugify(&s.name)),
            name: s.name,
            enabled: s.enabled,
            labels: s.labels,
            kind: s.kind.unwrap_or_else(|| "javascript".to_string()),
            write_key,
        });
    }
    for w in file.warehouses {
        st.warehouses.push(WarehouseRec {
            id: w.id.unwrap_or_else(|| ids::object_id(&mut rng)),
            name: w.name,
            kind: w.kind.unwrap_or_else(|| "snowflake".to_string()),
            enabled: w.enabled,
        });
    }
    for f in file.functions {
        let t = f.resource_type.to_ascii_uppercase();
        if !matches!(
            t.as_str(),
            "SOURCE" | "DESTINATION" | "INSERT_SOURCE" | "INSERT_DESTINATION"
        ) {
            return Err(bad(format!(
                "function {:?}: unknown resourceType {t:?}",
                f.name
            )));
        }
        st.functions.push(FunctionRec {
            id: f.id.unwrap_or_else(|| ids::object_id(&mut rng)),
            description: f
                .description
                .unwrap_or_else(|| format!("{} function", f.name)),
            name: f.name,
            resource_type: t,
            created_at: created.clone(),
            created_by: "seed".to_string(),
        });
    }
    for s in file.spaces {
        st.spaces.push(SpaceRec {
            id: s.id.unwrap_or_else(|| ids::object_id(&mut rng)),
            slug: s.slug.unwrap_or_else(|| slugify(&s.name)),
            name: s.name,
        });
    }

    let mut seen_emails: HashMap<String, ()> = HashMap::new();
    let mut pending_users = Vec::with_capacity(file.users.len());
    for u in file.users {
        if !valid_email(&u.email) {
            return Err(bad(format!(
                "user {:?}: invalid email {:?}",
                u.name, u.email
            )));
        }
        if seen_emails
            .insert(u.email.to_ascii_lowercase(), ())
            .is_some()
        {
            return Err(bad(format!("duplicate user email {:?}", u.email)));
        }
        let id = u.id.unwrap_or_else(|| ids::object_id(&mut rng));
        if st.user_idx(&id).is_some() {
            return Err(bad(format!("duplicate user id {id:?}")));
        }
        st.push_user(UserRec {
            id,
            name: u.name,
            email: u.email,
            permissions: Vec::new(),
        });
        pending_users.push(u.permissions);
    }
    let names = Names::new(&st);
    for (i, perms) in pending_users.into_iter().enumerate() {
        let p = resolve_perms(&st, &names, perms, &format!("user {}", st.users[i].email))?;
        st.users[i].permissions = p;
    }
    for inv in file.invites {
        if !valid_email(&inv.email) {
            return Err(bad(format!("invalid invite email {:?}", inv.email)));
        }
        if st.user_by_email(&inv.email).is_some() || st.invite_idx(&inv.email).is_some() {
            return Err(bad(format!(
                "invite {:?} is already a user or invite",
                inv.email
            )));
        }
        let permissions = resolve_perms(
            &st,
            &names,
            inv.permissions,
            &format!("invite {}", inv.email),
        )?;
        st.invites.push(InviteRec {
            email: inv.email,
            permissions,
        });
    }
    for g in file.groups {
        let id = g.id.unwrap_or_else(|| ids::object_id(&mut rng));
        let permissions = resolve_perms(&st, &names, g.permissions, &format!("group {}", g.name))?;
        let mut group = GroupRec {
            id,
            name: g.name,
            members: Vec::new(),
            invites: Vec::new(),
            permissions,
        };
        for m in g.members.iter().chain(g.invites.iter()) {
            if let Some(ui) = st.user_idx(m).or_else(|| st.user_by_email(m)) {
                let uid = st.users[ui].id.clone();
                if !group.members.contains(&uid) {
                    group.members.push(uid);
                }
            } else if valid_email(m) {
                if st.invite_idx(m).is_none() {
                    st.invites.push(InviteRec {
                        email: m.clone(),
                        permissions: Vec::new(),
                    });
                }
                if !group.invites.iter().any(|x| x.eq_ignore_ascii_case(m)) {
                    group.invites.push(m.clone());
                }
            } else {
                return Err(bad(format!(
                    "group {:?}: member {m:?} is neither a user id nor an email",
                    group.name
                )));
            }
        }
        st.groups.push(group);
    }
    Ok(st)
}

/// Name and slug lookups for resource references in seeds.
struct Names {
    by_type: HashMap<(ResourceType, String), String>,
}

impl Names {
    fn new(st: &State) -> Self {
        let mut by_type = HashMap::new();
        for s in &st.sources {
            by_type.insert((ResourceType::Source, s.name.clone()), s.id.clone());
            by_type.insert((ResourceType::Source, s.slug.clone()), s.id.clone());
        }
        for w in &st.warehouses {
            by_type.insert((ResourceType::Warehouse, w.name.clone()), w.id.clone());
        }
        for f in &st.functions {
            by_type.insert((ResourceType::Function, f.name.clone()), f.id.clone());
        }
        for s in &st.spaces {
            by_type.insert((ResourceType::Space, s.name.clone()), s.id.clone());
            by_type.insert((ResourceType::Space, s.slug.clone()), s.id.clone());
        }
        Names { by_type }
    }
}

fn resolve_perms(
    st: &State,
    names: &Names,
    perms: Vec<SeedPermission>,
    who: &str,
) -> Result<Vec<Perm>, EmulatorError> {
    let mut out: Vec<Perm> = Vec::new();
    for (i, p) in perms.into_iter().enumerate() {
        let role_id = super::state::role_id_for(st, p.role_id.as_deref(), p.role.as_deref())
            .ok_or_else(|| {
                bad(format!(
                    "{who}: permission {i}: unknown role {:?}",
                    p.role_id.or(p.role).unwrap_or_default()
                ))
            })?;
        let own_labels = p.resources.iter().any(|r| r.labels.is_some());
        let mut resources = Vec::new();
        let seed_resources = if p.resources.is_empty() {
            vec![SeedResource {
                kind: "WORKSPACE".into(),
                id: None,
                name: None,
                labels: None,
            }]
        } else {
            p.resources
        };
        for r in seed_resources {
            let t = ResourceType::from_api_str(&r.kind.to_ascii_uppercase())
                .ok_or_else(|| bad(format!("{who}: unknown resource type {:?}", r.kind)))?;
            let id = match (t, r.id, r.name) {
                (_, Some(id), _) => id,
                (ResourceType::Workspace, None, _) => st.workspace.id.clone(),
                (_, None, Some(n)) => names
                    .by_type
                    .get(&(t, n.clone()))
                    .cloned()
                    .ok_or_else(|| bad(format!("{who}: no {} named {n:?}", t.as_api_str())))?,
                (_, None, None) => {
                    return Err(bad(format!("{who}: a resource needs an id or a name")));
                }
            };
            let labels = match r.labels {
                Some(l) => Some(l),
                None if !own_labels && t == ResourceType::Workspace && !p.labels.is_empty() => {
                    Some(p.labels.clone())
                }
                None => None,
            };
            resources.push(PermissionResource {
                id,
                resource_type: t,
                labels,
            });
        }
        let checked = st
            .check_perm(Perm { role_id, resources }, &format!("permissions.{i}"))
            .map_err(|e| {
                bad(format!(
                    "{who}: {} ({})",
                    e.message,
                    e.field.unwrap_or_default()
                ))
            })?;
        super::state::merge_perms(&mut out, vec![checked]);
    }
    Ok(out)
}

/// About a dozen people at a small company; every built-in role is bound somewhere.
pub(super) fn small() -> SeedFile {
    let ws = |role: &str| json!({"role": role});
    let on = |role: &str, t: &str, names: &[&str]| json!({"role": role, "resources": names.iter().map(|n| json!({"type": t, "name": n})).collect::<Vec<_>>()});
    let doc = json!({
        "workspace": {"name": "Acme Analytics", "slug": "acme-analytics"},
        "labels": [
            {"key": "environment", "value": "prod", "description": "Production data"},
            {"key": "environment", "value": "dev", "description": "Development and testing"},
            {"key": "environment", "value": "staging"},
            {"key": "team", "value": "growth", "description": "Owned by the growth team"}
        ],
        "sources": [
            {"name": "Website Prod", "slug": "website-prod", "type": "javascript",
             "labels": [{"key": "environment", "value": "prod"}]},
            {"name": "Website Dev", "slug": "website-dev", "type": "javascript",
             "labels": [{"key": "environment", "value": "dev"}]},
            {"name": "iOS App", "slug": "ios-app", "type": "ios",
             "labels": [{"key": "environment", "value": "prod"}]},
            {"name": "Android App", "slug": "android-app", "type": "android",
             "labels": [{"key": "environment", "value": "prod"}]},
            {"name": "Backend Node", "slug": "backend-node", "type": "node",
             "labels": [{"key": "environment", "value": "prod"}, {"key": "team", "value": "growth"}]},
            {"name": "Salesforce Sandbox", "slug": "salesforce-sandbox", "type": "salesforce",
             "enabled": false, "labels": [{"key": "environment", "value": "staging"}]}
        ],
        "warehouses": [
            {"name": "Analytics Snowflake", "type": "snowflake"},
            {"name": "Marketing BigQuery", "type": "bigquery"}
        ],
        "functions": [
            {"name": "Enrich Leads", "resourceType": "SOURCE", "description": "Adds Clearbit data to leads"},
            {"name": "Zendesk Webhook", "resourceType": "SOURCE"},
            {"name": "Slack Alerts", "resourceType": "DESTINATION", "description": "Posts signups to #growth"}
        ],
        "spaces": [
            {"name": "Production Space", "slug": "production"},
            {"name": "Sandbox Space", "slug": "sandbox"}
        ],
        "users": [
            {"name": "Ada Lovelace", "email": "ada.lovelace@acme.example", "permissions": [ws("Workspace Owner")]},
            {"name": "Grace Hopper", "email": "grace.hopper@acme.example", "permissions": [ws("Workspace Owner")]},
            {"name": "Alan Turing", "email": "alan.turing@acme.example",
             "permissions": [on("Source Admin", "SOURCE", &["Website Prod", "iOS App", "Backend Node"])]},
            {"name": "Katherine Johnson", "email": "katherine.johnson@acme.example",
             "permissions": [{"role": "Source Read-only", "labels": [{"key": "environment", "value": "prod"}]}]},
            {"name": "Linus Torvalds", "email": "linus.torvalds@acme.example",
             "permissions": [on("Warehouse Admin", "WAREHOUSE", &["Analytics Snowflake"])]},
            {"name": "Margaret Hamilton", "email": "margaret.hamilton@acme.example",
             "permissions": [on("Functions Admin", "FUNCTION", &["Enrich Leads"])]},
            {"name": "Barbara Liskov", "email": "barbara.liskov@acme.example",
             "permissions": [ws("Tracking Plan Admin")]},
            {"name": "Donald Knuth", "email": "donald.knuth@acme.example",
             "permissions": [ws("Tracking Plan Read-only"), ws("Minimal Workspace Access")]},
            {"name": "Radia Perlman", "email": "radia.perlman@acme.example",
             "permissions": [on("Engage Admin", "SPACE", &["Production Space"])]},
            {"name": "Frances Allen", "email": "frances.allen@acme.example",
             "permissions": [on("Engage User", "SPACE", &["Sandbox Space"]),
                             on("Engage Read-only", "SPACE", &["Production Space"])]},
            {"name": "Ken Thompson", "email": "ken.thompson@acme.example",
             "permissions": [ws("Identity Admin")]},
            {"name": "Dennis Ritchie", "email": "dennis.ritchie@acme.example",
             "permissions": [ws("Minimal Workspace Access")]},
            {"name": "Hedy Lamarr", "email": "hedy.lamarr@acme.example",
             "permissions": [ws("Functions Read-only"),
                             on("Warehouse Read-only", "WAREHOUSE", &["Marketing BigQuery"])]}
        ],
        "invites": [
            {"email": "new.analyst@acme.example", "permissions": [ws("Source Read-only")]},
            {"email": "contractor@agency.example",
             "permissions": [on("Source Admin", "SOURCE", &["Website Dev"])]},
            {"email": "intern@acme.example"}
        ],
        "groups": [
            {"name": "Data Engineering",
             "members": ["linus.torvalds@acme.example", "alan.turing@acme.example", "hedy.lamarr@acme.example"],
             "permissions": [ws("Warehouse Admin"), ws("Source Read-only")]},
            {"name": "Marketing Analysts",
             "members": ["katherine.johnson@acme.example", "frances.allen@acme.example", "barbara.liskov@acme.example"],
             "invites": ["new.analyst@acme.example"],
             "permissions": [
                {"role": "Source Read-only", "labels": [{"key": "environment", "value": "prod"}]},
                on("Engage Read-only", "SPACE", &["Production Space", "Sandbox Space"])]},
            {"name": "Mobile Team",
             "members": ["alan.turing@acme.example", "dennis.ritchie@acme.example"],
             "permissions": [on("Source Admin", "SOURCE", &["iOS App", "Android App"])]},
            {"name": "Security",
             "members": ["ken.thompson@acme.example", "grace.hopper@acme.example"],
             "permissions": [ws("Minimal Workspace Access"),
                             {"role": "Warehouse Read-only"}]}
        ]
    });
    // The document above is a constant; a failure here is a bug in this file, caught by tests.
    serde_json::from_value(doc).unwrap_or_default()
}

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Priya",
    "Wei",
    "Aisha",
    "Mateo",
    "Yuki",
    "Olga",
    "Kwame",
    "Fatima",
    "Lucas",
    "Sofia",
    "Hiroshi",
    "Amara",
    "Diego",
    "Ingrid",
    "Ravi",
    "Chloe",
    "Omar",
    "Lena",
    "Tariq",
    "Mei",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Patel",
    "Chen",
    "Okafor",
    "Nakamura",
    "Ivanova",
    "Mensah",
    "Haddad",
    "Silva",
    "Kowalski",
    "Nguyen",
    "Schmidt",
    "Rossi",
    "Kim",
    "Singh",
    "Dubois",
    "Larsen",
    "Cohen",
    "Murphy",
    "Yilmaz",
    "Novak",
];
const SOURCE_KINDS: &[&str] = &[
    "javascript",
    "ios",
    "android",
    "node",
    "python",
    "http-api",
    "salesforce",
    "stripe",
    "zendesk",
    "hubspot",
];
const TEAMS: &[&str] = &[
    "Growth",
    "Payments",
    "Mobile",
    "Platform",
    "Data",
    "Marketing",
    "Support",
    "Search",
    "Checkout",
    "Identity",
];

/// A big workspace, generated deterministically: `users` people, 60 groups of 10-300 members,
/// 200 sources, 20 warehouses, 40 functions, 5 spaces.
pub(super) fn large(users: usize) -> SeedFile {
    let mut rng = StdRng::seed_from_u64(0x1A26E ^ users as u64);
    let envs = ["prod", "dev", "staging"];
    let mut f = SeedFile {
        workspace: Some(SeedWorkspace {
            id: None,
            name: Some("Globex Corporation".into()),
            slug: Some("globex".into()),
        }),
        labels: envs
            .iter()
            .map(|e| Label {
                key: "environment".into(),
                value: (*e).into(),
                description: None,
            })
            .chain(TEAMS.iter().map(|t| Label {
                key: "team".into(),
                value: t.to_lowercase(),
                description: None,
            }))
            .collect(),
        ..SeedFile::default()
    };
    for i in 0..200 {
        let kind = SOURCE_KINDS[i % SOURCE_KINDS.len()];
        let team = TEAMS[(i / 3) % TEAMS.len()];
        let env = envs[i % envs.len()];
        f.sources.push(SeedSource {
            id: None,
            name: format!("{team} {kind} {env} {i:03}"),
            slug: None,
            enabled: rng.random_bool(0.9),
            labels: vec![
                Label {
                    key: "environment".into(),
                    value: env.into(),
                    description: None,
                },
                Label {
                    key: "team".into(),
                    value: team.to_lowercase(),
                    description: None,
                },
            ],
            kind: Some(kind.into()),
        });
    }
    let wh_kinds = [
        "snowflake",
        "bigquery",
        "redshift",
        "postgres",
        "databricks",
    ];
    for i in 0..20 {
        f.warehouses.push(SeedWarehouse {
            id: None,
            name: format!("{} {} {i:02}", TEAMS[i % TEAMS.len()], wh_kinds[i % 5]),
            kind: Some(wh_kinds[i % 5].into()),
            enabled: true,
        });
    }
    for i in 0..40 {
        f.functions.push(SeedFunction {
            id: None,
            name: format!("{} function {i:02}", TEAMS[i % TEAMS.len()]),
            resource_type: if i % 3 == 0 { "DESTINATION" } else { "SOURCE" }.into(),
            description: None,
        });
    }
    for (i, n) in ["Production", "Staging", "EU", "APAC", "Sandbox"]
        .iter()
        .enumerate()
    {
        f.spaces.push(SeedSpace {
            id: None,
            name: format!("{n} Space"),
            slug: Some(format!("{}-{i}", n.to_lowercase())),
        });
    }
    let res = |t: &str, name: &str| SeedResource {
        kind: t.into(),
        id: None,
        name: Some(name.to_string()),
        labels: None,
    };
    let role = |r: &str, resources: Vec<SeedResource>, labels: Vec<Label>| SeedPermission {
        role_id: None,
        role: Some(r.into()),
        resources,
        labels,
    };
    let env_label = |e: &str| Label {
        key: "environment".into(),
        value: e.into(),
        description: None,
    };
    let source_names: Vec<String> = f.sources.iter().map(|s| s.name.clone()).collect();
    let wh_names: Vec<String> = f.warehouses.iter().map(|s| s.name.clone()).collect();
    let fn_names: Vec<String> = f.functions.iter().map(|s| s.name.clone()).collect();
    let space_names: Vec<String> = f.spaces.iter().map(|s| s.name.clone()).collect();
    let mut emails = Vec::with_capacity(users);
    for i in 0..users {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len() + i * 7) % LAST.len()];
        let email = format!(
            "{}.{}{}@globex.example",
            first.to_lowercase(),
            last.to_lowercase(),
            i
        );
        let mut perms = Vec::new();
        let roll: f64 = rng.random();
        if roll < 0.02 {
            perms.push(role("Workspace Owner", vec![], vec![]));
        } else {
            perms.push(role("Minimal Workspace Access", vec![], vec![]));
            if rng.random_bool(0.35) {
                let k = rng.random_range(1..=5);
                let picks: Vec<SeedResource> = source_names
                    .choose_multiple(&mut rng, k)
                    .map(|n| res("SOURCE", n))
                    .collect();
                let r = if rng.random_bool(0.5) {
                    "Source Admin"
                } else {
                    "Source Read-only"
                };
                perms.push(role(r, picks, vec![]));
            }
            if rng.random_bool(0.15) {
                let e = *envs.choose(&mut rng).unwrap_or(&"prod");
                perms.push(role("Source Read-only", vec![], vec![env_label(e)]));
            }
            if rng.random_bool(0.1) {
                let w = wh_names.choose(&mut rng).cloned().unwrap_or_default();
                perms.push(role(
                    "Warehouse Read-only",
                    vec![res("WAREHOUSE", &w)],
                    vec![],
                ));
            }
            if rng.random_bool(0.05) {
                let w = fn_names.choose(&mut rng).cloned().unwrap_or_default();
                perms.push(role("Functions Admin", vec![res("FUNCTION", &w)], vec![]));
            }
            if rng.random_bool(0.1) {
                let s = space_names.choose(&mut rng).cloned().unwrap_or_default();
                let r = ["Engage Admin", "Engage User", "Engage Read-only"]
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("Engage Read-only");
                perms.push(role(r, vec![res("SPACE", &s)], vec![]));
            }
            if rng.random_bool(0.05) {
                perms.push(role("Tracking Plan Read-only", vec![], vec![]));
            }
        }
        emails.push(email.clone());
        f.users.push(SeedUser {
            id: None,
            name: format!("{first} {last}"),
            email,
            permissions: perms,
        });
    }
    for i in 0..25 {
        f.invites.push(SeedInvite {
            email: format!("candidate{i}@partner.example"),
            permissions: vec![role("Source Read-only", vec![], vec![])],
        });
    }
    let group_roles = [
        "Source Admin",
        "Source Read-only",
        "Warehouse Admin",
        "Warehouse Read-only",
        "Functions Read-only",
        "Tracking Plan Admin",
        "Identity Admin",
    ];
    for g in 0..60 {
        let size = rng.random_range(10..=300).min(emails.len());
        let mut members: Vec<String> = emails.choose_multiple(&mut rng, size).cloned().collect();
        members.shuffle(&mut rng);
        let mut permissions = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let r = group_roles
                .choose(&mut rng)
                .copied()
                .unwrap_or("Source Read-only");
            let p = match r {
                "Source Admin" => {
                    let picks = source_names
                        .choose_multiple(&mut rng, 10)
                        .map(|n| res("SOURCE", n))
                        .collect();
                    role(r, picks, vec![])
                }
                "Source Read-only" => {
                    let e = *envs.choose(&mut rng).unwrap_or(&"prod");
                    role(r, vec![], vec![env_label(e)])
                }
                _ => role(r, vec![], vec![]),
            };
            permissions.push(p);
        }
        f.groups.push(SeedGroup {
            id: None,
            name: format!(
                "{} {}",
                TEAMS[g % TEAMS.len()],
                [
                    "Admins",
                    "Analysts",
                    "Engineers",
                    "Viewers",
                    "Leads",
                    "On-call"
                ][g / 10 % 6]
            ),
            members,
            invites: if g % 12 == 0 {
                vec![format!("candidate{}@partner.example", g / 12)]
            } else {
                vec![]
            },
            permissions,
        });
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_seed_is_valid_and_binds_every_role() {
        let st = build(&Seed::Small, 0).expect("small seed loads");
        assert!(st.users.len() >= 12);
        assert_eq!(st.groups.len(), 4);
        let mut bound: Vec<&str> = st
            .users
            .iter()
            .flat_map(|u| u.permissions.iter())
            .chain(st.groups.iter().flat_map(|g| g.permissions.iter()))
            .filter_map(|p| st.role(&p.role_id).map(|r| r.spec.name))
            .collect();
        bound.sort();
        bound.dedup();
        assert_eq!(bound.len(), crate::segment::roles::BUILTIN_ROLES.len());
    }

    #[test]
    fn seeds_are_deterministic() {
        let a = build(&Seed::Small, 1).expect("loads");
        let b = build(&Seed::Small, 2).expect("loads");
        let ids = |s: &State| s.users.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(a.workspace.id, b.workspace.id);
    }

    #[test]
    fn the_documented_seed_file_example_loads() {
        let doc = include_str!("../../docs/emulator.md");
        let section = doc
            .split("### Seed file format")
            .nth(1)
            .expect("docs have the section");
        let json = section
            .split("```json")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .expect("docs have the example");
        let file: SeedFile = serde_json::from_str(json).expect("example parses");
        let st = from_file_contents(file, 0).expect("example loads");
        assert_eq!(st.users.len(), 2);
        assert_eq!(st.users[0].id, "u0000000000000000000001");
        // The unknown group member became an invite and an invite member.
        assert!(st.invite_idx("someone@else.example").is_some());
        assert_eq!(
            st.groups[0].invites,
            vec!["someone@else.example".to_string()]
        );
        assert_eq!(st.users[1].permissions.len(), 2);
    }

    #[test]
    fn a_state_dump_loads_back_identically() {
        let st = build(&Seed::Small, 0).expect("loads");
        let dump = super::super::control::dump(&st);
        let file: SeedFile = serde_json::from_value(dump.clone()).expect("dump is a seed");
        let again = from_file_contents(file, 0).expect("dump loads");
        let mut a = dump;
        let mut b = super::super::control::dump(&again);
        a["auditEventCount"] = serde_json::Value::Null;
        b["auditEventCount"] = serde_json::Value::Null;
        assert_eq!(a, b);
    }

    #[test]
    fn large_seed_has_the_promised_shape() {
        let st = build(&Seed::Large, 0).expect("large seed loads");
        assert_eq!(st.users.len(), 2_000);
        assert_eq!(st.groups.len(), 60);
        assert!(
            st.groups
                .iter()
                .all(|g| (10..=300).contains(&g.members.len()))
        );
        assert_eq!(st.sources.len(), 200);
        assert_eq!(st.warehouses.len(), 20);
        assert_eq!(st.functions.len(), 40);
        assert_eq!(st.spaces.len(), 5);
    }
}
