//! README's sample outputs are what the tool prints: each `$ tikguard ...` line of a console
//! block that is followed by output is run from the repository root, and every line shown must
//! come out, in order (a line `...` stands for lines left out, `...` within a line for the
//! text left out there). Outputs written with `-o`/`--rollback` go to a temporary directory.

use std::process::Command;

struct Sample {
    args: Vec<String>,
    lines: Vec<String>,
}

fn samples() -> Vec<Sample> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut out: Vec<Sample> = Vec::new();
    let mut in_console = false;
    let mut lines = readme.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("```") {
            in_console = line == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ tikguard ") {
            let mut cmd = cmd.to_string();
            while cmd.ends_with('\\') {
                cmd.pop();
                cmd.push_str(lines.next().unwrap_or_default().trim());
                cmd.push(' ');
            }
            out.push(Sample {
                args: cmd.split_whitespace().map(str::to_string).collect(),
                lines: Vec::new(),
            });
        } else if line.starts_with('$') {
            out.push(Sample {
                args: Vec::new(),
                lines: Vec::new(),
            });
        } else if let Some(s) = out.last_mut() {
            s.lines.push(line.to_string());
        }
    }
    out.retain(|s| {
        !s.args.is_empty()
            && !s.lines.is_empty()
            && s.args.iter().any(|a| a.starts_with("examples/"))
            && !s.args.iter().any(|a| a.ends_with('&'))
    });
    out
}

/// `line` is `want`, with any `...` of `want` standing for text left out.
fn matches(line: &str, want: &str) -> bool {
    let parts: Vec<&str> = want.split("...").collect();
    if parts.len() == 1 {
        return line == want;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || !line.ends_with(last) || line.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn the_sample_matcher_takes_elisions_and_nothing_else() {
    assert!(matches("a b c", "a b c"));
    assert!(matches("a b c d", "a ...d"));
    assert!(matches("a b c d", "a ...c..."));
    assert!(!matches("a b c d", "a b c"));
    assert!(!matches("a b", "a ...c"));
}

#[test]
fn readme_sample_outputs_are_what_the_tool_prints() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let samples = samples();
    let commands: Vec<String> = samples.iter().map(|s| s.args[0].clone()).collect();
    for want in ["audit", "harden", "parse"] {
        assert!(
            commands.iter().any(|c| c == want),
            "no {want} sample: {commands:?}"
        );
    }
    for s in &samples {
        let mut args = s.args.clone();
        for i in 1..args.len() {
            if matches!(args[i - 1].as_str(), "-o" | "--output" | "--rollback") {
                args[i] = dir.path().join(&args[i]).display().to_string();
            }
        }
        let out = Command::new(env!("CARGO_BIN_EXE_tikguard"))
            .args(&args)
            .current_dir(&root)
            .output()
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: Vec<&str> = printed.lines().collect();
        let mut at = 0;
        for want in &s.lines {
            if want.trim() == "..." {
                continue;
            }
            let found = printed[at..].iter().position(|l| matches(l, want));
            match found {
                Some(n) => at += n + 1,
                None => panic!(
                    "README's `tikguard {}` shows a line the tool does not print (in order):\n{want}\n--- printed:\n{}",
                    s.args.join(" "),
                    printed.join("\n")
                ),
            }
        }
    }
}
