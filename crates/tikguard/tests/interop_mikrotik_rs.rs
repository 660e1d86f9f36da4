//! Interop with the `mikrotik-rs` crate (crates.io), a RouterOS API client nobody here wrote:
//! login, a `?disabled=no` query, RouterOS' traps for duplicates and unknown parameters, and a
//! print that finds nothing on 7.18+ (`!empty` then `!done`, which several clients broke on)
//! followed by more commands on the same connection.

use std::collections::HashMap;
use std::time::Duration;

use mikrotik_rs::{CommandBuilder, Event, MikrotikDevice};
use routeros_config::Config;
use tikguard::emu;

const EXPORT: &str = "# 2025-01-01 00:00:00 by RouterOS 7.18.2
/ppp profile
add name=plan-10M
/ppp secret
add name=cust1 password=s1 profile=plan-10M
add name=cust2 password=s2 disabled=yes
";

/// Every event of one command, until it ends (done, empty-then-done, or trap).
async fn run(device: &MikrotikDevice, cmd: mikrotik_rs::Command) -> Vec<Event> {
    let mut rx = device.send_command(cmd).await.unwrap();
    let mut events = Vec::new();
    loop {
        let e = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("the command ends");
        match e {
            Some(e @ (Event::Done { .. } | Event::Trap { .. } | Event::Fatal { .. })) => {
                events.push(e);
                return events;
            }
            Some(e) => events.push(e),
            None => return events,
        }
    }
}

fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Reply { response, .. } => response.attributes.get("name").cloned().flatten(),
            _ => None,
        })
        .collect()
}

fn trap(events: &[Event]) -> String {
    events
        .iter()
        .find_map(|e| match e {
            Event::Trap { response, .. } => Some(response.message.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no trap in {events:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mikrotik_rs_talks_to_the_emulator_as_a_crm_does() {
    let (config, _) = Config::load(EXPORT.as_bytes().to_vec());
    let pw: HashMap<String, String> = [("admin".to_string(), "mrs-pass".to_string())].into();
    let e = emu::start(
        emu::router_from(config, pw, None),
        emu::Options {
            api: Some("127.0.0.1:0".parse().unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let addr = e.api.unwrap();
    assert!(
        MikrotikDevice::connect(addr, "admin", Some("wrong"))
            .await
            .is_err(),
        "a wrong password is refused"
    );
    let device = MikrotikDevice::connect(addr, "admin", Some("mrs-pass"))
        .await
        .unwrap();

    let active = run(
        &device,
        CommandBuilder::new()
            .command("/ppp/secret/print")
            .query_equal("disabled", "no")
            .build(),
    )
    .await;
    assert_eq!(names(&active), ["cust1"]);

    let dup = run(
        &device,
        CommandBuilder::new()
            .command("/ppp/secret/add")
            .attribute("name", Some("cust1"))
            .attribute("password", Some("x"))
            .build(),
    )
    .await;
    assert_eq!(
        trap(&dup),
        "failure: secret with the same name already exists"
    );

    let unknown = run(
        &device,
        CommandBuilder::new()
            .command("/ppp/secret/add")
            .attribute("name", Some("cust9"))
            .attribute("bogusattr", Some("1"))
            .build(),
    )
    .await;
    assert_eq!(trap(&unknown), "unknown parameter");

    // A print that finds nothing: `!empty` then `!done` on 7.18+.
    let none = run(
        &device,
        CommandBuilder::new()
            .command("/ppp/secret/print")
            .query_equal("name", "nobody")
            .build(),
    )
    .await;
    assert!(names(&none).is_empty());
    assert!(
        none.iter().any(|e| matches!(e, Event::Empty { .. })),
        "{none:?}"
    );
    // The connection is still usable after it.
    let all = run(
        &device,
        CommandBuilder::new().command("/ppp/secret/print").build(),
    )
    .await;
    assert_eq!(names(&all), ["cust1", "cust2"]);
}
