//! Query strings the way Segment's clients actually send them. Its docs write objects with
//! dots (`pagination.count=3`), the generated SDKs with brackets (`pagination[count]=3`); arrays
//! arrive as `emails.0=a`, `emails[0]=a`, `emails[]=a`, repeated `emails=a&emails=b`, or
//! comma-joined `emails=a,b` (what OpenAPI's non-exploded form style produces). Emails and ids
//! cannot contain commas, so accepting all of them is unambiguous.

use super::state::ApiError;

pub(super) struct Query {
    pairs: Vec<(String, String)>,
}

/// A validated `pagination` object.
#[derive(Debug, Clone)]
pub(super) struct PageRequest {
    pub count: usize,
    pub cursor: Option<String>,
}

pub(super) const MAX_PAGE: usize = 200;

impl Query {
    pub(super) fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A member of an object parameter, in either spelling.
    pub(super) fn member(&self, object: &str, key: &str) -> Option<&str> {
        let dotted = format!("{object}.{key}");
        let bracketed = format!("{object}[{key}]");
        self.pairs
            .iter()
            .find(|(k, _)| *k == dotted || *k == bracketed)
            .map(|(_, v)| v.as_str())
    }

    /// Whether any key of the object parameter is present.
    fn has_object(&self, object: &str) -> bool {
        self.pairs.iter().any(|(k, _)| {
            k == object
                || k.strip_prefix(object)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
    }

    /// Every value of an array parameter, in index order where indexed, else in request order.
    pub(super) fn array(&self, name: &str) -> Vec<String> {
        let mut indexed: Vec<(usize, usize, String)> = Vec::new();
        for (pos, (k, v)) in self.pairs.iter().enumerate() {
            let Some(rest) = k.strip_prefix(name) else {
                continue;
            };
            let index = if rest.is_empty() || rest == "[]" {
                Some(usize::MAX)
            } else if let Some(n) = rest.strip_prefix('.') {
                n.parse::<usize>().ok()
            } else if let Some(n) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                n.parse::<usize>().ok()
            } else {
                None
            };
            let Some(index) = index else { continue };
            for part in v.split(',') {
                let part = part.trim();
                if !part.is_empty() {
                    indexed.push((index, pos, part.to_string()));
                }
            }
        }
        indexed.sort_by_key(|(i, pos, _)| (*i, *pos));
        let mut out: Vec<String> = Vec::with_capacity(indexed.len());
        for (_, _, v) in indexed {
            if !out.contains(&v) {
                out.push(v);
            }
        }
        out
    }

    /// `pagination.count` (1..=200, required when `required`) and `pagination.cursor`.
    pub(super) fn pagination(&self, required: bool) -> Result<Option<PageRequest>, ApiError> {
        let count = self.member("pagination", "count");
        let cursor = self.member("pagination", "cursor");
        let Some(count) = count else {
            if required || self.has_object("pagination") {
                return Err(ApiError::validation(
                    "pagination.count",
                    "pagination.count is required",
                ));
            }
            return Ok(None);
        };
        let n = parse_count(count).ok_or_else(|| {
            ApiError::validation(
                "pagination.count",
                format!("pagination.count must be an integer from 1 to {MAX_PAGE}"),
            )
        })?;
        Ok(Some(PageRequest {
            count: n,
            cursor: cursor.map(str::to_string),
        }))
    }
}

fn parse_count(s: &str) -> Option<usize> {
    let s = s.trim();
    // A JSON `number` in the schema, so "5.0" is five; "5.5" is not a count.
    let n: f64 = s.parse().ok()?;
    if !n.is_finite() || n.fract() != 0.0 || !(1.0..=MAX_PAGE as f64).contains(&n) {
        return None;
    }
    Some(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_in_every_form() {
        for q in [
            "emails.0=a%40x.com&emails.1=b%40x.com",
            "emails%5B0%5D=a%40x.com&emails%5B1%5D=b%40x.com",
            "emails[1]=b@x.com&emails[0]=a@x.com",
            "emails=a@x.com&emails=b@x.com",
            "emails[]=a@x.com&emails[]=b@x.com",
            "emails=a@x.com,b@x.com",
        ] {
            assert_eq!(
                Query::parse(Some(q)).array("emails"),
                vec!["a@x.com", "b@x.com"],
                "{q}"
            );
        }
        assert!(Query::parse(Some("emailsx=a")).array("emails").is_empty());
    }

    #[test]
    fn pagination_forms() {
        let p = Query::parse(Some("pagination.count=3&pagination.cursor=abc"))
            .pagination(true)
            .unwrap()
            .unwrap();
        assert_eq!((p.count, p.cursor.as_deref()), (3, Some("abc")));
        let p = Query::parse(Some("pagination%5Bcount%5D=7"))
            .pagination(true)
            .unwrap()
            .unwrap();
        assert_eq!(p.count, 7);
        for bad in ["0", "201", "abc", "-1", "2.5", ""] {
            let q = format!("pagination.count={bad}");
            assert!(Query::parse(Some(&q)).pagination(true).is_err(), "{bad}");
        }
        assert!(Query::parse(None).pagination(true).is_err());
        assert!(Query::parse(None).pagination(false).unwrap().is_none());
    }
}
