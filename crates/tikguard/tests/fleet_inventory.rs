//! The fleet inventory: TOML, Ansible YAML/INI, CSV, credentials never inline, --limit, --shard.

use std::path::Path;

use tikguard::fleet::inventory::{self, Credential, Defaults, Format, Limit, Shard, Tls};

fn parse(text: &str, format: Format) -> Result<inventory::Inventory, inventory::Error> {
    inventory::parse(
        text,
        format,
        Path::new("/inv/fleet.x"),
        &Defaults::default(),
    )
}

const PIN: &str = "aa00000000000000000000000000000000000000000000000000000000000001";

#[test]
fn toml_groups_carry_defaults_and_routers_override_them() {
    let inv = parse(
        &format!(
            r#"
[defaults]
user = "audit"
password_env = "FLEET_PASS"

[group.core]
password_file = "secrets/core.pass"
ca = "ca.pem"
tags = ["backbone"]

[[router]]
name = "core-1"
address = "10.0.0.1"
group = "core"

[[router]]
name = "edge-1"
address = "2001:db8::1"
port = 18729
pin = "{PIN}"
tags = ["pop-a"]
"#
        ),
        Format::Toml,
    )
    .unwrap();
    let core = &inv.routers[0];
    assert_eq!(core.user, "audit");
    assert_eq!(
        core.credential,
        Credential::File("/inv/secrets/core.pass".into())
    );
    assert_eq!(core.tls, Tls::Ca("/inv/ca.pem".into()));
    assert_eq!(core.port, 8729);
    assert_eq!(core.tags, ["backbone"]);
    assert_eq!(core.group.as_deref(), Some("core"));
    let edge = &inv.routers[1];
    assert_eq!(edge.credential, Credential::Env("FLEET_PASS".into()));
    assert_eq!(edge.tls, Tls::Pin(PIN.into()));
    assert_eq!(edge.address(), "[2001:db8::1]:18729");
}

