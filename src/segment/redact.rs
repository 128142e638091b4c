//! Keeping the token out of what the tool prints. Text that came from a server (an error body, an
//! HTML page from a proxy) or from a library (a transport error) may quote the request,
//! `Authorization` header included. Every token a client is built with is registered here, in
//! every form the tool knows it (raw, and base64 of the raw token, of `Bearer <token>` and of
//! basic-auth pairs), and `redact` replaces each occurrence before the text is printed or
//! logged.

use std::borrow::Cow;
use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use super::Token;

pub(crate) const REDACTED: &str = "<redacted>";

/// Shorter strings would turn ordinary words into `<redacted>`; no real token is this short.
const MIN_LEN: usize = 6;

static NEEDLES: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers a token (and its encodings) for the rest of the process.
pub(crate) fn register(token: &Token) {
    let raw = token.expose();
    if raw.len() < MIN_LEN {
        return;
    }
    let mut forms = vec![raw.to_string()];
    for plain in [
        raw.to_string(),
        format!("Bearer {raw}"),
        format!("{raw}:"),
        format!(":{raw}"),
    ] {
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(&plain));
        }
    }
    let encoded: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
    forms.push(encoded);
    let mut needles = NEEDLES.write().unwrap_or_else(|e| e.into_inner());
    for f in forms {
        // Unpadded base64 is a prefix of the padded form; longest first replaces whole forms.
        let f = f.trim_end_matches('=').to_string();
        if f.len() >= MIN_LEN && !needles.contains(&f) {
            needles.push(f);
        }
    }
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
}

/// `text` with every registered token form replaced by `<redacted>`.
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    let needles = NEEDLES.read().unwrap_or_else(|e| e.into_inner());
    if !needles.iter().any(|n| text.contains(n.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for n in needles.iter() {
        if out.contains(n.as_str()) {
            out = out.replace(n.as_str(), REDACTED);
        }
    }
    Cow::Owned(out)
}

/// A writer that redacts what passes through it, a line at a time (so a token split across two
/// writes is still caught), for the process's stdout and stderr.
pub(crate) struct RedactingWriter<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> RedactingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        RedactingWriter {
            inner,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> std::io::Result<()> {
        let chunk: Vec<u8> = self.pending.drain(..upto).collect();
        match std::str::from_utf8(&chunk) {
            Ok(s) => self.inner.write_all(redact(s).as_bytes()),
            Err(_) => self
                .inner
                .write_all(redact(&String::from_utf8_lossy(&chunk)).as_bytes()),
        }
    }
}

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Only the new bytes are searched: a line written in many small pieces would
        // otherwise be scanned again for every piece.
        let before = self.pending.len();
        self.pending.extend_from_slice(buf);
        if let Some(last) = buf.iter().rposition(|b| *b == b'\n') {
            self.emit(before + last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let n = self.pending.len();
        if n > 0 {
            self.emit(n)?;
        }
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn every_known_form_is_redacted() {
        let canary = "canary-redact-unit-7f3a9c";
        register(&Token::new(canary));
        let b64 = STANDARD.encode(format!("Bearer {canary}"));
        let basic = URL_SAFE_NO_PAD.encode(format!("{canary}:"));
        let text = format!(
            "had Bearer {canary}; {b64}; {basic}; {}",
            STANDARD.encode(canary)
        );
        let out = redact(&text);
        assert!(!out.contains(canary), "{out}");
        assert!(!out.contains(&b64) && !out.contains(&basic), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 4, "{out}");
        assert!(matches!(redact("nothing secret here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_token_split_across_writes_is_still_caught() {
        let canary = "canary-split-writes-91b2";
        register(&Token::new(canary));
        let mut out = Vec::new();
        {
            let mut w = RedactingWriter::new(&mut out);
            w.write_all(b"error: echo canary-split").unwrap();
            w.write_all(b"-writes-91b2 end\npartial ").unwrap();
            w.write_all(canary.as_bytes()).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "error: echo <redacted> end\npartial <redacted>");
    }
}
