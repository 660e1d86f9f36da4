//! Reading the files named on the command line (`-` is standard input).

use std::io::Read;

/// A file's bytes (UTF-16 decoded to UTF-8, [`from_utf16`]), or an error message that names it.
pub fn read(path: &str) -> Result<Vec<u8>, String> {
    let bytes = read_raw(path)?;
    from_utf16(display_name(path), bytes)
}

/// UTF-16 text as UTF-8; other bytes unchanged. Windows PowerShell 5.1's `>` and `Out-File`
/// write UTF-16LE with a byte order mark (`FF FE`): what a Windows user gets from
/// `ssh router /export > router.rsc` ("Out-File ... Unicode: UTF-16 format using the
/// little-endian byte order", the default of Windows PowerShell, Microsoft's about_Redirection
/// and Out-File documentation). A byte order mark (`FF FE` or `FE FF`) decides; without one,
/// text whose first characters are ASCII each followed (LE) or preceded (BE) by a zero byte
/// is UTF-16 too. Unpaired surrogates are an error naming the file and the offset.
pub fn from_utf16(name: &str, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    let (le, start) = match bytes.get(..2) {
        Some([0xFF, 0xFE]) => (true, 2),
        Some([0xFE, 0xFF]) => (false, 2),
        _ => {
            let head = &bytes[..bytes.len().min(64) & !1];
            let ascii_pairs = |lo: usize| {
                head.len() >= 4
                    && head
                        .chunks(2)
                        .all(|p| p[1 - lo] == 0 && p[lo] != 0 && p[lo].is_ascii())
            };
            if ascii_pairs(0) {
                (true, 0)
            } else if ascii_pairs(1) {
                (false, 0)
            } else {
                return Ok(bytes);
            }
        }
    };
    let body = &bytes[start..];
    if body.len() % 2 != 0 {
        return Err(format!(
            "{name} is UTF-16 text with an odd number of bytes (cut short?); save it as UTF-8, e.g. `Get-Content router.rsc | Set-Content -Encoding utf8 router-utf8.rsc`"
        ));
    }
    let units = body.chunks(2).map(|p| {
        if le {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    let mut out = String::with_capacity(body.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok(c) => out.push(c),
            Err(_) => {
                return Err(format!(
                    "{name} is UTF-16 text with an invalid character at byte {}; save it as UTF-8",
                    start + 2 * i
                ))
            }
        }
    }
    Ok(out.into_bytes())
}

fn read_raw(path: &str) -> Result<Vec<u8>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, le: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend(if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
        }
        for u in text.encode_utf16() {
            out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    const EXPORT: &str =
        "# by RouterOS 7.12.1\r\n/ip service\r\nset telnet disabled=yes comment=\"caf\u{e9}\"\r\n";

    /// What Windows PowerShell's `>` writes (UTF-16LE with a BOM) reads as the export it holds;
    /// before, it was refused as binary data.
    #[test]
    fn utf16_with_a_bom_as_powershell_writes_it_is_decoded() {
        for le in [true, false] {
            let got = from_utf16("r.rsc", utf16(EXPORT, le, true)).unwrap();
            assert_eq!(got, EXPORT.as_bytes(), "le={le}");
            check_bytes("r.rsc", &got).unwrap();
        }
        assert!(check_bytes("r.rsc", &utf16(EXPORT, true, true))
            .unwrap_err()
            .contains("binary"));
    }

    #[test]
    fn utf16_without_a_bom_is_recognised_by_its_zero_bytes() {
        for le in [true, false] {
            let got = from_utf16("r.rsc", utf16(EXPORT, le, false)).unwrap();
            assert_eq!(got, EXPORT.as_bytes(), "le={le}");
        }
    }

    #[test]
    fn utf8_and_binary_are_left_as_they_are() {
        assert_eq!(from_utf16("r", EXPORT.into()).unwrap(), EXPORT.as_bytes());
        let backup = vec![0x88, 0xAC, 0xA1, 0xB1, 0, 0, 0, 0];
        assert_eq!(from_utf16("r", backup.clone()).unwrap(), backup);
    }

    #[test]
    fn broken_utf16_is_named_as_utf16() {
        let mut odd = utf16(EXPORT, true, true);
        odd.push(b'x');
        assert!(from_utf16("r.rsc", odd)
            .unwrap_err()
            .contains("r.rsc is UTF-16"));
        let lone = vec![0xFF, 0xFE, b'/', 0, 0x00, 0xD8, b'a', 0];
        let e = from_utf16("r.rsc", lone).unwrap_err();
        assert!(e.contains("UTF-16") && e.contains("byte 4"), "{e}");
    }
}
