//! Reads uap-core's `regexes.yaml` (the data Elasticsearch's `user_agent` processor uses) and writes
//! it out as static tables (`$OUT_DIR/uap_regexes.rs`, included by `src/ecs/user_agent.rs`).
//!
//! The file comes from a path (env `UAP_REGEXES`, default Debian's `uap-core` package), never from
//! the repository. Without it — or if it does not read as the format below — the build goes on
//! without user-agent support and says so (`UAP_AVAILABLE = false`, a cargo warning); the ECS view
//! then leaves `user_agent.name` & co. absent and `rules list` marks the rules that read them.
//!
//! The reader is purpose-built for the one shape uap-core has used for years (no serde_yaml: it is
//! unmaintained): three top-level keys holding lists of flat maps whose values are single-quoted
//! scalars on one line. Anything else is an error, so a format change is noticed, not misread.
use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

pub const DEFAULT_PATH: &str = "/usr/share/uap-core/regexes.yaml";

#[derive(Default)]
struct Entry {
    keys: Vec<(String, String)>,
}

impl Entry {
    fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `'text'` with `''` for a quote, YAML's single-quoted scalar; a trailing comment is allowed.
fn single_quoted(s: &str) -> Option<String> {
    let rest = s.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            let tail: String = chars.collect();
            let tail = tail.trim();
            return (tail.is_empty() || tail.starts_with('#')).then_some(out);
        }
        out.push(c);
    }
    None
}

type Sections = Vec<(String, Vec<Entry>)>;

fn parse(text: &str) -> Result<Sections, String> {
    let mut sections: Sections = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad = || format!("line {}: unexpected {line:?}", n + 1);
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            let key = trimmed.strip_suffix(':').ok_or_else(bad)?;
            sections.push((key.to_string(), Vec::new()));
            continue;
        }
        let (_, entries) = sections.last_mut().ok_or_else(bad)?;
        let (new_entry, kv) = match trimmed.strip_prefix("- ") {
            Some(kv) => (true, kv),
            None => (false, trimmed),
        };
        let (key, value) = kv.split_once(": ").ok_or_else(bad)?;
        let value = single_quoted(value.trim()).ok_or_else(bad)?;
        if new_entry {
            entries.push(Entry::default());
        }
        entries
            .last_mut()
            .ok_or_else(bad)?
            .keys
            .push((key.to_string(), value));
    }
    Ok(sections)
}

fn opt(out: &mut String, v: Option<&str>) {
    match v {
        Some(s) => {
            let _ = write!(out, "Some({s:?})");
        }
        None => out.push_str("None"),
    }
}

/// Texts of which every match of `regex` starts with one, ASCII-lowercased (so they also hold
/// for the pattern made case-insensitive): the literal prefixes regex-syntax extracts from the
/// case-sensitive pattern, when it finds a finite set of non-trivial ones. A string holding none
/// of them (compared lowercased) cannot match, so the regex need not be compiled to know it.
fn prefixes(regex: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(regex)
        .ok()?;
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    let seq = extractor.extract(&hir);
    let literals = seq.literals()?;
    // An empty literal is in every string; past 64 literals the searches cost more than they save.
    if literals.is_empty() || literals.len() > 64 || literals.iter().any(|l| l.is_empty()) {
        return None;
    }
    let mut out: Vec<Vec<u8>> = literals
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// The tables, or why there are none.
fn tables(path: &Path) -> Result<(String, usize), String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let sections = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    // (section, name key, v1..v4 keys) as Elasticsearch's UserAgentParser reads them.
    let layout: [(&str, &str, &str, [Option<&str>; 4]); 3] = [
        (
            "user_agent_parsers",
            "UA_PARSERS",
            "family_replacement",
            [
                Some("v1_replacement"),
                Some("v2_replacement"),
                Some("v3_replacement"),
                Some("v4_replacement"),
            ],
        ),
        (
            "os_parsers",
            "OS_PARSERS",
            "os_replacement",
            [
                Some("os_v1_replacement"),
                Some("os_v2_replacement"),
                Some("os_v3_replacement"),
                Some("os_v4_replacement"),
            ],
        ),
        (
            "device_parsers",
            "DEVICE_PARSERS",
            "device_replacement",
            [None; 4],
        ),
    ];
    let mut code = String::new();
    let mut skipped = 0;
    for (section, konst, name_key, v_keys) in layout {
        let entries = sections
            .iter()
            .find(|(s, _)| s == section)
            .map(|(_, e)| e)
            .ok_or_else(|| format!("{}: no {section}", path.display()))?;
        let _ = writeln!(code, "pub(crate) static {konst}: &[UaPattern] = &[");
        for entry in entries {
            let regex = entry
                .get("regex")
                .ok_or_else(|| format!("{}: a {section} entry without regex", path.display()))?;
            let case_insensitive = entry.get("regex_flag") == Some("i");
            // uap-core is written for PCRE/Java; what the `regex` crate cannot parse
            // (look-around, back-references) is left out and counted: such a pattern could
            // never match here, and the next one in order is tried, as if it had not matched.
            let parses = regex_syntax::ParserBuilder::new()
                .case_insensitive(case_insensitive)
                .build()
                .parse(regex)
                .is_ok();
            if !parses {
                skipped += 1;
                println!("cargo:warning=uap-core regex skipped (unsupported syntax): {regex}");
                continue;
            }
            let _ = write!(
                code,
                "UaPattern{{regex:{regex:?},case_insensitive:{case_insensitive},pre:"
            );
            match prefixes(regex) {
                Some(lits) => {
                    code.push_str("Some(&[");
                    for l in lits {
                        let _ = write!(code, "&{l:?},");
                    }
                    code.push_str("]),");
                }
                None => code.push_str("None,"),
            }
            code.push_str("name:");
            opt(&mut code, entry.get(name_key));
            code.push_str(",v:[");
            for key in v_keys {
                opt(&mut code, key.and_then(|k| entry.get(k)));
                code.push(',');
            }
            code.push_str("]},\n");
        }
        code.push_str("];\n");
    }
    Ok((code, skipped))
}

/// Writes `uap_regexes.rs` into `out_dir`.
pub fn generate(out_dir: &Path) -> std::io::Result<()> {
    println!("cargo:rerun-if-env-changed=UAP_REGEXES");
    let path = env::var_os("UAP_REGEXES")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| DEFAULT_PATH.into());
    println!("cargo:rerun-if-changed={}", path.display());
    let code = match tables(&path) {
        Ok((tables, skipped)) => format!(
            "pub(crate) const UAP_SOURCE: Option<&str> = Some({:?});\n\
             pub(crate) const UAP_SKIPPED: usize = {skipped};\n{tables}",
            path.display().to_string()
        ),
        Err(why) => {
            println!(
                "cargo:warning=building without user_agent.* enrichment (set UAP_REGEXES or \
                 install uap-core): {why}"
            );
            "pub(crate) const UAP_SOURCE: Option<&str> = None;\n\
             pub(crate) const UAP_SKIPPED: usize = 0;\n\
             pub(crate) static UA_PARSERS: &[UaPattern] = &[];\n\
             pub(crate) static OS_PARSERS: &[UaPattern] = &[];\n\
             pub(crate) static DEVICE_PARSERS: &[UaPattern] = &[];\n"
                .to_string()
        }
    };
    fs::write(out_dir.join("uap_regexes.rs"), code)
}
