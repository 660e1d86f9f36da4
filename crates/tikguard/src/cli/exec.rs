//! `tikguard exec`: run one API command on a router and print the result.

use std::io::Write;

use super::connect::ConnectArgs;

/// Run one RouterOS API command and print its replies.
///
/// COMMAND is an API path (`/ip/service/print`); WORDS are API words: attributes
/// (`=disabled=yes`, `=.proplist=name,port`), queries (`?disabled=false`).
///
/// Examples:
///   tikguard exec 127.0.0.1:8729 /ip/service/print ?disabled=false --password-env ROS_PASS
///   tikguard exec --plain router /system/resource/print --password-file pass.txt
///   tikguard exec router /ip/address/print --format json --pin 3f:9a:...
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// `host`, `host:port` (default port 8729, or 8728 with --plain).
    router: String,
    /// API command path, e.g. /ip/service/print.
    command: String,
    /// API words: =name=value attributes and ?query words.
    words: Vec<String>,
    #[command(flatten)]
    connect: ConnectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Table,
    Json,
}

pub fn run(a: Args) -> std::io::Result<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let client = a.connect.connect(&a.router).await?;
        let mut words = vec![a.command.clone()];
        words.extend(a.words.iter().cloned());
        let words = words.into_iter().map(String::into_bytes).collect();
        client.call_words(words).await.map_err(|e| e.to_string())
    });
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tikguard: {e}");
            return Ok(1);
        }
    };
    let rows: Vec<Vec<(String, String)>> = resp
        .items
        .iter()
        .map(|r| {
            r.attrs
                .iter()
                .map(|(k, v)| {
                    (
                        String::from_utf8_lossy(k).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    )
                })
                .collect()
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match a.format {
        Format::Json => {
            let items: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                        .collect()
                })
                .collect();
            let ret = resp
                .done
                .ret()
                .map(|b| String::from_utf8_lossy(b).into_owned());
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({ "items": items, "ret": ret }),
            )?;
            writeln!(out)?;
        }
        Format::Table => {
            let mut cols: Vec<String> = Vec::new();
            for r in &rows {
                for (k, _) in r {
                    if !cols.contains(k) {
                        cols.push(k.clone());
                    }
                }
            }
            let cell = |r: &Vec<(String, String)>, c: &str| {
                r.iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| crate::term::printable(v).into_owned())
                    .unwrap_or_default()
            };
            let widths: Vec<usize> = cols
                .iter()
                .map(|c| {
                    rows.iter()
                        .map(|r| cell(r, c).chars().count())
                        .max()
                        .unwrap_or(0)
                        .max(c.len())
                        .min(40)
                })
                .collect();
            let line = |vals: Vec<String>| -> String {
                vals.iter()
                    .zip(&widths)
                    .map(|(v, w)| {
                        let v: String = v.chars().take(40).collect();
                        format!("{v:<w$}")
                    })
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            if !cols.is_empty() {
                let heads = cols
                    .iter()
                    .map(|c| crate::term::printable(c).into_owned())
                    .collect();
                writeln!(out, "{}", line(heads))?;
            }
            for r in &rows {
                writeln!(out, "{}", line(cols.iter().map(|c| cell(r, c)).collect()))?;
            }
            if let Some(ret) = resp.done.ret() {
                writeln!(
                    out,
                    "ret={}",
                    crate::term::printable(&String::from_utf8_lossy(ret))
                )?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}
