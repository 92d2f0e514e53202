//! Embeds the rule files: `rules/*.toml` always, plus every `*.toml` under the directory named by
//! `TRAILWATCH_EXTRA_RULES` (recursive) when set at build time. The files are parsed once at cold
//! start; a file that is not compiled is reported by `trailwatch rules list` with its reason.
use std::path::{Path, PathBuf};
use std::{env, fs, io};

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

fn main() -> io::Result<()> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(io::Error::other)?);
    let mut project = Vec::new();
    collect(&manifest.join("rules"), &mut project)?;
    println!("cargo:rerun-if-changed=rules");
    println!("cargo:rerun-if-env-changed=TRAILWATCH_EXTRA_RULES");
    let mut extra = Vec::new();
    if let Some(dir) = env::var_os("TRAILWATCH_EXTRA_RULES").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        collect(&dir, &mut extra)?;
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    let mut code = String::from("/// (origin, file name, contents)\npub static EMBEDDED_RULES: &[(RuleOrigin, &str, &str)] = &[\n");
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
            code.push_str(&format!(
                "    (RuleOrigin::{origin}, {name:?}, include_str!({:?})),\n",
                path.display().to_string()
            ));
        }
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").map_err(io::Error::other)?);
    fs::write(out.join("embedded_rules.rs"), code)
}
