//! Every real export of the corpus (`testdata/corpus`, and `TIKGUARD_SHARED`'s when set) parses without a panic, with the version its header
//! gives, and with diagnostics exactly where the file is really broken. A handful chosen for their
//! oddities are snapshot-tested in full (model, diagnostics, warnings).

use routeros_config::{dump::dump, Config};

#[path = "../../../testdata/corpus.rs"]
mod corpus;

/// Files that are broken on purpose, and how many diagnostics each must give.
const BROKEN: &[(&str, usize)] = &[
    // comment="Jump to IN-LAN" rules" — an unbalanced quote.
    (
        "Disassembler0__mikrotik-scripts__firewall__firewall-input.rsc",
        1,
    ),
    // `/system default-configuration print` output pasted after an export header.
    ("eugenesamoilov__default_config_mikrotik__config.rsc", 3),
    // Five `//` comment lines.
    ("joaobilck__firewall-mikrotik__firewall.rsc", 5),
];

#[test]
fn every_corpus_file_parses_with_its_header_version_and_only_real_errors() {
    let entries = corpus::corpus();
    assert!(entries.len() >= 17, "the corpus lists {}", entries.len());
    let mut failures = Vec::new();
    for e in &entries {
        let bytes = std::fs::read(&e.path).unwrap();
        let (config, parsed) = Config::load(bytes);
        assert!(!parsed.statements.is_empty(), "{}: no statements", e.file);
        let got = parsed.version.as_ref().map(|v| v.to_string());
        let want = (e.version != "unknown").then(|| e.version.clone());
        if got != want {
            failures.push(format!(
                "{}: version {got:?}, manifest says {want:?}",
                e.file
            ));
        }
        let expected = BROKEN
            .iter()
            .find(|(f, _)| *f == e.file)
            .map_or(0, |(_, n)| *n);
        if parsed.diagnostics.len() != expected {
            failures.push(format!(
                "{}: {} diagnostics, expected {expected}: {:?}",
                e.file,
                parsed.diagnostics.len(),
                parsed.diagnostics.iter().take(3).collect::<Vec<_>>()
            ));
        }
        // The model always has the default services (7.19+ adds `reverse-proxy`).
        assert!(config.items("/ip service").len() >= 8, "{}", e.file);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn snapshot_at(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (config, parsed) = Config::load(bytes);
    let mut out = format!("statements: {}\n", parsed.statements.len());
    for d in &parsed.diagnostics {
        out.push_str(&format!("error {}:{}: {}\n", d.line, d.column, d.message));
    }
    for w in &config.warnings {
        out.push_str(&format!("warning {}:{}: {}\n", w.line, w.column, w.message));
    }
    out.push_str(&dump(&config));
    out
}

fn snapshot_of(file: &str) -> String {
    snapshot_at(&corpus::testdata().join("corpus").join(file))
}

macro_rules! corpus_snapshot {
    ($name:ident, $file:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(snapshot_of($file));
        }
    };
}

/// Files only the larger corpus holds (their licence does not allow the repository to carry
/// them): snapshot-tested when `TIKGUARD_SHARED` gives them.
fn larger_snapshot_of(file: &str) -> Option<String> {
    corpus::find(file).map(|p| snapshot_at(&p))
}

macro_rules! larger_corpus_snapshot {
    ($name:ident, $file:expr) => {
        #[test]
        fn $name() {
            match larger_snapshot_of($file) {
                Some(s) => insta::assert_snapshot!(s),
                None => eprintln!("{} is in the larger corpus only (TIKGUARD_SHARED)", $file),
            }
        }
    };
}

// Continuations written as backslash-space, `:for` loops around commands.
corpus_snapshot!(
    backslash_space_and_for_loops,
    "strannick-ru__mikrotik__simple-qos-for-home.rsc"
);
// The unbalanced quote: the rule is left out, the rest of the chain is kept.
corpus_snapshot!(
    unbalanced_quote,
    "Disassembler0__mikrotik-scripts__firewall__firewall-input.rsc"
);
// A menu alone on one line with the command on the next (`/tool` then `mac-server set`).
larger_corpus_snapshot!(
    menu_then_relative_command,
    "luminosita__snapshot-hetzner-mikrotik__mikrotik-common__rsc__secure.rsc"
);
// v7 slash paths and `:if` guards around them.
larger_corpus_snapshot!(
    v7_slash_paths_and_guards,
    "serg123e__acerko-freewifi__hotspot.rsc"
);
// `*FFFFFFFE` item references, wireguard, CRLF.
larger_corpus_snapshot!(internal_id_refs, "micaelaman__Mikrotik__fig.cfg.rsc");
// A UTF-8 BOM and non-ASCII comments.
larger_corpus_snapshot!(bom_and_utf8, "Pancho-uy__MK__SOLO_FACEBOOK_MESSENGER.rsc");
// Bare `global` without a colon, `[find where comment=...]`.
larger_corpus_snapshot!(bare_global, "leon-m__router-config__config__isp.rsc");
// Script sources with `\r\n` and `\"` escapes split by continuations.
larger_corpus_snapshot!(script_sources, "sdamo__dude_fonts__fonts.rsc");
// Windows-1251 bytes in comments, kept as bytes.
larger_corpus_snapshot!(windows_1251, "Defm__mikrobackups__scripts__SAT1.rsc.txt");
// `/system default-configuration print` output pasted into an export.
larger_corpus_snapshot!(
    pasted_print_output,
    "eugenesamoilov__default_config_mikrotik__config.rsc"
);

/// The oddities of the files above that only the larger corpus holds, written small for the
/// repository (`testdata/oddities/`), so a fresh clone tests them too.
macro_rules! oddity_snapshot {
    ($name:ident, $file:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(snapshot_at(
                &corpus::testdata().join("oddities").join($file)
            ));
        }
    };
}

oddity_snapshot!(oddity_bom_and_utf8, "bom-and-utf8.rsc");
oddity_snapshot!(oddity_windows_1251, "windows-1251.rsc");
oddity_snapshot!(oddity_bare_global, "bare-global.rsc");
oddity_snapshot!(
    oddity_menu_then_relative_command,
    "menu-then-relative-command.rsc"
);
oddity_snapshot!(
    oddity_v7_slash_paths_and_guards,
    "v7-slash-paths-and-guards.rsc"
);
oddity_snapshot!(oddity_internal_id_refs, "internal-id-refs.rsc");
oddity_snapshot!(oddity_script_sources, "script-sources.rsc");
oddity_snapshot!(oddity_pasted_print_output, "pasted-print-output.rsc");
