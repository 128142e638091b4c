//! `segment-access list events`: the audit trail, who changed what and when.

use clap::Args;

use crate::access::Source;
use crate::access::events::EventQuery;

use super::{CliError, Context};

pub(crate) const EVENTS_HELP: &str = "\
Reads Segment's audit trail (GET /audit-events): the last 90 days, on workspaces with the Business
tier, with a token of the Workspace Owner access level. Newest first. Membership changes are
recorded on the group (Segment's events do not name the member).

--since and --until take an RFC 3339 time (2026-01-31T09:00:00Z), a date (2026-01-31, midnight
UTC) or an age: 30m, 12h, 7d, 2w.

Examples:
  segment-access list events --since 7d
  segment-access list events --principal ann@example.com
  segment-access list events --principal group:Analysts --type 'User Added To User Group'
  segment-access list events --actor public-api-token/4fJq2Xa1 --format csv > changes.csv
  segment-access list events --since 2026-01-01 --until 2026-02-01 --format ndjson";

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events about this principal: <email|user id>, group:<id|name> or invite:<email>.
    /// One the workspace no longer has is matched by the id or name the events recorded.
    #[arg(long, value_name = "PRINCIPAL")]
    pub principal: Option<String>,
    /// Only events about this resource: workspace, source:<id|slug|name>, ...
    #[arg(long, value_name = "RESOURCE")]
    pub resource: Option<String>,
    /// Only changes made by this actor: public-api-token/<id>, the id alone, or an email.
    #[arg(long, value_name = "ACTOR")]
    pub actor: Option<String>,
    /// Only events of this type (as Segment names it, any case); repeat for several.
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Only events at or after this time (RFC 3339, a date, or an age like 24h).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only events at or before this time.
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
}

pub(crate) async fn run(
    args: EventsArgs,
    source: &Source,
    ctx: &mut Context,
) -> Result<usize, CliError> {
    let now = crate::segment::time::now_millis();
    let when = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| parse_when(s, now).map_err(|m| CliError::usage(format!("--{flag}: {m}"))))
            .transpose()
    };
    let q = EventQuery {
        since: when("since", &args.since)?,
        until: when("until", &args.until)?,
        principal: args.principal,
        resource: args.resource,
        actor: args.actor,
        types: args.types,
    };
    if let (Some(s), Some(u)) = (q.since, q.until)
        && s > u
    {
        return Err(CliError::usage("--since is after --until"));
    }
    let rows = source
        .events(&q, ctx.progress("Reading the audit trail"))
        .await?;
    ctx.print_list(rows)
}

/// An RFC 3339 time, a date (midnight UTC), or an age before `now` (`90s`, `30m`, `12h`, `7d`,
/// `2w`), in milliseconds since the epoch.
pub(crate) fn parse_when(s: &str, now: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Some(ms) = crate::segment::time::parse_rfc3339(s) {
        return Ok(ms);
    }
    if s.len() == 10
        && let Some(ms) = crate::segment::time::parse_rfc3339(&format!("{s}T00:00:00Z"))
    {
        return Ok(ms);
    }
    let unit = s.chars().last().unwrap_or(' ');
    let n = s[..s.len() - unit.len_utf8().min(s.len())]
        .parse::<i64>()
        .ok();
    let per = match unit {
        's' => Some(1_000),
        'm' => Some(60_000),
        'h' => Some(3_600_000),
        'd' => Some(86_400_000),
        'w' => Some(7 * 86_400_000),
        _ => None,
    };
    match (n, per) {
        (Some(n), Some(per)) if n >= 0 => Ok(now - n.saturating_mul(per)),
        _ => Err(format!(
            "{s:?} is not a time: write 2026-01-31T09:00:00Z, 2026-01-31, or an age like 30m, 12h, 7d"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_when;

    #[test]
    fn times_dates_and_ages() {
        let now = 1_800_000_000_000;
        assert_eq!(parse_when("12h", now), Ok(now - 12 * 3_600_000));
        assert_eq!(parse_when("7d", now), Ok(now - 7 * 86_400_000));
        assert_eq!(
            parse_when("2026-01-31", now),
            parse_when("2026-01-31T00:00:00Z", now)
        );
        assert!(parse_when("2026-01-31T00:00:00Z", now).is_ok());
        for bad in ["", "d", "yesterday", "-3d", "3y", "é"] {
            assert!(parse_when(bad, now).is_err(), "{bad:?}");
        }
    }
}
