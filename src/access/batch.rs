//! Reading a batch of grant records (NDJSON, or one JSON array) with line numbers, so a bad
//! record is named precisely and nothing is written until the whole batch has been read.

use super::record::GrantRecord;

/// A record and the line it starts on.
#[derive(Debug, Clone)]
pub(crate) struct Numbered {
    pub line: usize,
    pub record: GrantRecord,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{}", summary(.0))]
pub(crate) struct BatchError(pub Vec<(usize, String)>);

fn summary(errors: &[(usize, String)]) -> String {
    let mut s = errors
        .iter()
        .take(3)
        .map(|(line, m)| format!("line {line}: {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    if errors.len() > 3 {
        s.push_str(&format!("; and {} more", errors.len() - 3));
    }
    s
}

/// Parses NDJSON (one record per line, blank lines ignored) or a JSON array of records. A
/// byte-order mark (as some Windows editors write) is accepted.
pub(crate) fn parse(text: &str) -> Result<Vec<Numbered>, BatchError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('[') {
        parse_array(text)
    } else {
        parse_lines(text)
    }
}

/// What a line that is not JSON at all probably is, to say what was expected instead.
fn not_json(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let looks_like = if lower.starts_with("principal_type,") || line.matches(',').count() >= 3 {
        "this looks like CSV; "
    } else if lower.starts_with("principal ") || line.contains("  ") {
        "this looks like a table; "
    } else {
        ""
    };
    format!(
        "not JSON: {looks_like}--from-file takes grant records, one JSON object a line (`list grants --format ndjson`) or a JSON array (`--format json`)"
    )
}

/// A record from JSON, with problems named in the grant record's own words (docs/grant-record.md)
/// rather than the decoder's.
fn record(v: serde_json::Value) -> Result<GrantRecord, String> {
    check_record(&v)?;
    serde_json::from_value(v).map_err(|e| e.to_string())
}

fn check_record(v: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    let obj = v.as_object().ok_or(
        "a grant record is a JSON object {\"principal\": ..., \"role\": ..., \"resource\": ...}",
    )?;
    const FIELDS: [&str; 5] = ["principal", "role", "resource", "labels", "via"];
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field {k:?}; a grant record has principal, role, resource, labels and via"
        ));
    }
    let string = |o: &serde_json::Map<String, Value>, what: &str, key: &str| match o.get(key) {
        Some(Value::String(_)) => Ok(()),
        None => Err(format!("{what} needs \"{key}\"")),
        Some(other) => Err(format!("{what}.{key} must be a string, not {other}")),
    };
    let object = |key: &str| -> Result<Option<&serde_json::Map<String, Value>>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(other) => Err(format!("{key} must be an object, not {other}")),
        }
    };
    let p = object("principal")?.ok_or("a grant record needs a principal")?;
    match p.get("type").and_then(Value::as_str) {
        Some("user") => ["id", "email", "name"]
            .iter()
            .try_for_each(|k| string(p, "principal", k))?,
        Some("invite") => string(p, "principal", "email")?,
        Some("group") => ["id", "name"]
            .iter()
            .try_for_each(|k| string(p, "principal", k))?,
        Some(other) => {
            return Err(format!(
                "principal.type {other:?} is not user, invite or group"
            ));
        }
        None => return Err("principal needs \"type\": user, invite or group".into()),
    }
    if let Some(r) = object("role")? {
        string(r, "role", "id")?;
        string(r, "role", "name")?;
    }
    let res = object("resource")?.ok_or("a grant record needs a resource")?;
    const KINDS: [&str; 6] = [
        "workspace",
        "source",
        "warehouse",
        "function",
        "space",
        "group",
    ];
    match res.get("type").and_then(Value::as_str) {
        Some(t) if KINDS.contains(&t) => {}
        Some(other) => {
            return Err(format!(
                "resource.type {other:?} is not one of: {}",
                KINDS.join(", ")
            ));
        }
        None => {
            return Err(format!(
                "resource needs \"type\": one of {}",
                KINDS.join(", ")
            ));
        }
    }
    string(res, "resource", "id")?;
    match obj.get("labels") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ls)) => {
            for l in ls {
                let l = l
                    .as_object()
                    .ok_or("each of labels is {\"key\": ..., \"value\": ...}")?;
                string(l, "labels[]", "key")?;
                string(l, "labels[]", "value")?;
            }
        }
        Some(other) => return Err(format!("labels must be an array, not {other}")),
    }
    if let Some(via) = object("via")? {
        if via.get("type").and_then(Value::as_str) != Some("group") {
            return Err("via.type must be \"group\"".into());
        }
        string(via, "via", "id")?;
        string(via, "via", "name")?;
    }
    Ok(())
}

