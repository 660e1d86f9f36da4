//! The harden intent the harden tests start from: API clients and management prefixes given,
//! everything else as `tikguard harden` defaults it (a generated certificate, the config's own
//! version as the target, 7.18 when it has none). Included by path, as it needs none of
//! `common/mod.rs`.
#![allow(dead_code)]

use routeros_config::{Config, Version};
use tikguard::audit::WanChoice;
use tikguard::harden::{CertPlan, Intent, Prefix};

pub fn intent(c: &Config, clients: &[&str], mgmt: &[&str]) -> Intent {
    Intent {
        api_clients: clients.iter().map(|p| Prefix::parse(p).unwrap()).collect(),
        mgmt: mgmt.iter().map(|p| Prefix::parse(p).unwrap()).collect(),
        wan: WanChoice::default(),
        api_port: None,
        cert: CertPlan::Generate,
        syslog: None,
        target: c.version.clone().unwrap_or_else(|| Version::new(7, 18, 0)),
        api_user: None,
        create_api_user: false,
        password_in_script: None,
        api_group: None,
        replace_allow_lists: false,
        keep_plain_api: false,
        mgmt_interfaces: vec![],
    }
}

/// The insecure guide's intent: the CRM at 198.51.100.20, management from its LAN.
pub fn guide_intent(c: &Config) -> Intent {
    intent(c, &["198.51.100.20"], &["192.168.88.0/24"])
}
