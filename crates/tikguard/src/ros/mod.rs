//! RouterOS script text, below both the audit and harden: the quoting every value goes through
//! ([`script::value`]), typed statements and `find` conditions ([`script`]), and where a new
//! firewall rule goes ([`placement`]). The audit's pasteable fixes and harden's plans are written
//! with the same functions, so a fix line and a plan line never disagree on quoting or order.

pub mod placement;
pub mod script;

/// Marks what tikguard added (a rule's `comment`, an address-list entry's), so that a later run,
/// the rollback and the audit recognise it.
pub const TAG: &str = "tikguard:";

/// The address lists harden's accepts trust: management's and the API clients'. Whatever is
/// in them reaches the management ports, so harden writes their entries itself and refuses
/// anything else that puts sources there (`harden::foreign`).
pub const TRUSTED_LISTS: &[&str] = &["tikguard-mgmt", "tikguard-api-clients"];

#[cfg(test)]
mod tests {
    /// The audit sits below harden: it may use `ros` (quoting, placement) but never `harden`,
    /// so that harden can import the audit's model without a cycle in the house.
    #[test]
    fn the_audit_never_names_harden() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/audit");
        let mut stack = vec![root];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    seen += 1;
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (n, line) in text.lines().enumerate() {
                        assert!(
                            !line.contains("crate::harden"),
                            "{}:{}: {line}",
                            path.display(),
                            n + 1
                        );
                    }
                }
            }
        }
        assert!(seen > 20, "read {seen} audit files");
    }
}