fn parse_lines(text: &str) -> Result<Vec<Numbered>, BatchError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => record(v),
            Err(e) if e.is_syntax() && !line.trim_start().starts_with('{') => Err(not_json(line)),
            Err(e) => Err(strip_position(&e)),
        };
        match parsed {
            Ok(record) => out.push(Numbered {
                line: i + 1,
                record,
            }),
            Err(m) => errors.push((i + 1, m)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(BatchError(errors))
    }
}

/// An array's elements are numbered from 1 (serde_json does not say where each starts); the
/// `line` of such a record is its element number.
fn parse_array(text: &str) -> Result<Vec<Numbered>, BatchError> {
    let values: Vec<serde_json::Value> =
        serde_json::from_str(text).map_err(|e| BatchError(vec![(e.line(), strip_position(&e))]))?;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        match record(value) {
            Ok(record) => out.push(Numbered {
                line: i + 1,
                record,
            }),
            Err(e) => errors.push((i + 1, format!("array element {}: {e}", i + 1))),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(BatchError(errors))
    }
}

/// serde_json appends "at line 1 column 40"; within one line the column is noise.
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"principal":{"type":"user","id":"u1","email":"a@x.com","name":"A"},"role":{"id":"r1","name":"Source Admin"},"resource":{"type":"source","id":"s1","name":"web"},"labels":[],"via":null}"#;

    #[test]
    fn ndjson_with_blank_lines() {
        let text = format!("{GOOD}\n\n{GOOD}\n");
        let v = parse(&text).unwrap();
        assert_eq!(v.iter().map(|n| n.line).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn bad_line_seven_is_named() {
        let mut lines = vec![GOOD.to_string(); 9];
        lines[6] = r#"{"principal":{"type":"user","id":"u1"}}"#.to_string();
        let e = parse(&lines.join("\n")).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].0, 7);
        assert!(e.to_string().starts_with("line 7: "), "{e}");
        let mut lines = vec![GOOD.to_string(); 9];
        lines[6] = "{not json".to_string();
        assert_eq!(parse(&lines.join("\n")).unwrap_err().0[0].0, 7);
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let v = parse(&format!("\u{feff}{GOOD}\n{GOOD}\n")).unwrap();
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn csv_and_tables_are_told_what_is_expected() {
        let csv =
            "principal_type,principal_id,principal_email,principal_name,role_id\nuser,u1,a@x,A,r1";
        let e = parse(csv).unwrap_err().to_string();
        assert!(
            e.starts_with("line 1: not JSON: this looks like CSV;"),
            "{e}"
        );
        assert!(e.contains("grant records"), "{e}");
        let table =
            "PRINCIPAL                  ROLE   RESOURCE\nann@x.com  Source Admin  workspace";
        let e = parse(table).unwrap_err().to_string();
        assert!(e.contains("this looks like a table"), "{e}");
    }

    #[test]
    fn type_errors_speak_of_the_grant_record() {
        let cases = [
            (
                r#"{"principal":{"type":"robot","id":"x"},"role":null,"resource":{"type":"group","id":"g","name":"n"}}"#,
                "principal.type \"robot\" is not user, invite or group",
            ),
            (
                r#"{"principal":{"type":"user","id":"u1","name":"A"},"role":null,"resource":{"type":"group","id":"g","name":"n"}}"#,
                "principal needs \"email\"",
            ),
            (
                r#"{"principal":{"type":"invite","email":"a@x.com"},"role":{"id":1,"name":"R"},"resource":{"type":"source","id":"s"}}"#,
                "role.id must be a string, not 1",
            ),
            (
                r#"{"principal":{"type":"invite","email":"a@x.com"},"role":null,"resource":{"type":"bucket","id":"s"}}"#,
                "resource.type \"bucket\" is not one of",
            ),
            (
                r#"{"principal":{"type":"invite","email":"a@x.com"},"role":null,"resource":{"type":"group","id":"g"},"extra":1}"#,
                "unknown field \"extra\"",
            ),
        ];
        for (line, expected) in cases {
            let e = parse(line).unwrap_err().to_string();
            assert!(e.contains(expected), "{line}: {e}");
            assert!(!e.contains("internally tagged"), "{e}");
        }
    }

    #[test]
    fn arrays_name_the_bad_element() {
        let text = format!("[\n{GOOD},\n{GOOD},\n{{\"principal\":1}}\n]");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.0[0].0, 3);
        assert!(e.to_string().contains("array element 3"), "{e}");
        let ok = parse(&format!("[{GOOD},\n {GOOD}]")).unwrap();
        assert_eq!(ok.len(), 2);
    }
}
