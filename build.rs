//! Embeds the rule files: `rules/*.toml` always, plus every `*.toml` under the directory named by
//! `TRAILWATCH_EXTRA_RULES` (recursive) when set at build time.
//!
//! Each file is parsed here, with the crate's own `src/rules/model.rs` and the same `toml`
//! version, and written out as static data (`src/rules/embedded.rs`): parsing the TOML was nearly
//! all of the rule set's cold-start time. Compiling the queries, and every decision about which
//! rule is active, stays at run time in `src/rules/set.rs`. A file that does not parse (or holds a
//! value with no static form) is embedded as its text and compiled at run time, so it is reported
//! by `trailwatch rules list` with the same reason as before, never failing the build.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs, io};

#[allow(dead_code)] // only the serde model is used here
#[path = "src/rules/model.rs"]
mod model;

use model::{RuleFile, Technique};

#[path = "build/uap.rs"]
mod uap;

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// A value `StaticValue` cannot hold: the file is embedded as text instead.
struct NoStaticForm;

type Emit = Result<(), NoStaticForm>;

fn str_lit(out: &mut String, s: &str) {
    // `{:?}` of a str is a valid Rust string literal of the same text.
    let _ = write!(out, "{s:?}");
}

fn opt_lit(out: &mut String, s: &Option<String>) {
    match s {
        Some(s) => {
            out.push_str("Some(");
            str_lit(out, s);
            out.push(')');
        }
        None => out.push_str("None"),
    }
}

fn strs_lit(out: &mut String, v: &[String]) {
    out.push_str("&[");
    for s in v {
        str_lit(out, s);
        out.push(',');
    }
    out.push(']');
}

fn value(out: &mut String, v: &toml::Value) -> Emit {
    match v {
        toml::Value::String(s) => {
            out.push_str("StaticValue::String(");
            str_lit(out, s);
            out.push(')');
        }
        toml::Value::Integer(i) => {
            let _ = write!(out, "StaticValue::Integer({i})");
        }
        toml::Value::Boolean(b) => {
            let _ = write!(out, "StaticValue::Boolean({b})");
        }
        toml::Value::Array(a) => {
            out.push_str("StaticValue::Array(&[");
            for x in a {
                value(out, x)?;
                out.push(',');
            }
            out.push_str("])");
        }
        toml::Value::Table(t) => {
            out.push_str("StaticValue::Table(");
            table(out, t)?;
            out.push(')');
        }
        toml::Value::Float(_) | toml::Value::Datetime(_) => return Err(NoStaticForm),
    }
    Ok(())
}

fn table(out: &mut String, t: &toml::Table) -> Emit {
    out.push_str("&[");
    for (k, v) in t {
        out.push('(');
        str_lit(out, k);
        out.push(',');
        value(out, v)?;
        out.push_str("),");
    }
    out.push(']');
    Ok(())
}

fn technique(out: &mut String, t: &Technique) {
    out.push_str("StaticTechnique{id:");
    str_lit(out, &t.id);
    out.push_str(",name:");
    str_lit(out, &t.name);
    out.push_str(",reference:");
    str_lit(out, &t.reference);
    out.push_str(",subtechnique:&[");
    for s in &t.subtechnique {
        technique(out, s);
        out.push(',');
    }
    out.push_str("]}");
}

/// `Some(StaticValue::..)` of a serializable rule parameter, or `None`.
fn spec<T: serde::Serialize>(out: &mut String, v: Option<&T>) -> Option<()> {
    match v {
        None => out.push_str("None"),
        Some(v) => {
            let v = toml::Value::try_from(v).ok()?;
            out.push_str("Some(");
            value(out, &v).ok()?;
            out.push(')');
        }
    }
    Some(())
}

