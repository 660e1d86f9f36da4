//! The output folder: `<router>.json` per router as each finishes (so an interrupted run keeps
//! what it did), then `summary.json` and one SARIF file for every router.
//!
//! Router names come from an inventory someone else may edit, and are used in paths here only
//! through [`file_name`]: `../x`, `/`, NUL and control bytes cannot leave the folder or make a
//! name no tool can handle.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::result::{RouterResult, Summary, SummaryRow};
use crate::audit::Severity;

/// The file name (without `.json`) for router `name`: letters, digits, `-`, `_` and `.` kept,
/// anything else `_`, no leading `.`; when that changed the name (or it is long), the first 8
/// hex digits of SHA-256 of the name are appended, so that two names never share a file.
pub fn file_name(name: &str) -> String {
    let mut safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if safe.starts_with('.') || safe.is_empty() {
        safe.insert(0, '_');
    }
    // `summary` is ours.
    if safe != name || safe.eq_ignore_ascii_case("summary") {
        let h = Sha256::digest(name.as_bytes());
        safe.push('-');
        safe.push_str(&hex::encode(&h[..4]));
    }
    safe
}

/// The output folder of one run.
pub struct Output {
    pub dir: PathBuf,
}

impl Output {
    /// Creates the folder (and parents); an existing folder is reused, its files replaced.
    pub fn create(dir: &Path) -> Result<Output, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Output {
            dir: dir.to_path_buf(),
        })
    }

    /// Writes `<router>.json`; returns its name in the folder.
    pub fn write_router(&self, r: &RouterResult) -> Result<String, String> {
        let file = format!("{}.json", file_name(&r.name));
        write_json(&self.dir.join(&file), r)?;
        Ok(file)
    }

    /// Writes `summary.json`, `fleet.sarif`, and the pages (`summary.html`, `<router>.html`).
    pub fn finish(&self, summary: &Summary, results: &[RouterResult]) -> Result<(), String> {
        write_json(&self.dir.join("summary.json"), summary)?;
        super::page::write(&self.dir, summary, results)?;
        let sarif = sarif(summary, results);
        write_json(&self.dir.join("fleet.sarif"), &sarif)
    }
}

fn write_json<T: serde::Serialize>(path: &Path, v: &T) -> Result<(), String> {
    // Write then rename, so that a reader (or a run interrupted mid-write) never sees half a file.
    let tmp = path.with_extension("json.tmp");
    let mut f =
        std::fs::File::create(&tmp).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    serde_json::to_writer_pretty(&mut f, v)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(b"\n")
        .and_then(|_| f.sync_data())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Reads a folder's `summary.json` and the router files it lists.
pub fn read(dir: &Path) -> Result<(Summary, Vec<RouterResult>), String> {
    let sp = dir.join("summary.json");
    let text =
        std::fs::read_to_string(&sp).map_err(|e| format!("cannot read {}: {e}", sp.display()))?;
    let summary: Summary =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", sp.display()))?;
    let mut results = Vec::with_capacity(summary.routers.len());
    for row in &summary.routers {
        if row.file.contains('/') || row.file.contains('\\') || row.file.starts_with('.') {
            return Err(format!(
                "{}: router file `{}` is not a plain file name",
                sp.display(),
                crate::term::printable(&row.file)
            ));
        }
        let p = dir.join(&row.file);
        let t =
            std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        results.push(serde_json::from_str(&t).map_err(|e| format!("{}: {e}", p.display()))?);
    }
    Ok((summary, results))
}

/// Rows for `results`, with their file names.
pub fn rows(results: &[RouterResult]) -> Vec<SummaryRow> {
    results
        .iter()
        .map(|r| SummaryRow::of(r, &format!("{}.json", file_name(&r.name))))
        .collect()
}

/// SARIF 2.1.0 over every router: one result per finding, its location the router's file in
/// the folder (`<router>.json`) and the finding's line in the router's configuration.
fn sarif(summary: &Summary, results: &[RouterResult]) -> serde_json::Value {
    use serde_json::json;
    let level = |s: Severity| match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    };
    let rules: Vec<_> = crate::audit::rules::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "help": {"text": r.summary, "markdown": r.doc},
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let mut out = Vec::new();
    for r in results {
        let file = format!("{}.json", file_name(&r.name));
        for f in &r.findings {
            out.push(json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": format!("{}: {}", r.name, f.message)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": file},
                        "region": {"startLine": f.line.unwrap_or(1)},
                    },
                    "logicalLocations": [{"name": r.name, "kind": "module"}],
                }],
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tikguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/tikguard/tikguard",
                "rules": rules,
            }},
            "properties": {"job": summary.job, "interrupted": summary.interrupted},
            "results": out,
        }],
    })
}
