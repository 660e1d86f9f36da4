//! The emulator prints what RouterOS prints, not only what the export wrote: an export lists
//! differences from the defaults, `print` over the API shows every value. Each test is named
//! after the RouterOS fact it pins; the sources are in `emu::defaults`.

use std::collections::HashMap;

use routeros_api::{Client, Error, Options, Security};
use routeros_config::Config;
use tikguard::emu;

async fn serve(export: &str) -> Client {
    let text = format!("{export}/user\nadd name=reader group=full\n");
    let (config, p) = Config::load(text.into_bytes());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let pw = HashMap::from([("reader".to_string(), "reader-pass".to_string())]);
    let e = emu::start(
        emu::router_from(config, pw, None),
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = Client::connect(&Options::new(e.api.unwrap().to_string(), Security::Plain))
        .await
        .unwrap();
    c.login("reader", "reader-pass").await.unwrap();
    // The emulator's tasks outlive this function: the runtime ends them with the test.
    std::mem::forget(e);
    c
}

fn get(r: &routeros_api::Reply, k: &str) -> Option<String> {
    r.get(k).map(|v| String::from_utf8_lossy(v).into_owned())
}

#[tokio::test]
async fn a_settings_menu_the_export_does_not_mention_prints_its_default_values() {
    let c = serve("# 2023-09-02 00:00:00 by RouterOS 6.49.8\n/ipv6 nd\nset [ find default=yes ] advertise-dns=no\n").await;
    let rows = c.call(&["/ipv6/settings/print"]).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(get(&rows[0], "forward").as_deref(), Some("true"));
    assert_eq!(
        get(&rows[0], "accept-router-advertisements").as_deref(),
        Some("yes-if-forwarding-disabled")
    );
    // `disable-ipv6` came with RouterOS 7.
    assert_eq!(get(&rows[0], "disable-ipv6"), None);
}

#[tokio::test]
async fn a_settings_menu_prints_the_exports_values_over_the_defaults() {
    let c =
        serve("# 2025-01-01 00:00:00 by RouterOS 7.18.2\n/ipv6 settings\nset forward=no\n").await;
    let rows = c.call(&["/ipv6/settings/print"]).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(get(&rows[0], "forward").as_deref(), Some("false"));
    assert_eq!(get(&rows[0], "disable-ipv6").as_deref(), Some("false"));
    assert_eq!(
        rows[0]
            .attrs
            .iter()
            .filter(|(k, _)| &k[..] == b"forward")
            .count(),
        1,
        "{rows:?}"
    );
}

#[tokio::test]
async fn routeros_6_without_any_ipv6_menu_has_the_ipv6_package_disabled() {
    let c = serve("# 2023-09-02 00:00:00 by RouterOS 6.49.8\n/ip address\nadd address=192.0.2.1/24 interface=ether1\n").await;
    match c.call(&["/ipv6/settings/print"]).await {
        Err(Error::Trap { message, .. }) => {
            assert!(message.contains("no such command"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // RouterOS 7 has IPv6 on whatever the export says.
    let c = serve("# 2025-01-01 00:00:00 by RouterOS 7.18.2\n").await;
    assert_eq!(c.call(&["/ipv6/settings/print"]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_builtin_security_profile_prints_its_name_and_default_flag() {
    let c = serve("# 2025-01-01 00:00:00 by RouterOS 7.18.2\n/interface wireless security-profiles\nset [ find default=yes ] supplicant-identity=MikroTik\nadd name=guest mode=none\n").await;
    let rows = c
        .call(&["/interface/wireless/security-profiles/print"])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(get(&rows[0], "name").as_deref(), Some("default"));
    assert_eq!(get(&rows[0], "default").as_deref(), Some("true"));
    assert_eq!(get(&rows[1], "name").as_deref(), Some("guest"));
    assert_eq!(get(&rows[1], "default"), None);
}

#[tokio::test]
async fn wireless_interfaces_and_ppp_clients_the_export_does_not_enable_are_disabled() {
    let c = serve("# 2025-01-01 00:00:00 by RouterOS 7.18.2\n/interface wireless\nset [ find default-name=wlan1 ] mode=ap-bridge ssid=a\nset [ find default-name=wlan2 ] disabled=no ssid=b\n").await;
    let rows = c.call(&["/interface/wireless/print"]).await.unwrap();
    let disabled: Vec<_> = rows.iter().map(|r| get(r, "disabled")).collect();
    assert_eq!(
        disabled,
        [Some("true".to_string()), Some("false".to_string())]
    );
    // PPP-family clients are created disabled too.
    let c2 = serve("# 2025-01-01 00:00:00 by RouterOS 7.18.2\n/interface pppoe-client\nadd interface=ether1 name=off user=u\nadd disabled=no interface=ether1 name=on user=u\n").await;
    let rows = c2.call(&["/interface/pppoe-client/print"]).await.unwrap();
    let disabled: Vec<_> = rows.iter().map(|r| get(r, "disabled")).collect();
    assert_eq!(
        disabled,
        [Some("true".to_string()), Some("false".to_string())]
    );
    // Other menus keep `disabled=false` as their default.
    let rows = c.call(&["/ip/service/print"]).await.unwrap();
    assert!(rows
        .iter()
        .any(|r| get(r, "disabled").as_deref() == Some("false")));
}

#[tokio::test]
async fn snmp_prints_enabled_no_when_the_export_does_not_mention_it() {
    let c = serve("# 2025-01-01 00:00:00 by RouterOS 7.18.2\n").await;
    let rows = c.call(&["/snmp/print"]).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(get(&rows[0], "enabled").as_deref(), Some("false"));
    let c = serve("# 2025-01-01 00:00:00 by RouterOS 7.18.2\n/snmp\nset enabled=yes\n").await;
    let rows = c.call(&["/snmp/print"]).await.unwrap();
    assert_eq!(get(&rows[0], "enabled").as_deref(), Some("true"));
}

#[tokio::test]
async fn dns_prints_allow_remote_requests_no_when_the_export_does_not_mention_it() {
    let c =
        serve("# 2025-01-01 00:00:00 by RouterOS 7.18.2\n/ip dns\nset servers=192.0.2.53\n").await;
    let rows = c.call(&["/ip/dns/print"]).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        get(&rows[0], "allow-remote-requests").as_deref(),
        Some("false")
    );
    assert_eq!(get(&rows[0], "servers").as_deref(), Some("192.0.2.53"));
}
