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

/// Parses NDJSON (one record per line, blank lines ignored) or a JSON array of records.
pub(crate) fn parse(text: &str) -> Result<Vec<Numbered>, BatchError> {
    if text.trim_start().starts_with('[') {
        parse_array(text)
    } else {
        parse_lines(text)
    }
}

fn parse_lines(text: &str) -> Result<Vec<Numbered>, BatchError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<GrantRecord>(line) {
            Ok(record) => out.push(Numbered {
                line: i + 1,
                record,
            }),
            Err(e) => errors.push((i + 1, strip_position(&e))),
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
        match serde_json::from_value::<GrantRecord>(value) {
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
    fn arrays_name_the_bad_element() {
        let text = format!("[\n{GOOD},\n{GOOD},\n{{\"principal\":1}}\n]");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.0[0].0, 3);
        assert!(e.to_string().contains("array element 3"), "{e}");
        let ok = parse(&format!("[{GOOD},\n {GOOD}]")).unwrap();
        assert_eq!(ok.len(), 2);
    }
}
