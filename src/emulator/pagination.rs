//! Opaque cursors: base64 of the list they belong to, an offset and a checksum, so a cursor
//! that was tampered with, truncated or taken from another list is refused with a 422 instead of
//! silently paging from somewhere else.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::query::PageRequest;
use super::state::ApiError;
use crate::segment::models::PaginationOutput;

fn checksum(s: &str) -> u32 {
    // FNV-1a: not security, just "was this cursor minted here".
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

pub(super) fn encode(list: &str, offset: usize) -> String {
    let body = format!("{list}:{offset}");
    let raw = format!("{body}:{:08x}", checksum(&body));
    URL_SAFE_NO_PAD.encode(raw)
}

pub(super) fn decode(list: &str, cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('=').as_bytes())
        .ok()?;
    let raw = String::from_utf8(bytes).ok()?;
    let (body, sum) = raw.rsplit_once(':')?;
    if format!("{:08x}", checksum(body)) != sum {
        return None;
    }
    let (l, off) = body.rsplit_once(':')?;
    if l != list {
        return None;
    }
    off.parse().ok()
}

/// The list a cursor was minted for, when it was minted here.
pub(super) fn list_of(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('=').as_bytes())
        .ok()?;
    let raw = String::from_utf8(bytes).ok()?;
    let (body, sum) = raw.rsplit_once(':')?;
    if format!("{:08x}", checksum(body)) != sum {
        return None;
    }
    Some(body.rsplit_once(':')?.0.to_string())
}

/// One page of `items` and the pagination object Segment answers with.
pub(super) fn page<T: Clone>(
    list: &str,
    items: &[T],
    req: &PageRequest,
) -> Result<(Vec<T>, PaginationOutput), ApiError> {
    let offset = match &req.cursor {
        None => 0,
        Some(c) if c.is_empty() => 0,
        Some(c) => decode(list, c).ok_or_else(|| {
            ApiError::validation(
                "pagination.cursor",
                "pagination.cursor is not a valid cursor",
            )
        })?,
    };
    let total = items.len();
    let start = offset.min(total);
    let end = start.saturating_add(req.count).min(total);
    let next = (end < total).then(|| encode(list, end));
    let previous = (start > 0).then(|| encode(list, start.saturating_sub(req.count)));
    Ok((
        items[start..end].to_vec(),
        PaginationOutput {
            current: encode(list, start),
            next,
            previous,
            total_entries: Some(total as u64),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_tampering() {
        let c = encode("users", 14);
        assert_eq!(decode("users", &c), Some(14));
        assert_eq!(decode("groups", &c), None);
        assert_eq!(decode("users", "MA=="), None);
        assert_eq!(decode("users", "not base64 !"), None);
        let forged = URL_SAFE_NO_PAD.encode("users:15:00000000");
        assert_eq!(decode("users", &forged), None);
    }
}
