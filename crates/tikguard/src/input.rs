//! Reading the files named on the command line (`-` is standard input).

use std::io::Read;

/// A file's bytes, or an error message that names it.
pub fn read(path: &str) -> Result<Vec<u8>, String> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        format!("cannot read {path}: {why}")
    })
}

/// How a path is shown in messages.
pub fn display_name(path: &str) -> &str {
    if path == "-" {
        "<stdin>"
    } else {
        path
    }
}

/// What a file must be for tikguard to read it as a RouterOS export; else why not, and what to
/// do. Checked on the bytes before parsing: an empty file, a binary `.backup` (magic numbers
/// from BigNerd95/RouterOS-Backup-Tools: `0xB1A1AC88` plaintext, `0x7291A8EF` RC4,
/// `0x7391A8EF` AES, little-endian), other binary data. Without this, each would parse to "a
/// router with defaults" and get a plausible, wrong report.
pub fn check_bytes(name: &str, bytes: &[u8]) -> Result<(), String> {
    const EXPORT_HOWTO: &str =
        "make a text export on the router with `/export file=router` and give router.rsc";
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("{name} is empty: nothing to read; {EXPORT_HOWTO}"));
    }
    let magic = bytes
        .get(..4)
        .map(|m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
    if let Some(0xB1A1_AC88 | 0x7291_A8EF | 0x7391_A8EF) = magic {
        return Err(format!(
            "{name} is a RouterOS binary backup (`/system backup`), not an export; {EXPORT_HOWTO}"
        ));
    }
    if bytes.iter().take(4096).any(|&b| b == 0) {
        return Err(format!(
            "{name} is binary data, not a RouterOS export; {EXPORT_HOWTO}"
        ));
    }
    Ok(())
}

/// After parsing: a RouterOS export has a RouterOS header or at least one statement in a menu
/// RouterOS has (`/ip ...`, `/interface ...`; [`crate::schema::is_routeros_menu`]). Text such as `Permission denied (publickey).`
/// has neither.
pub fn check_parsed(name: &str, parsed: &routeros_config::syntax::Parsed) -> Result<(), String> {
    use routeros_config::syntax::StatementKind;
    if parsed.version.is_some() {
        return Ok(());
    }
    let has_menu_command = parsed.statements.iter().any(|s| match &s.kind {
        StatementKind::Command(c) => crate::schema::is_routeros_menu(&c.menu),
        StatementKind::Menu { path } => crate::schema::is_routeros_menu(path),
        _ => false,
    });
    if parsed.version.is_some() || has_menu_command {
        return Ok(());
    }
    // RouterOS scripting (`:local`, `{ ... }`) is RouterOS, though not an export: the model
    // does not run it, so say what the result will show.
    if parsed
        .statements
        .iter()
        .any(|s| matches!(s.kind, StatementKind::Script))
    {
        eprintln!(
            "tikguard: warning: {name} is RouterOS scripting with no configuration command at top level; the analysis sees RouterOS defaults only (an export of the router it configures is what to audit)"
        );
        return Ok(());
    }
    let first = String::from_utf8_lossy(
        parsed
            .source
            .split(|&b| b == b'\n')
            .find(|l| !l.iter().all(u8::is_ascii_whitespace))
            .unwrap_or(b""),
    )
    .chars()
    .take(60)
    .collect::<String>();
    Err(format!(
        "{name} does not look like a RouterOS export (no RouterOS header, no command in a menu; it starts with `{}`); make one on the router with `/export file=router`",
        crate::term::printable(first.trim())
    ))
}

/// Reads, checks and parses an export named on the command line.
pub fn load_export(
    path: &str,
) -> Result<(routeros_config::Config, routeros_config::syntax::Parsed), String> {
    let name = display_name(path);
    let bytes = read(path)?;
    check_bytes(name, &bytes)?;
    let (config, parsed) = routeros_config::Config::load(bytes);
    check_parsed(name, &parsed)?;
    Ok((config, parsed))
}