#[test]
fn an_inline_password_is_refused_with_the_reason_and_no_value() {
    for text in [
        "[[router]]\nname = \"r\"\naddress = \"1.1.1.1\"\npassword = \"hunter2\"\n",
        "[group.g]\npassword = \"hunter2\"\n",
        "[defaults]\npassword = \"hunter2\"\n",
    ] {
        let e = parse(text, Format::Toml).unwrap_err().to_string();
        assert!(e.contains("password_env"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }
    let e = parse("name,address,password\nr,1.1.1.1,hunter2\n", Format::Csv)
        .unwrap_err()
        .to_string();
    assert!(e.contains("refused") && !e.contains("hunter2"), "{e}");
    let e = parse(
        "[all]\nr ansible_host=1.1.1.1 ansible_password=hunter2\n",
        Format::AnsibleIni,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("refused") && !e.contains("hunter2"), "{e}");
    // A vault lookup is not a password written in the inventory.
    parse(
        "[all]\nr ansible_host=1.1.1.1 ansible_password=\"{{ vault_pass }}\"\n",
        Format::AnsibleIni,
    )
    .unwrap();
}

#[test]
fn toml_errors_say_file_line_and_column() {
    let e = parse(
        "[[router]]\nname = \"r\"\naddress = \"x\"\nuser = \"u\"\npasword_env = \"x\"\n",
        Format::Toml,
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (5, 1), "{e}");
    assert!(e.to_string().starts_with("/inv/fleet.x:5:1:"), "{e}");
    let e = parse(
        "[[router]]\nname = \"r\"\naddress = \"x\"\ngroup = \"nope\"\n",
        Format::Toml,
    )
    .unwrap_err();
    assert!(e.message.contains("[group.nope]"), "{e}");
    let e = parse(
        "[[router]]\nname = \"r\"\naddress = \"x\"\n[[router]]\nname = \"r\"\naddress = \"y\"\n",
        Format::Toml,
    )
    .unwrap_err();
    assert!(e.message.contains("listed twice") && e.line == 4, "{e}");
}

#[test]
fn ansible_yaml_is_read_as_it_is() {
    let inv = parse(
        r#"
all:
  vars:
    ansible_user: netops
    tikguard_password_env: ROS_PASS
  children:
    pops:
      vars:
        ca_path: /etc/ssl/isp-ca.pem
      children:
        pop_north:
          hosts:
            north-1:
              ansible_host: 192.0.2.1
            north-2:
              ansible_host: 192.0.2.2
              ansible_port: 8730
              ansible_user: other
    lab:
      hosts:
        lab-1:
          ansible_host: 198.51.100.9
          ansible_connection: ansible.netcommon.network_cli
          ansible_port: 2222
          validate_certs: false
"#,
        Format::AnsibleYaml,
    )
    .unwrap();
    let names: Vec<&str> = inv.routers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["north-1", "north-2", "lab-1"]);
    let n1 = &inv.routers[0];
    assert_eq!(n1.host, "192.0.2.1");
    assert_eq!(n1.user, "netops");
    assert_eq!(n1.tls, Tls::Ca("/etc/ssl/isp-ca.pem".into()));
    assert_eq!(n1.credential, Credential::Env("ROS_PASS".into()));
    assert_eq!(n1.group.as_deref(), Some("pop_north"));
    assert_eq!(n1.groups, ["pop_north", "pops"]);
    let n2 = &inv.routers[1];
    assert_eq!((n2.port, n2.user.as_str()), (8730, "other"));
    // network_cli: ansible_port is the SSH port, not the API's; validate_certs=false falls back
    // to trust on first use, not to no verification.
    let lab = &inv.routers[2];
    assert_eq!(lab.port, 8729);
    assert_eq!(lab.tls, Tls::KnownRouters(None));
}

#[test]
fn ansible_ini_with_groups_children_vars_and_ranges() {
    let inv = parse(
        r#"
# routers
solo ansible_host=203.0.113.5

[access]
acc[01:03] tikguard_tags=olt,fiber

[core]
core-a ansible_host=10.0.0.1 ansible_user="ops team"

[backbone:children]
core

[backbone:vars]
tikguard_password_file=/etc/tikguard/backbone.pass
tikguard_plain=true
"#,
        Format::AnsibleIni,
    )
    .unwrap();
    let names: Vec<&str> = inv.routers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["solo", "acc01", "acc02", "acc03", "core-a"]);
    let acc = &inv.routers[2];
    assert_eq!(acc.host, "acc02");
    assert_eq!(acc.tags, ["fiber", "olt"]);
    let core = &inv.routers[4];
    assert_eq!(core.user, "ops team");
    assert_eq!(core.tls, Tls::Plain);
    assert_eq!(core.port, 8728);
    assert_eq!(core.groups, ["backbone", "core"]);
    assert_eq!(
        core.credential,
        Credential::File("/etc/tikguard/backbone.pass".into())
    );
}

