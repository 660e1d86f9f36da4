//! What the Debian package ships beside the binary, made by the binary itself:
//! `tikguard completions SHELL` and the hidden `tikguard completions --man-pages DIR` (scripts/test-deb.sh
//! installs their output and checks `man -w tikguard-audit` and bash's `tikguard au<TAB>`).

use std::process::Command;

fn tikguard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tikguard"))
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = tikguard().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in ["audit", "harden", "proxy", "watch", "completions"] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
        // The hidden generator is for packaging, not offered at the prompt.
        assert!(!text.contains("man-pages"), "{shell} offers --man-pages");
    }
    let bash = tikguard().args(["completions", "bash"]).output().unwrap();
    assert!(String::from_utf8(bash.stdout)
        .unwrap()
        .contains("complete -F _tikguard"));
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let out = tikguard()
        .args(["completions", "cmd.exe"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn man_pages_one_per_subcommand_named_by_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = tikguard()
        .args(["completions", "--man-pages"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for want in [
        "tikguard.1",
        "tikguard-audit.1",
        "tikguard-harden.1",
        "tikguard-probe.1",
        "tikguard-proxy.1",
        "tikguard-proxy-run.1",
        "tikguard-proxy-check.1",
        "tikguard-watch-run.1",
        "tikguard-completions.1",
    ] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    for n in &names {
        assert!(!n.contains("help") && !n.contains("man-pages"), "{n}");
        let page = std::fs::read_to_string(dir.path().join(n)).unwrap();
        let stem = n.trim_end_matches(".1");
        // The page's title and NAME are its own command path, as `man tikguard-proxy-run` shows.
        assert!(
            page.starts_with(&format!(
                ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH {stem} 1"
            )),
            "{n}: {}",
            &page[..page.len().min(120)]
        );
        assert!(
            page.contains(&format!("\n{} \\-", stem.replace('-', "\\-"))),
            "{n} NAME"
        );
    }
    let run = std::fs::read_to_string(dir.path().join("tikguard-proxy-run.1")).unwrap();
    assert!(run.contains("tikguard proxy run"), "synopsis: {run}");
    assert!(run.contains("\\-\\-config"));
}
