//! Making attacker-controlled text harmless in each output: one line for email headers and
//! labelled lines, Slack-escaped for Chatbot.
//!
//! Everything that comes from a CloudTrail record (user agent, request parameters, ARNs, user
//! names, even the event name of a forged record) is attacker-controlled.
use super::chars;

/// Text on one line: control characters (CR, LF, tab, ...), Unicode line/paragraph separators,
/// and invisible characters (format characters such as bidirectional overrides, zero-width
/// spaces, the soft hyphen and tags; noncharacters) are replaced by visible escapes (`\n`,
/// `\u{202e}`, `\u{200b}`), so a value can neither start a new email header or body line, nor
/// reorder what is displayed around it, nor hide or disguise text (`adm\u{200b}in` is not `admin`).
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hazard(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Control characters, line/paragraph separators, and invisible characters: every format (Cf)
/// character, bidi controls (trojan-source style) among them, tags and noncharacters.
fn is_hazard(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || chars::is_invisible(c)
}

/// Printable ASCII only, for fields that must be ASCII (the SNS subject): hazards become spaces, Latin letters and common typography are transliterated (`é` → `e`,
/// `…` → `...`), any other character becomes `?`.
pub fn ascii_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if is_hazard(c) => out.push(' '),
            c if c.is_ascii() => out.push(c),
            c => out.push_str(chars::ascii_fold(c).unwrap_or("?")),
        }
    }
    out
}

/// At most `max` characters: longer text is cut and ends with `...` (within `max`), for text
/// that must stay ASCII (see [`ascii_line`]).
pub fn truncate_ascii(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let dots = max.min(3);
    let mut out: String = s.chars().take(max - dots).collect();
    out.extend(std::iter::repeat_n('.', dots));
    out
}

/// At most `max` characters: longer text is cut at a character boundary and ends with `…`.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let mut out: String = s.chars().take(keep).collect();
    if max > 0 {
        out.push('…');
    }
    out
}

/// Slack's required escapes: `&`, `<`, `>` (<https://api.slack.com/reference/surfaces/formatting#escaping>).
/// After this, no `<!channel>`, `<@U123>` or `<http://x|y>` token can be formed.
pub fn slack_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Attacker text for a plain (non-code) Slack position: one line, escaped, and with the mrkdwn
/// markers `*_~` and the backtick replaced by look-alikes (mrkdwn has no backslash escape).
/// A bare `@here` needs no change: messages posted by apps only mention through `<!here>`
/// tokens, which the escaping already prevents.
pub fn slack_plain(s: &str) -> String {
    slack_escape(&single_line(s))
        .chars()
        .map(|c| match c {
            '*' => '∗',
            '_' => '＿',
            '~' => '∼',
            '`' => 'ˋ',
            c => c,
        })
        .collect()
}

/// Attacker text as a Slack inline code span: inside code, mrkdwn applies no formatting, so the
/// value stays copyable (underscores, asterisks); a backtick (which would close the span) becomes
/// a look-alike, and `&<>` are escaped as Slack requires everywhere.
pub fn slack_code(s: &str) -> String {
    let inner: String = slack_escape(&single_line(s))
        .chars()
        .map(|c| if c == '`' { 'ˋ' } else { c })
        .collect();
    if inner.is_empty() {
        return "`-`".to_string();
    }
    format!("`{inner}`")
}

/// Percent-encodes everything but RFC 3986 unreserved characters, for values put into URLs.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_escapes_line_breaks_and_bidi() {
        assert_eq!(
            single_line("a\r\nb\u{2028}c\u{202e}d"),
            "a\\r\\nb\\u{2028}c\\u{202e}d"
        );
    }

    #[test]
    fn single_line_escapes_every_invisible_class() {
        // U+061C, zero-width space/joiners, word joiner, BOM, soft hyphen, a tag, noncharacters,
        // another format character (U+2064 invisible plus).
        assert_eq!(
            single_line("a\u{61c}b\u{200b}\u{200c}\u{200d}\u{2060}\u{feff}\u{ad}c\u{e0041}\u{fffe}\u{ffff}\u{2064}d"),
            "a\\u{61c}b\\u{200b}\\u{200c}\\u{200d}\\u{2060}\\u{feff}\\u{ad}c\\u{e0041}\\u{fffe}\\u{ffff}\\u{2064}d"
        );
    }

    #[test]
    fn ascii_line_transliterates_and_replaces() {
        assert_eq!(
            ascii_line("Zoë Łukasz “Ø” – 日本\u{200b}\r\n…"),
            "Zoe Lukasz \"O\" - ??   ..."
        );
    }

    #[test]
    fn truncate_ascii_cuts_with_three_dots() {
        assert_eq!(truncate_ascii("abcdefgh", 6), "abc...");
        assert_eq!(truncate_ascii("abcdef", 6), "abcdef");
        assert_eq!(truncate_ascii("abcdef", 2), "..");
    }

    #[test]
    fn ascii_line_replaces_hazards_with_spaces() {
        assert_eq!(ascii_line("a\r\nb\u{2028}c\u{202e}d\\n"), "a  b c d\\n");
    }

    #[test]
    fn truncate_chars_cuts_at_char_boundary_with_ellipsis() {
        assert_eq!(truncate_chars("ééééé", 3), "éé…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }

    #[test]
    fn slack_plain_neutralises_tokens_and_markers() {
        let s = slack_plain("<!channel> *b* _i_ ~s~ `c` @here <http://x|y> &");
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('*') && !s.contains('_'));
        assert!(!s.contains('~') && !s.contains('`'));
        assert!(s.contains("&lt;!channel&gt;") && s.ends_with("&amp;"));
    }

    #[test]
    fn slack_code_keeps_the_span_closed() {
        assert_eq!(slack_code("a`b<c>"), "`aˋb&lt;c&gt;`");
        assert_eq!(slack_code(""), "`-`");
    }

    #[test]
    fn percent_encode_keeps_unreserved_only() {
        assert_eq!(percent_encode("db-1_a.b~c/d e#"), "db-1_a.b~c%2Fd%20e%23");
    }
}