/// `EmbeddedFile::Parsed { .. }` for a file that deserializes, `None` otherwise.
fn parsed(text: &str) -> Option<String> {
    let file: RuleFile = toml::from_str(text).ok()?;
    // Exhaustive: a field added to `Rule` must be added here (and to `StaticRule`).
    let model::Rule {
        rule_id,
        name,
        rule_type,
        language,
        query,
        description,
        severity,
        risk_score,
        note,
        setup,
        references,
        false_positives,
        tags,
        author,
        threat,
        investigation_fields,
        building_block_type,
        from,
        new_terms,
        threshold,
        alert_suppression,
        extra,
    } = &file.rule;
    let mut out = String::from("EmbeddedFile::Parsed{maturity:");
    let maturity = file.metadata.get("maturity").and_then(|m| m.as_str());
    opt_lit(&mut out, &maturity.map(str::to_owned));
    out.push_str(",rule:StaticRule{rule_id:");
    str_lit(&mut out, rule_id);
    out.push_str(",name:");
    str_lit(&mut out, name);
    out.push_str(",rule_type:");
    str_lit(&mut out, rule_type);
    out.push_str(",language:");
    opt_lit(&mut out, language);
    out.push_str(",query:");
    opt_lit(&mut out, query);
    out.push_str(",description:");
    str_lit(&mut out, description);
    let _ = write!(
        out,
        ",severity:Severity::{severity:?},risk_score:{risk_score},note:"
    );
    opt_lit(&mut out, note);
    out.push_str(",setup:");
    opt_lit(&mut out, setup);
    for (field, list) in [
        ("references", references),
        ("false_positives", false_positives),
        ("tags", tags),
        ("author", author),
    ] {
        let _ = write!(out, ",{field}:");
        strs_lit(&mut out, list);
    }
    out.push_str(",threat:&[");
    for t in threat {
        out.push_str("StaticThreat{framework:");
        str_lit(&mut out, &t.framework);
        out.push_str(",tactic:StaticTactic{id:");
        str_lit(&mut out, &t.tactic.id);
        out.push_str(",name:");
        str_lit(&mut out, &t.tactic.name);
        out.push_str(",reference:");
        str_lit(&mut out, &t.tactic.reference);
        out.push_str("},technique:&[");
        for tech in &t.technique {
            technique(&mut out, tech);
            out.push(',');
        }
        out.push_str("]},");
    }
    out.push_str("],investigation_fields:");
    match investigation_fields {
        Some(f) => {
            out.push_str("Some(");
            strs_lit(&mut out, &f.field_names);
            out.push(')');
        }
        None => out.push_str("None"),
    }
    out.push_str(",building_block_type:");
    opt_lit(&mut out, building_block_type);
    out.push_str(",from:");
    opt_lit(&mut out, from);
    // The stateful parameters as TOML values, deserialized again at run time (a few small tables).
    out.push_str(",new_terms:");
    spec(&mut out, new_terms.as_ref())?;
    out.push_str(",threshold:");
    spec(&mut out, threshold.as_ref())?;
    out.push_str(",alert_suppression:");
    spec(&mut out, alert_suppression.as_ref())?;
    out.push_str(",extra:");
    table(&mut out, extra).ok()?;
    out.push_str("}}");
    Some(out)
}

fn main() -> io::Result<()> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(io::Error::other)?);
    let mut project = Vec::new();
    collect(&manifest.join("rules"), &mut project)?;
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-changed=src/rules/model.rs");
    println!("cargo:rerun-if-env-changed=TRAILWATCH_EXTRA_RULES");
    let mut extra = Vec::new();
    if let Some(dir) = env::var_os("TRAILWATCH_EXTRA_RULES").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        collect(&dir, &mut extra)?;
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    let mut code = String::from(
        "/// (origin, file name, the file)\npub(crate) static EMBEDDED_RULES: &[(RuleOrigin, &str, EmbeddedFile)] = &[\n",
    );
    for (origin, files, base) in [
        ("Project", &project, manifest.join("rules")),
        ("Extra", &extra, PathBuf::new()),
    ] {
        for path in files {
            let name = path
                .strip_prefix(&base)
                .unwrap_or(path)
                .display()
                .to_string();
            // Not valid UTF-8 is left to `include_str!`, which fails the build as before.
            let file = fs::read_to_string(path)
                .ok()
                .and_then(|text| parsed(&text))
                .unwrap_or_else(|| {
                    format!(
                        "EmbeddedFile::Source(include_str!({:?}))",
                        path.display().to_string()
                    )
                });
            let _ = writeln!(code, "    (RuleOrigin::{origin}, {name:?}, {file}),");
        }
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").map_err(io::Error::other)?);
    uap::generate(&out)?;
    fs::write(out.join("embedded_rules.rs"), code)
}
