//! The triage guide (Markdown) as clean plain text for email.
//!
//! Elastic's guides use a small part of Markdown: ATX headings, `-` lists, `>` blockquotes,
//! `**bold**`, `` `code` ``, links, and the odd fenced block. Line structure is kept (no
//! re-wrapping), so every line of the guide is still there, only without markup.

/// Renders Markdown to plain text: headings underlined (`=` for levels 1–2, `-` below), list
/// bullets as `- ` (indentation kept), blockquote `>` removed, emphasis and code markers removed,
/// links as `text (url)`, fenced code indented by four spaces, runs of blank lines collapsed.
pub fn to_plain_text(markdown: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_fence = false;
    for raw in markdown.lines() {
        let trimmed = raw.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push(format!("    {raw}"));
            continue;
        }
        let line = strip_blockquote(raw);
        let indent_len = line.len() - line.trim_start().len();
        let (indent, body) = line.split_at(indent_len);
        if let Some((level, text)) = heading(body) {
            let text = inline(text);
            if out.last().is_some_and(|l| !l.is_empty()) {
                out.push(String::new());
            }
            let underline = if level <= 2 { "=" } else { "-" };
            let width = text.chars().count();
            out.push(text);
            out.push(underline.repeat(width));
            continue;
        }
        if is_rule(body) {
            out.push("-".repeat(20));
            continue;
        }
        let rendered = match list_item(body) {
            Some(item) => format!("{indent}- {}", inline(item)),
            None => format!("{indent}{}", inline(body)),
        };
        let rendered = rendered.trim_end().to_string();
        if rendered.is_empty() && out.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        out.push(rendered);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// Removes any number of leading `>` quote markers (with their following space).
fn strip_blockquote(line: &str) -> &str {
    let mut rest = line;
    loop {
        let t = rest.trim_start();
        match t.strip_prefix('>') {
            Some(after) => rest = after.strip_prefix(' ').unwrap_or(after),
            None => return rest,
        }
    }
}

/// `# Title` … `###### Title` (an ATX heading needs a space after the hashes).
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &line[level..];
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    Some((level, rest.trim().trim_end_matches('#').trim_end()))
}

fn is_rule(line: &str) -> bool {
    let t: String = line.chars().filter(|c| *c != ' ').collect();
    t.len() >= 3
        && ["---", "***", "___"]
            .iter()
            .any(|m| t.chars().all(|c| m.starts_with(c)))
}

/// The text of a `- `, `* ` or `+ ` list item.
fn list_item(line: &str) -> Option<&str> {
    ["- ", "* ", "+ "].iter().find_map(|m| line.strip_prefix(m))
}

/// Inline markup: code spans keep their text verbatim (minus backticks); outside code, `**`/`__`
/// bold markers are removed and `[text](url)` becomes `text (url)` (`![alt](url)` likewise).
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`') {
            if let Some(end) = after.find('`') {
                out.push_str(&after[..end]);
                rest = &after[end + 1..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix("**").or_else(|| rest.strip_prefix("__")) {
            rest = after;
            continue;
        }
        let link_start = rest.strip_prefix("![").or_else(|| rest.strip_prefix('['));
        if let Some((label, url, after)) = link_start.and_then(link) {
            let label = inline(label);
            if label.is_empty() || label == url {
                out.push_str(url);
            } else {
                out.push_str(&format!("{label} ({url})"));
            }
            rest = after;
            continue;
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// After an opening `[`: `label](url)` → (label, url, rest).
fn link(s: &str) -> Option<(&str, &str, &str)> {
    let close = s.find("](")?;
    let label = &s[..close];
    if label.contains('[') || label.contains(']') {
        return None;
    }
    let after = &s[close + 2..];
    let end = after.find(')')?;
    let url = after[..end].trim();
    if url.contains(char::is_whitespace) {
        return None;
    }
    Some((label, url, &after[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_underlined() {
        assert_eq!(to_plain_text("## Triage\ntext"), "Triage\n======\ntext");
        assert_eq!(to_plain_text("### Steps"), "Steps\n-----");
    }

    #[test]
    fn blockquote_bold_and_code_markers_are_removed() {
        assert_eq!(
            to_plain_text("> **Disclaimer**:\n> see `event.action:StartExportTask`"),
            "Disclaimer:\nsee event.action:StartExportTask"
        );
    }

    #[test]
    fn lists_keep_dash_and_indentation() {
        assert_eq!(to_plain_text("* a\n  + b\n- c"), "- a\n  - b\n- c");
    }

    #[test]
    fn links_become_text_and_url() {
        assert_eq!(
            to_plain_text("See [the docs](https://x.y/z) and [https://a.b](https://a.b)."),
            "See the docs (https://x.y/z) and https://a.b."
        );
    }

    #[test]
    fn code_keeps_wildcards_and_underscores() {
        assert_eq!(
            to_plain_text("`s3:*` and __init__ `a**b`"),
            "s3:* and init a**b"
        );
    }

    #[test]
    fn fences_are_indented_and_blank_runs_collapse() {
        assert_eq!(
            to_plain_text("a\n\n\n```\nx **y**\n```\n\n"),
            "a\n\n    x **y**"
        );
    }
}
