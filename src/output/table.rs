//! Tables for people: columns two spaces apart, each as wide as its widest cell, measured in
//! terminal columns (`unicode-width`), not bytes or chars.
//!
//! Piped, a table keeps every value whole on one line, so `grep` and `cut` work. On a terminal
//! it fits the terminal's width. When the natural table is too wide, prose that must be read
//! whole (a change's message, a finding) wraps at spaces first; then the other columns get the
//! widths that cost the reader least: every cell cut costs, more the more of it is lost, and a
//! cut weighs more the later its column should give way (identifiers and descriptions first,
//! then labels and lists, then names and resources, principals and role names last). So a
//! column's one long outlier is cut before its ordinary values, and one long email no longer
//! squeezes every other column. The cheapest widths are found exactly, by dynamic programming
//! over the columns and the width left (`fit`). A cell is never broken inside a word: it is
//! cut (at a space when one is close) and ends in `…`, or wrapped at a space. Headers start
//! exactly where their column starts, bold or not.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Spaces between two columns.
pub(crate) const GAP: usize = 2;

/// A cut column keeps this many terminal columns (or its header's width, if wider) until
/// every column is at its minimum; only then do columns go down to one `…`.
const SOFT_MIN: usize = 10;

/// A wrapping column keeps at least this width before anything else is cut.
const WRAP_MIN: usize = 16;

/// How a column gives way when the table is wider than the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Give {
    /// Wrapped at spaces onto more lines; shrinks before any column is cut.
    Wrap,
    /// Cut with `…`; lower ranks are cut first.
    Cut(u8),
}

/// Ids, descriptions and other long details.
pub(crate) const CUT_FIRST: Give = Give::Cut(0);
/// Labels, lists of groups or roles, access summaries.
pub(crate) const CUT_LISTS: Give = Give::Cut(1);
/// Names, resources, kinds, statuses.
pub(crate) const CUT_NAMES: Give = Give::Cut(2);
/// Principals (emails) and role names: what a row is about.
pub(crate) const CUT_LAST: Give = Give::Cut(3);

/// The order a column gives way in, from its header.
pub(crate) fn give_for(header: &str) -> Give {
    match header {
        "MESSAGE" | "FINDING" => Give::Wrap,
        "ID" | "DESCRIPTION" | "SLUG" | "API URL" | "WHEN" => CUT_FIRST,
        "LABELS" | "ROLES" | "GROUPS" | "ACCESS" | "DETAIL" => CUT_LISTS,
        "PRINCIPAL" | "EMAIL" | "ROLE" | "USER" | "PROFILE" => CUT_LAST,
        _ => CUT_NAMES,
    }
}

/// How to lay a table out.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Style {
    /// The terminal's width: fit it. `None`: every value whole.
    pub width: Option<usize>,
    /// Print the header line.
    pub headers: bool,
    /// Bold headers (colour is on).
    pub bold: bool,
}

/// A table's text, one string per line, without trailing spaces or newlines.
pub(crate) fn render(
    headers: &[&str],
    rows: &[Vec<String>],
    give: &[Give],
    style: Style,
) -> Vec<String> {
    let n = headers.len();
    let clean = |s: &str| -> String {
        if s.contains(['\n', '\r', '\t']) {
            s.replace(['\n', '\r', '\t'], " ")
        } else {
            s.to_string()
        }
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            (0..n)
                .map(|i| r.get(i).map(|c| clean(c)).unwrap_or_default())
                .collect()
        })
        .collect();
    let header_w: Vec<usize> = headers
        .iter()
        .map(|h| if style.headers { h.width() } else { 0 })
        .collect();
    let natural: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].width())
                .chain(std::iter::once(header_w[i]))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let give: Vec<Give> = (0..n)
        .map(|i| give.get(i).copied().unwrap_or(CUT_NAMES))
        .collect();
    // On a terminal too narrow for the whole table, a column with nothing in it is left out.
    let fits = natural.iter().sum::<usize>() + GAP * n.saturating_sub(1)
        <= style.width.unwrap_or(usize::MAX);
    if !fits && rows.iter().any(|r| r.iter().any(|c| !c.is_empty())) {
        let keep: Vec<usize> = (0..n)
            .filter(|&i| rows.iter().any(|r| !r[i].is_empty()))
            .collect();
        if keep.len() < n {
            let headers: Vec<&str> = keep.iter().map(|&i| headers[i]).collect();
            let rows: Vec<Vec<String>> = rows
                .iter()
                .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
                .collect();
            let give: Vec<Give> = keep.iter().map(|&i| give[i]).collect();
            return render(&headers, &rows, &give, style);
        }
    }
    let widths = match style.width {
        Some(w) => {
            let columns: Vec<Column> = (0..n)
                .map(|i| Column {
                    cells: rows.iter().map(|r| r[i].width()).collect(),
                    header: header_w[i],
                    give: give[i],
                })
                .collect();
            fit(&columns, w)
        }
        None => natural.clone(),
    };
    let mut out = Vec::with_capacity(rows.len() + 1);
    if style.headers {
        let cells: Vec<Vec<String>> = headers
            .iter()
            .zip(&widths)
            .map(|(h, w)| vec![cut(h, *w)])
            .collect();
        out.extend(lines(&cells, &widths, style.bold));
    }
    for r in &rows {
        let cells: Vec<Vec<String>> = r
            .iter()
            .zip(&widths)
            .zip(&give)
            .map(|((c, w), g)| match g {
                Give::Wrap if c.width() > *w => wrap(c, *w),
                _ => vec![cut(c, *w)],
            })
            .collect();
        out.extend(lines(&cells, &widths, false));
    }
    out
}

