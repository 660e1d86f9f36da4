//! How commands change the model, and the RouterOS defaults an export leaves out.

use routeros_config::{Config, Origin};

fn load(src: &str) -> Config {
    let (c, p) = Config::load(src.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    c
}

fn names(c: &Config, menu: &str, key: &str) -> Vec<String> {
    c.items(menu)
        .iter()
        .map(|i| i.get_str(key).unwrap_or_default())
        .collect()
}

#[test]
fn services_absent_from_an_export_are_enabled_on_default_ports_for_everyone() {
    let c = load(
        "/ip service\nset telnet disabled=yes\nset api-ssl certificate=api tls-version=only-1.2\n",
    );
    let m = c.menu("/ip service").unwrap();
    assert_eq!(m.items.len(), 8);
    let api = m.by_name("api").unwrap();
    assert!(!api.is_disabled());
    assert_eq!(api.get("port"), Some(&b"8728"[..]));
    assert_eq!(api.get("address"), Some(&b""[..]));
    assert_eq!(api.origin, Origin::Default);
    assert!(m.by_name("telnet").unwrap().is_disabled());
    let ssl = m.by_name("api-ssl").unwrap();
    assert_eq!(ssl.get("certificate"), Some(&b"api"[..]));
    assert_eq!(ssl.get("tls-version"), Some(&b"only-1.2"[..]));
}

/// `www-ssl` ships disabled (IP Services manual; exports write `set www-ssl disabled=no` to
/// turn it on): an export that does not mention it has it off, and one that enables it has it on.
#[test]
fn www_ssl_is_disabled_by_default() {
    let c = load(
        "/ip service
set api disabled=yes
",
    );
    let m = c.menu("/ip service").unwrap();
    assert!(m.by_name("www-ssl").unwrap().is_disabled());
    assert!(!m.by_name("www").unwrap().is_disabled());
    let on = load(
        "/ip service
set www-ssl certificate=web disabled=no
",
    );
    assert!(!on
        .menu("/ip service")
        .unwrap()
        .by_name("www-ssl")
        .unwrap()
        .is_disabled());
}

#[test]
fn builtin_groups_and_admin_exist_and_can_be_changed_or_removed() {
    let c = load("/user group set read policy=read,!write\n/user remove admin\n/user add name=crm group=write\n");
    assert_eq!(names(&c, "/user group", "name"), ["read", "write", "full"]);
    assert_eq!(
        c.menu("/user group")
            .unwrap()
            .by_name("read")
            .unwrap()
            .get("policy"),
        Some(&b"read,!write"[..])
    );
    assert_eq!(names(&c, "/user", "name"), ["crm"]);
}

#[test]
fn v6_builtin_groups_have_no_rest_api() {
    let c = load("# jan/01/2023 00:00:00 by RouterOS 6.49.7\n");
    let full = c.menu("/user group").unwrap().by_name("full").unwrap();
    assert!(!full.get_str("policy").unwrap().contains("rest-api"));
    let c = load("# 2024-01-01 00:00:00 by RouterOS 7.12\n");
    let full = c.menu("/user group").unwrap().by_name("full").unwrap();
    assert!(full.get_str("policy").unwrap().contains("rest-api"));
}

#[test]
fn add_appends_and_place_before_inserts() {
    let c = load("/ip firewall filter\nadd chain=input comment=a\nadd chain=input comment=b\nadd chain=input comment=c place-before=0\nadd chain=input comment=d place-before=[find comment=b]\n");
    assert_eq!(
        names(&c, "/ip firewall filter", "comment"),
        ["c", "a", "d", "b"]
    );
    // place-before is an instruction, not a property.
    assert!(c.items("/ip firewall filter")[0]
        .get("place-before")
        .is_none());
}

#[test]
fn set_by_find_number_id_and_name() {
    let c = load("/ip firewall filter\nadd chain=input comment=a\nadd chain=input comment=b\nset [find comment=b] action=drop\nset 0 action=accept\n/ip service set www,ftp port=1\n");
    let f = c.items("/ip firewall filter");
    assert_eq!(f[0].get("action"), Some(&b"accept"[..]));
    assert_eq!(f[1].get("action"), Some(&b"drop"[..]));
    let id = f[1].id;
    let c2 = load(&format!(
        "/ip firewall filter\nadd chain=input\nadd chain=input\nset *{id:X} comment=byid\n"
    ));
    assert_eq!(
        c2.items("/ip firewall filter")[1].get("comment"),
        Some(&b"byid"[..])
    );
    let s = c.menu("/ip service").unwrap();
    assert_eq!(s.by_name("www").unwrap().get("port"), Some(&b"1"[..]));
    assert_eq!(s.by_name("ftp").unwrap().get("port"), Some(&b"1"[..]));
}

#[test]
fn find_where_with_and_and_flags() {
    let c = load("/ip firewall filter\nadd chain=input comment=x\nadd chain=input comment=x disabled=yes\nset [ find where comment=x and !disabled ] action=drop\n");
    let f = c.items("/ip firewall filter");
    assert_eq!(f[0].get("action"), Some(&b"drop"[..]));
    assert_eq!(f[1].get("action"), None);
}

#[test]
fn find_default_yes_picks_builtin_items() {
    let c = load("/user group set [find default=yes name=full] comment=builtin\n");
    let g = c.menu("/user group").unwrap().by_name("full").unwrap();
    assert_eq!(g.get("comment"), Some(&b"builtin"[..]));
}

#[test]
fn remove_disable_enable_unset_move() {
    let c = load("/ip firewall filter\nadd comment=a\nadd comment=b\nadd comment=c\nadd comment=d\nremove [find comment=b]\ndisable 0\nenable 0\ndisable 1\nunset 1 comment\nmove 2 destination=0\n");
    let f = c.items("/ip firewall filter");
    assert_eq!(f.len(), 3);
    assert_eq!(f[0].get("comment"), Some(&b"d"[..]));
    assert!(!f[1].is_disabled());
    assert_eq!(f[1].get("disabled"), Some(&b"no"[..]));
    assert!(f[2].is_disabled());
    assert_eq!(f[2].get("comment"), None);
}

#[test]
fn settings_menus_keep_properties_without_items() {
    let c = load(
        "/ip ssh set strong-crypto=yes\n/ip dns\nset allow-remote-requests=yes servers=1.1.1.1\n",
    );
    assert_eq!(c.setting("/ip ssh", "strong-crypto"), Some(&b"yes"[..]));
    assert_eq!(
        c.setting("/ip dns", "allow-remote-requests"),
        Some(&b"yes"[..])
    );
    assert!(c.items("/ip dns").is_empty());
}

#[test]
fn hardware_items_appear_on_first_reference() {
    let c = load("/interface ethernet\nset [ find default-name=ether1 ] name=wan\nset ether2 comment=lan\n/port set 1 name=serial1\n/ppp profile set *0 only-one=yes\n");
    let e = c.items("/interface ethernet");
    assert_eq!(e[0].get("default-name"), Some(&b"ether1"[..]));
    assert_eq!(e[0].get("name"), Some(&b"wan"[..]));
    assert_eq!(e[0].origin, Origin::Implicit);
    assert_eq!(e[1].get("name"), Some(&b"ether2"[..]));
    let ports = c.items("/port");
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[1].get("name"), Some(&b"serial1"[..]));
    assert!(c.items("/ppp profile")[0].builtin);
}

