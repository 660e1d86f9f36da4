//! Which API commands `fleet exec` runs without `--yes`: decided by the command's verb (the last
//! segment of its path), from a list of verbs that only read. Anything else, a verb unknown
//! here included, counts as a write: on a thousand routers a wrong guess is a thousand changes.
//!
//! The verbs are RouterOS' own (MikroTik's API manual: `print`, `getall` as the API's old name
//! for it, `get`; `export` prints the configuration; `monitor` reads a value, once with
//! `=once=`). `listen` only reads too, but never finishes, so a fleet run would end by timeout:
//! it is not listed.

/// Verbs that only read.
pub const READ_ONLY: &[&str] = &["print", "get", "getall", "export", "monitor"];

/// The verb of an API command path (`/ip/service/print` -> `print`).
pub fn verb(command: &str) -> &str {
    command.rsplit('/').next().unwrap_or("")
}

/// Whether `command` only reads the router.
pub fn is_read_only(command: &str) -> bool {
    command.starts_with('/') && READ_ONLY.contains(&verb(command))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_known_and_everything_else_is_a_write() {
        for c in [
            "/ip/service/print",
            "/system/resource/getall",
            "/export",
            "/interface/monitor",
        ] {
            assert!(is_read_only(c), "{c}");
        }
        for c in [
            "/ip/service/set",
            "/system/reboot",
            "/user/add",
            "/ip/firewall/filter/remove",
            "/tool/fetch",
            "/listen",
            "/ip/service/printx",
            "print",
            "/system/script/run",
        ] {
            assert!(!is_read_only(c), "{c}");
        }
    }
}