/// The lines of one row whose cells may span several lines; columns padded to `widths`.
fn lines(cells: &[Vec<String>], widths: &[usize], bold: bool) -> Vec<String> {
    let height = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let last = cells
        .iter()
        .rposition(|c| c.iter().any(|s| !s.is_empty()))
        .unwrap_or(0);
    (0..height)
        .map(|k| {
            let mut line = String::new();
            for (i, (c, w)) in cells.iter().zip(widths).enumerate().take(last + 1) {
                let text = c.get(k).map(String::as_str).unwrap_or("");
                if i > 0 {
                    line.push_str(&" ".repeat(GAP));
                }
                if bold && !text.is_empty() {
                    line.push_str("\x1b[1m");
                    line.push_str(text);
                    line.push_str("\x1b[0m");
                } else {
                    line.push_str(text);
                }
                if i < last {
                    line.push_str(&" ".repeat(w.saturating_sub(text.width())));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

/// What the fitting knows of one column: the widths of its cells and header, and how it gives
/// way.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub cells: Vec<usize>,
    pub header: usize,
    pub give: Give,
}

impl Column {
    fn natural(&self) -> usize {
        self.cells
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
            .max(self.header)
    }

    /// The narrowest this column goes before every column is at its narrowest.
    fn soft_min(&self) -> usize {
        let floor = match self.give {
            Give::Wrap => WRAP_MIN,
            Give::Cut(_) => SOFT_MIN,
        };
        self.natural().min(floor.max(self.header))
    }

    /// What cutting this column to `width` costs the reader: for every cell cut, a fixed price
    /// plus what is lost, counted so that the first characters of a value are worth the most
    /// (the log of the width kept); weighted by how late the column should be cut.
    fn cost(&self, width: usize) -> f64 {
        let weight = match self.give {
            Give::Cut(rank) => CUT_WEIGHT[usize::from(rank).min(CUT_WEIGHT.len() - 1)],
            Give::Wrap => 0.0,
        };
        let lost: f64 = self
            .cells
            .iter()
            .filter(|&&w| w > width)
            .map(|&w| CUT_COST + ((1 + w) as f64 / (1 + width) as f64).ln())
            .sum();
        weight * lost
    }
}

/// The price of one cut cell, by cut rank: a principal or role cut costs as much as cutting
/// eight ids.
const CUT_WEIGHT: [f64; 4] = [1.0, 2.0, 4.0, 8.0];

/// The price of cutting a cell at all, before what it loses.
const CUT_COST: f64 = 0.5;

/// Column widths that fit `width`.
///
/// The natural widths when they fit. Otherwise wrapping columns narrow first (down to
/// `WRAP_MIN`), then the cut columns get the widths that cost the reader least (`Column::cost`:
/// fewest cells cut, and least of each, ids and descriptions before lists, lists before names,
/// principals and roles last), none below a readable minimum; found exactly, by dynamic
/// programming over the columns and the width left. When even the minimums are too wide,
/// columns give way in the same order down to a single `…`.
pub(crate) fn fit(columns: &[Column], width: usize) -> Vec<usize> {
    let n = columns.len();
    let mut w: Vec<usize> = columns.iter().map(Column::natural).collect();
    let gaps = GAP * n.saturating_sub(1);
    let total = |w: &[usize]| w.iter().sum::<usize>() + gaps;
    if total(&w) <= width {
        return w;
    }
    let soft: Vec<usize> = columns.iter().map(Column::soft_min).collect();
    let wrapping: Vec<usize> = (0..n).filter(|&i| columns[i].give == Give::Wrap).collect();
    let excess = total(&w) - width;
    if shrink(&mut w, &soft, &wrapping, excess) == 0 {
        return w;
    }
    let cutting: Vec<usize> = (0..n).filter(|&i| columns[i].give != Give::Wrap).collect();
    let wrap_width: usize = wrapping.iter().map(|&i| w[i]).sum();
    let budget = width.saturating_sub(gaps + wrap_width);
    if cutting.iter().map(|&i| soft[i]).sum::<usize>() <= budget {
        let chosen = cheapest(columns, &cutting, &soft, &w, budget);
        for (&i, c) in cutting.iter().zip(chosen) {
            w[i] = c;
        }
        return w;
    }
    // Not even the minimums fit: every column at its minimum, then down to one column each,
    // wrapping columns first, then by cut rank.
    for &i in &cutting {
        w[i] = soft[i];
    }
    let mut excess = total(&w).saturating_sub(width);
    let mut ranks: Vec<u8> = cutting
        .iter()
        .filter_map(|&i| match columns[i].give {
            Give::Cut(r) => Some(r),
            Give::Wrap => None,
        })
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    let ones = vec![1; n];
    excess = shrink(&mut w, &ones, &wrapping, excess);
    for r in ranks {
        let cols: Vec<usize> = (0..n)
            .filter(|&i| columns[i].give == Give::Cut(r))
            .collect();
        excess = shrink(&mut w, &ones, &cols, excess);
    }
    w
}

/// The widths of `cols`, each between `lo` and `hi`, summing to at most `budget`, that cost
/// least in total; ties go to the wider. Dynamic programming over (column, width used).
fn cheapest(
    columns: &[Column],
    cols: &[usize],
    lo: &[usize],
    hi: &[usize],
    budget: usize,
) -> Vec<usize> {
    // best[t]: the least cost of the columns so far using exactly t columns of width.
    let mut best: Vec<Option<f64>> = vec![None; budget + 1];
    best[0] = Some(0.0);
    let mut choice: Vec<Vec<usize>> = Vec::with_capacity(cols.len());
    for &i in cols {
        let costs: Vec<(usize, f64)> = (lo[i]..=hi[i].max(lo[i]))
            .map(|c| (c, columns[i].cost(c)))
            .collect();
        let mut next: Vec<Option<f64>> = vec![None; budget + 1];
        let mut pick = vec![0; budget + 1];
        for (t, prev) in best.iter().enumerate() {
            let Some(prev) = prev else { continue };
            for &(c, cost) in &costs {
                let u = t + c;
                if u > budget {
                    break;
                }
                let total = prev + cost;
                if next[u].is_none_or(|b| total < b - 1e-9) {
                    next[u] = Some(total);
                    pick[u] = c;
                }
            }
        }
        best = next;
        choice.push(pick);
    }
    // The cheapest total; the widest of equally cheap ones.
    let mut end = 0;
    let mut end_cost = f64::INFINITY;
    for (t, b) in best.iter().enumerate() {
        if let Some(b) = b
            && *b <= end_cost + 1e-9
        {
            end = t;
            end_cost = *b;
        }
    }
    let mut out = vec![0; cols.len()];
    for k in (0..cols.len()).rev() {
        let c = choice[k][end];
        out[k] = c;
        end -= c;
    }
    out
}

/// Takes up to `excess` columns of width from `cols`, one at a time from the widest, none below
/// `floor`; what could not be taken.
fn shrink(w: &mut [usize], floor: &[usize], cols: &[usize], mut excess: usize) -> usize {
    while excess > 0 {
        let widest = cols
            .iter()
            .copied()
            .filter(|&i| w[i] > floor[i])
            .max_by(|&a, &b| w[a].cmp(&w[b]).then(b.cmp(&a)));
        let Some(i) = widest else { break };
        w[i] -= 1;
        excess -= 1;
    }
    excess
}

/// `s` cut to `width` on a terminal (see [`cut`]); whole when there is no width (a pipe,
/// `--wide`).
pub(crate) fn fit_line(s: &str, width: Option<usize>) -> String {
    match width {
        Some(w) => cut(s, w),
        None => s.to_string(),
    }
}

/// `s` in at most `width` terminal columns: whole when it fits, else cut and ended with `…`, at
/// a space when one leaves at least half the width, else between two characters.
pub(crate) fn cut(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let room = width - 1;
    let mut end = 0;
    let mut used = 0;
    for (i, ch) in s.char_indices() {
        let cw = ch.width().unwrap_or(0);
        if used + cw > room {
            break;
        }
        used += cw;
        end = i + ch.len_utf8();
    }
    let kept = &s[..end];
    // A space in what is kept, or right after it, ends a word there.
    let at_space = s[end..].starts_with(' ');
    let head = if at_space {
        kept
    } else {
        match kept.rfind(' ') {
            Some(sp) if kept[..sp].width() * 2 >= room => &kept[..sp],
            _ => kept,
        }
    };
    let head = head.trim_end_matches([' ', ',', ';']);
    format!("{head}…")
}

/// `s` wrapped at spaces into lines of at most `width` columns; a word longer than a line is
/// cut with `…` rather than broken.
pub(crate) fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let word = cut(word, width);
        if line.is_empty() {
            line = word;
        } else if line.width() + 1 + word.width() <= width {
            line.push(' ');
            line.push_str(&word);
        } else {
            out.push(std::mem::take(&mut line));
            line = word;
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    const GRANT_HEADERS: [&str; 5] = ["PRINCIPAL", "ROLE", "RESOURCE", "LABELS", "VIA"];

    fn grant_rows() -> Vec<Vec<String>> {
        vec![
            row(&[
                "ada.lovelace@acme.example",
                "Workspace Owner",
                "workspace",
                "",
                "direct",
            ]),
            row(&[
                "alan.turing@acme.example",
                "Source Admin",
                "source:Backend Node",
                "",
                "group:Data Engineering",
            ]),
            row(&[
                "barbara.liskov@acme.example",
                "Source Read-only",
                "workspace",
                "environment=prod",
                "group:Marketing Analysts",
            ]),
            row(&[
                &format!("{}@acme.example", "a".repeat(76)),
                "Engage Read-only",
                &format!("space:{}", "Very Long Space Name ".repeat(3).trim_end()),
                "",
                &format!(
                    "group:{}",
                    "An Extremely Long Group Name That Goes On "
                        .repeat(2)
                        .trim_end()
                ),
            ]),
        ]
    }

    fn give(headers: &[&str]) -> Vec<Give> {
        headers.iter().map(|h| give_for(h)).collect()
    }

    fn table(width: Option<usize>) -> Vec<String> {
        render(
            &GRANT_HEADERS,
            &grant_rows(),
            &give(&GRANT_HEADERS),
            Style {
                width,
                headers: true,
                bold: false,
            },
        )
    }

    /// Every word of a rendered line is a word of the cell it came from, or a prefix of one
    /// ended by `…`: nothing is broken across lines.
    fn words_whole(lines: &[String], rows: &[Vec<String>]) {
        let words: Vec<&str> = rows
            .iter()
            .flatten()
            .flat_map(|c| c.split(' '))
            .chain(GRANT_HEADERS)
            .collect();
        for l in lines {
            for w in l.split_whitespace() {
                let ok = words.contains(&w)
                    || w.strip_suffix('…')
                        .is_some_and(|p| words.iter().any(|x| x.starts_with(p)));
                assert!(ok, "{w:?} is not a whole word in {l:?}");
            }
        }
    }

    #[test]
    fn piped_tables_are_never_cut() {
        let lines = table(None);
        assert_eq!(lines.len(), 5);
        for (l, r) in lines[1..].iter().zip(grant_rows()) {
            for c in r.iter().filter(|c| !c.is_empty()) {
                assert!(l.contains(c.as_str()), "{c:?} whole in {l:?}");
            }
        }
        assert!(!lines.iter().any(|l| l.contains('…')));
    }

    #[test]
    fn fitted_tables_fit_and_keep_words_whole() {
        for width in [40, 60, 80, 120, 200] {
            let lines = table(Some(width));
            assert_eq!(
                lines.len(),
                5,
                "one line per row at {width}:\n{}",
                lines.join("\n")
            );
            for l in &lines {
                assert!(l.width() <= width, "{} > {width}: {l:?}", l.width());
            }
            words_whole(&lines, &grant_rows());
        }
    }

    /// The terminal column each cell of a line starts at (runs of two or more spaces part
    /// cells; cells hold single spaces only).
    fn starts(line: &str) -> Vec<usize> {
        let chars: Vec<char> = line.chars().collect();
        let mut out = Vec::new();
        let mut col = 0;
        for (i, c) in chars.iter().enumerate() {
            let after_gap = i == 0 || (i >= 2 && chars[i - 1] == ' ' && chars[i - 2] == ' ');
            if *c != ' ' && after_gap {
                out.push(col);
            }
            col += c.width().unwrap_or(0);
        }
        out
    }

    #[test]
    fn headers_start_where_their_columns_start() {
        for width in [60, 80, 200] {
            let lines = table(Some(width));
            let header = starts(&lines[0]);
            assert_eq!(header.len(), GRANT_HEADERS.len(), "{:?}", lines[0]);
            for l in &lines[1..] {
                // Every cell starts where a header does (LABELS may be empty).
                for s in starts(l) {
                    assert!(
                        header.contains(&s),
                        "{l:?} has a cell at {s}; headers at {header:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn bold_headers_stay_aligned() {
        let plain = table(Some(80));
        let bold = render(
            &GRANT_HEADERS,
            &grant_rows(),
            &give(&GRANT_HEADERS),
            Style {
                width: Some(80),
                headers: true,
                bold: true,
            },
        );
        let stripped = bold[0].replace("\x1b[1m", "").replace("\x1b[0m", "");
        assert_eq!(stripped, plain[0]);
        assert!(bold[0].starts_with("\x1b[1mPRINCIPAL\x1b[0m"));
    }

    #[test]
    fn principals_and_roles_are_cut_last() {
        let lines = table(Some(100));
        // The short principals and every role stay whole; the long group names give way first.
        assert!(lines[1].starts_with("ada.lovelace@acme.example  "));
        assert!(lines.iter().any(|l| l.contains("Source Read-only")));
        assert!(lines[4].contains("group:An…") || lines[4].contains("group:An Extremely"));
        let ids = render(
            &["ID", "NAME", "EMAIL"],
            &[row(&[
                "5Bcmo9zE0hLOBt9e4oFbE8",
                "Alan Turing",
                "alan.turing@acme.example",
            ])],
            &give(&["ID", "NAME", "EMAIL"]),
            Style {
                width: Some(50),
                headers: true,
                bold: false,
            },
        );
        assert!(ids[1].contains("alan.turing@acme.example"), "{ids:?}");
        assert!(ids[1].contains("Alan Turing"), "{ids:?}");
        assert!(ids[1].starts_with("5Bcmo9z"), "{ids:?}");
        assert!(ids[1].contains('…'), "{ids:?}");
    }

    #[test]
    fn one_long_value_does_not_squash_the_others() {
        for width in [80, 120] {
            let lines = table(Some(width));
            // Every header stays on one line, whole; every role stays whole.
            for h in GRANT_HEADERS {
                assert!(lines[0].contains(h), "{h} in {:?}", lines[0]);
            }
            for r in [
                "Workspace Owner",
                "Source Admin",
                "Source Read-only",
                "Engage Read-only",
            ] {
                assert!(lines.iter().any(|l| l.contains(r)), "{r} at {width}");
            }
            // The outlier is cut; the ordinary principals keep at least twenty columns.
            assert!(
                lines[4]
                    .split("  ")
                    .next()
                    .is_some_and(|p| p.ends_with('…'))
            );
            for l in &lines[1..] {
                let principal = l.split("  ").next().unwrap_or_default();
                assert!(principal.width() >= 20, "{l:?}");
            }
        }
        let at_120 = table(Some(120));
        for (l, p) in at_120[1..4].iter().zip([
            "ada.lovelace@acme.example",
            "alan.turing@acme.example",
            "barbara.liskov@acme.example",
        ]) {
            assert!(l.starts_with(&format!("{p}  ")), "{l:?}");
        }
        assert!(
            at_120.iter().any(|l| l.contains("environment=prod")),
            "{at_120:#?}"
        );
    }

    #[test]
    fn cut_prefers_spaces_and_never_exceeds() {
        assert_eq!(cut("group:Data Engineering", 30), "group:Data Engineering");
        assert_eq!(cut("group:Data Engineering", 15), "group:Data…");
        assert_eq!(cut("source:Backend Node", 15), "source:Backend…");
        assert_eq!(cut("abcdefghij", 5), "abcd…");
        assert_eq!(cut("abc", 1), "…");
        assert_eq!(cut("abc", 0), "");
        assert_eq!(
            cut("Tracking Plan Admin, Source Admin", 21),
            "Tracking Plan Admin…"
        );
    }

    #[test]
    fn wide_characters_count_as_two_columns() {
        let s = "数据工程团队-分析";
        assert_eq!(s.width(), 17);
        let c = cut(s, 8);
        assert!(c.width() <= 8, "{c}");
        assert!(c.ends_with('…'));
        let lines = render(
            &["NAME", "ID"],
            &[row(&[s, "x1"]), row(&["ab", "x2"])],
            &[CUT_LAST, CUT_FIRST],
            Style {
                width: None,
                headers: true,
                bold: false,
            },
        );
        // The second column starts at the same terminal column on every line.
        let col = |l: &str| l[..l.rfind('x').unwrap_or(0)].width();
        assert_eq!(col(&lines[1]), col(&lines[2]));
        assert_eq!(
            lines[0].find("ID").map(|i| lines[0][..i].width()),
            Some(col(&lines[1]))
        );
    }

    #[test]
    fn wrap_breaks_only_at_spaces() {
        let text = "not held directly; held through group Mobile Team: remove the membership";
        let lines = wrap(text, 24);
        assert!(lines.iter().all(|l| l.width() <= 24), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap("averyveryverylongword x", 8), vec!["averyve…", "x"]);
    }

    #[test]
    fn messages_wrap_before_anything_is_cut() {
        let headers = [
            "PRINCIPAL",
            "ACTION",
            "ROLE",
            "RESOURCE",
            "LABELS",
            "STATUS",
            "MESSAGE",
        ];
        let rows = vec![row(&[
            "alan.turing@acme.example",
            "revoke",
            "Source Admin",
            "workspace",
            "",
            "noop",
            "holds Source Admin on source:Website Prod, source:iOS App; add --on",
        ])];
        let lines = render(
            &headers,
            &rows,
            &give(&headers),
            Style {
                width: Some(100),
                headers: true,
                bold: false,
            },
        );
        assert!(lines.len() > 2, "{lines:#?}");
        assert!(lines.iter().all(|l| l.width() <= 100));
        assert!(!lines.iter().any(|l| l.contains('…')), "{lines:#?}");
        let message_col = lines[0].find("MESSAGE").expect("header");
        for l in &lines[2..] {
            assert_eq!(l.find(|c: char| c != ' '), Some(message_col), "{l:?}");
        }
    }

    #[test]
    fn without_headers_only_rows() {
        let lines = render(
            &GRANT_HEADERS,
            &grant_rows(),
            &give(&GRANT_HEADERS),
            Style {
                width: None,
                headers: false,
                bold: false,
            },
        );
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("ada.lovelace@acme.example "));
    }

    #[test]
    fn empty_columns_are_left_out_only_when_space_runs_out() {
        let headers = ["PRINCIPAL", "ROLE", "LABELS", "VIA"];
        let rows = vec![row(&[
            "alan.turing@acme.example",
            "Source Admin",
            "",
            "group:Mobile Team",
        ])];
        let style = |width| Style {
            width,
            headers: true,
            bold: false,
        };
        let wide = render(&headers, &rows, &give(&headers), style(Some(120)));
        assert!(wide[0].contains("LABELS"), "{wide:?}");
        let narrow = render(&headers, &rows, &give(&headers), style(Some(60)));
        assert!(!narrow[0].contains("LABELS"), "{narrow:?}");
        assert_eq!(
            narrow[1],
            "alan.turing@acme.example  Source Admin  group:Mobile Team"
        );
        let piped = render(&headers, &rows, &give(&headers), style(None));
        assert!(piped[0].contains("LABELS"), "{piped:?}");
    }

    #[test]
    fn too_narrow_for_minimums_still_fits() {
        let lines = table(Some(24));
        for l in &lines {
            assert!(l.width() <= 24, "{l:?}");
        }
    }
}