#[test]
fn unresolvable_statements_are_warnings_not_guesses() {
    let (c, p) = Config::load(&b"/ip firewall filter\nadd comment=a\nset [find comment~\"a\"] action=drop\nset $rule action=drop\nremove nosuch\n"[..]);
    assert!(p.diagnostics.is_empty());
    assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
    assert_eq!(c.warnings[0].line, 3);
    assert!(c.items("/ip firewall filter")[0].get("action").is_none());
}

#[test]
fn commands_inside_scripts_are_not_applied() {
    let c = load(":if ([:len [/ip service find]] > 0) do={ /ip service set api disabled=yes }\n");
    assert!(!c
        .menu("/ip service")
        .unwrap()
        .by_name("api")
        .unwrap()
        .is_disabled());
}

#[test]
fn property_spans_point_to_the_statement_that_set_them() {
    let src = "/ip service\nset api address=10.0.0.0/8\n";
    let (c, _) = Config::load(src.as_bytes().to_vec());
    let api = c.menu("/ip service").unwrap().by_name("api").unwrap();
    let p = api.property("address").unwrap();
    assert_eq!(
        &src.as_bytes()[p.statement.range()],
        b"set api address=10.0.0.0/8"
    );
    assert_eq!(&src.as_bytes()[p.value.span.range()], b"10.0.0.0/8");
}

#[test]
fn pick_of_find_selects_the_nth_match() {
    let c = load("/ip firewall filter\nadd chain=forward comment=a\nadd chain=input comment=b\nadd chain=input comment=c place-before=[:pick [find] 0]\nadd chain=input comment=d place-before=[:pick [find chain=input] 1]\n");
    assert_eq!(
        names(&c, "/ip firewall filter", "comment"),
        ["c", "a", "d", "b"]
    );
}

/// A file applied on a base configuration: the file's commands select and edit the base's
/// items (`[find comment=...]`), the base's items carry no span (as RouterOS' defaults), and
/// the file's keep theirs, in the file's own text.
#[test]
fn a_file_applied_on_a_base_edits_the_base_and_points_only_into_itself() {
    let base = routeros_config::parse(
        &b"/ip firewall filter\nadd action=drop chain=input comment=\"defconf: drop all\"\n/ip service\nset telnet disabled=yes\n"[..],
    );
    let file = routeros_config::parse(
        &b"# 2024-01-01 00:00:00 by RouterOS 7.16\n/ip firewall filter\nset [ find comment=\"defconf: drop all\" ] disabled=yes\nadd action=accept chain=input\n"[..],
    );
    let c = Config::from_parsed_on(&base, &file);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(
        c.version.as_ref().map(|v| v.to_string()).as_deref(),
        Some("7.16")
    );
    let rules = c.items("/ip firewall filter");
    assert_eq!(rules.len(), 2);
    assert!(rules[0].is_disabled());
    assert!(rules[0].statement.is_empty());
    // `disabled` was set by the file, on its line 3.
    let set = rules[0].property("disabled").unwrap().statement;
    assert!(c.source()[set.range()].starts_with(b"set [ find"));
    assert!(!rules[1].statement.is_empty());
    let telnet = c.menu("/ip service").unwrap().by_name("telnet").unwrap();
    assert!(telnet.is_disabled());
    assert!(telnet.property("disabled").unwrap().statement.is_empty());
}