#[test]
fn csv_as_noc_spreadsheets_keep_it() {
    let inv = parse(
        "name,address,port,group,tags\nr1,10.1.1.1,,pop-a,core;bgp\nr2,10.1.1.2,8730,pop-b,\n",
        Format::Csv,
    )
    .unwrap();
    assert_eq!(inv.routers[0].tags, ["bgp", "core"]);
    assert_eq!(inv.routers[1].port, 8730);
    let e = parse("name,address,port\nr1,10.1.1.1,99999\n", Format::Csv).unwrap_err();
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn command_line_defaults_fill_what_the_inventory_leaves_open() {
    let d = Defaults {
        password_env: Some("P".into()),
        plain: true,
        ..Defaults::default()
    };
    let inv = inventory::parse(
        "name,address\nr1,10.0.0.1\n",
        Format::Csv,
        Path::new("x.csv"),
        &d,
    )
    .unwrap();
    assert_eq!(inv.routers[0].credential, Credential::Env("P".into()));
    assert_eq!(inv.routers[0].address(), "10.0.0.1:8728");
}

#[test]
fn limit_picks_by_name_tag_and_group_with_wildcards_and_exclusions() {
    let inv = parse(
        "name,address,group,tags\ncore-1,a,pop-north,core\ncore-2,b,pop-south,core\nacc-1,c,pop-north,access\n",
        Format::Csv,
    )
    .unwrap();
    let names = |l: &str| -> Vec<String> {
        Limit::parse(l)
            .unwrap()
            .select(&inv)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(names("tag:core"), ["core-1", "core-2"]);
    assert_eq!(names("group:pop-*"), ["core-1", "core-2", "acc-1"]);
    assert_eq!(names("group:pop-n*,!tag:access"), ["core-1"]);
    assert_eq!(names("acc-?,core-2"), ["core-2", "acc-1"]);
    let e = Limit::parse("core-9").unwrap().select(&inv).unwrap_err();
    assert!(e.contains("matches no router"), "{e}");
}

#[test]
fn shards_partition_the_fleet_and_are_stable() {
    let names: Vec<String> = (0..1000).map(|i| format!("r{i}")).collect();
    let n = 7;
    let mut seen = vec![0u32; names.len()];
    for k in 0..n {
        let s = Shard::parse(&format!("{k}/{n}")).unwrap();
        for (i, name) in names.iter().enumerate() {
            if s.contains(name) {
                seen[i] += 1;
            }
        }
    }
    assert!(
        seen.iter().all(|c| *c == 1),
        "each router in exactly one shard"
    );
    // Pinned values: SHA-256("core-1")[..8] big-endian mod 4 and mod 1000. A change of hash
    // would move routers between shards across versions.
    assert_eq!(inventory::shard_of("core-1", 1000), shard_core1());
    assert!(Shard::parse("4/4").is_err());
    assert!(Shard::parse("0/0").is_err());
    assert!(Shard::parse("1-4").is_err());
}

fn shard_core1() -> u32 {
    // sha256("core-1") computed independently (sha256sum), first 8 bytes big-endian, mod 1000.
    let hex = include_str!("fleet/core-1.sha256").trim();
    let v = u64::from_str_radix(&hex[..16], 16).unwrap();
    (v % 1000) as u32
}

#[test]
fn harden_prefixes_come_from_router_group_or_defaults_in_every_format() {
    let inv = parse(
        r#"
[defaults]
api_clients = ["198.51.100.20"]

[group.pop]
mgmt = ["10.20.0.0/24"]

[[router]]
name = "pop-1"
address = "10.0.0.1"
group = "pop"

[[router]]
name = "pop-2"
address = "10.0.0.2"
group = "pop"
mgmt = ["10.30.0.0/24", "10.31.0.0/24"]
api_clients = ["203.0.113.7"]

[[router]]
name = "core-1"
address = "10.0.0.3"
"#,
        Format::Toml,
    )
    .unwrap();
    let r = |n: &str| inv.routers.iter().find(|r| r.name == n).unwrap();
    assert_eq!(r("pop-1").mgmt, ["10.20.0.0/24"]);
    assert_eq!(r("pop-1").api_clients, ["198.51.100.20"]);
    // The router's own replace the group's and the defaults' (not added to them).
    assert_eq!(r("pop-2").mgmt, ["10.30.0.0/24", "10.31.0.0/24"]);
    assert_eq!(r("pop-2").api_clients, ["203.0.113.7"]);
    // None given: the command line's --mgmt applies.
    assert!(r("core-1").mgmt.is_empty());
    let yaml = parse(
        r#"
all:
  children:
    pops:
      vars:
        tikguard_mgmt: [10.20.0.0/24, 10.21.0.0/24]
      hosts:
        north-1:
          ansible_host: 192.0.2.1
          tikguard_api_clients: 198.51.100.20
"#,
        Format::AnsibleYaml,
    )
    .unwrap();
    assert_eq!(yaml.routers[0].mgmt, ["10.20.0.0/24", "10.21.0.0/24"]);
    assert_eq!(yaml.routers[0].api_clients, ["198.51.100.20"]);
    let ini = parse(
        "[pops]\nn1 ansible_host=192.0.2.1\n\n[pops:vars]\ntikguard_mgmt=10.20.0.0/24,10.21.0.0/24\n",
        Format::AnsibleIni,
    )
    .unwrap();
    assert_eq!(ini.routers[0].mgmt, ["10.20.0.0/24", "10.21.0.0/24"]);
    let csv = parse(
        "name,address,mgmt,api_clients\nr1,10.1.1.1,10.20.0.0/24;10.21.0.0/24,198.51.100.20\nr2,10.1.1.2,,\n",
        Format::Csv,
    )
    .unwrap();
    assert_eq!(csv.routers[0].mgmt, ["10.20.0.0/24", "10.21.0.0/24"]);
    assert_eq!(csv.routers[0].api_clients, ["198.51.100.20"]);
    assert!(csv.routers[1].mgmt.is_empty());
}
