//! One test per syntax feature real exports use (see the corpus notes in the shared MANIFEST).

use routeros_config::{parse, Command, Parsed, StatementKind, ValueKind};

fn commands(p: &Parsed) -> Vec<&Command> {
    p.statements
        .iter()
        .filter_map(|s| match &s.kind {
            StatementKind::Command(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn one(src: &str) -> (Parsed, Command) {
    let p = parse(src.as_bytes().to_vec());
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let cmds = commands(&p);
    assert_eq!(cmds.len(), 1, "{:?}", p.statements);
    let c = cmds[0].clone();
    (p, c)
}

fn val(c: &Command, key: &str) -> Vec<u8> {
    c.get(key)
        .unwrap_or_else(|| panic!("no {key}"))
        .bytes
        .to_vec()
}

#[test]
fn menu_line_sets_the_menu_for_following_commands() {
    let p = parse(&b"/ip firewall filter\nadd chain=input action=drop\nadd chain=forward\n"[..]);
    let c = commands(&p);
    assert_eq!(c.len(), 2);
    assert!(c
        .iter()
        .all(|c| &*c.menu == "/ip firewall filter" && &*c.verb == "add"));
    assert!(
        matches!(&p.statements[0].kind, StatementKind::Menu { path } if &**path == "/ip firewall filter")
    );
}

#[test]
fn terse_lines_carry_the_full_path() {
    let (_, c) = one("/ip firewall filter add action=drop chain=input\n");
    assert_eq!(&*c.menu, "/ip firewall filter");
    assert_eq!(val(&c, "action"), b"drop");
}

#[test]
fn v7_slash_paths_end_in_the_command() {
    let (_, c) = one("/ip/dhcp-client/add interface=ether1\n");
    assert_eq!((&*c.menu, &*c.verb), ("/ip dhcp-client", "add"));
    let (_, c) = one("/interface/bridge/port/set [find interface=ether2] pvid=10\n");
    assert_eq!((&*c.menu, &*c.verb), ("/interface bridge port", "set"));
}

#[test]
fn menu_alone_then_relative_path_and_command_on_next_line() {
    let p = parse(&b"/tool\nmac-server set allowed-interface-list=none\nmac-server mac-winbox set allowed-interface-list=none\n"[..]);
    let c = commands(&p);
    assert_eq!(&*c[0].menu, "/tool mac-server");
    assert_eq!(&*c[1].menu, "/tool mac-server mac-winbox");
    assert_eq!(&*c[1].verb, "set");
}

/// `/tool mac-server ping` and `/system upgrade mirror` are menus whose names are command
/// words (RouterOS' command tree); exports write them alone on a line, and the `set` after them
/// is theirs. Before, the first was read as a `ping` command and the second as `upgrade
/// mirror`, and their `set` landed on the menu before.
#[test]
fn menus_named_like_commands_are_menus() {
    let p = parse(
        &b"/tool mac-server mac-winbox
set allowed-interface-list=LAN
/tool mac-server ping
set enabled=no
/system upgrade mirror
set check-interval=1d
/tool/mac-server/ping/set enabled=no
"[..],
    );
    let c = commands(&p);
    let got: Vec<(&str, &str)> = c.iter().map(|c| (&*c.menu, &*c.verb)).collect();
    assert_eq!(
        got,
        [
            ("/tool mac-server mac-winbox", "set"),
            ("/tool mac-server ping", "set"),
            ("/system upgrade mirror", "set"),
            ("/tool mac-server ping", "set"),
        ]
    );
    // `ping` stays a command elsewhere.
    let (_, c) = one("/ping 192.0.2.1 count=1\n");
    assert_eq!((&*c.menu, &*c.verb), ("/", "ping"));
}

#[test]
fn an_absolute_command_does_not_change_the_current_menu() {
    let p = parse(&b"/ip firewall filter\n/ip address add address=10.0.0.1/24 interface=ether1\nadd chain=input\n"[..]);
    let c = commands(&p);
    assert_eq!(&*c[0].menu, "/ip address");
    assert_eq!(&*c[1].menu, "/ip firewall filter");
}

#[test]
fn command_without_a_known_verb_is_the_last_path_word() {
    let (_, c) = one("/tool fetch url=\"https://example.com/x\" mode=https\n");
    assert_eq!((&*c.menu, &*c.verb), ("/tool", "fetch"));
    let (_, c) = one("/system reboot\n");
    assert_eq!((&*c.menu, &*c.verb), ("/system", "reboot"));
}

#[test]
fn continuation_joins_lines_with_any_indentation() {
    let (p, c) =
        one("/ip firewall filter add action=accept \\\n    chain=input \\\n\tprotocol=tcp\n");
    assert_eq!(val(&c, "chain"), b"input");
    assert_eq!(val(&c, "protocol"), b"tcp");
    // The statement spans all three physical lines.
    assert_eq!(p.statements[0].span.end as usize, p.source.len() - 1);
}

#[test]
fn continuation_mid_word_and_inside_quotes() {
    let (_, c) = one(
        "/system script add na\\\n    me=x source=\":log info \\\"a\\\";\\r\\\n    \\n:put 1\"\n",
    );
    assert_eq!(val(&c, "name"), b"x");
    assert_eq!(val(&c, "source"), b":log info \"a\";\r\n:put 1");
}

/// RouterOS' export wraps long lines at 80 columns with `\` and an indented continuation, and a
/// break can fall right after `key=`, before the value's opening quote (shared corpus:
/// mm1rza BALE-PUSAT, `scan-list=5745 ssid=\` then `    "BUMDES SS SUNGAPAN"`). The value is
/// the quoted string: neither the line break, the indentation nor the quotes belong to it.
#[test]
fn a_quoted_value_after_a_continuation_is_the_string() {
    let (_, c) = one(
        "/interface wireless set [ find default-name=wlan2 ] scan-list=5745 ssid=\\\n    \"BUMDES SS SUNGAPAN\" wmm-support=enabled\n",
    );
    assert_eq!(val(&c, "ssid"), b"BUMDES SS SUNGAPAN");
    assert_eq!(c.get("ssid").unwrap().kind, ValueKind::Quoted);
    assert_eq!(val(&c, "wmm-support"), b"enabled");
    // With escapes inside, and a continuation inside the string too.
    let (_, c) = one(
        "/ip firewall filter add chain=input comment=\\\n    \"say \\\"hi\\\" to \\\n    all\" action=drop\n",
    );
    assert_eq!(val(&c, "comment"), b"say \"hi\" to all");
    assert_eq!(val(&c, "action"), b"drop");
}

#[test]
fn backslash_space_at_line_end_is_a_continuation() {
    let (_, c) = one("/queue tree add \\ \n      name=q1 \\  \n      parent=global\n");
    assert_eq!(val(&c, "name"), b"q1");
    assert_eq!(val(&c, "parent"), b"global");
}

#[test]
fn even_backslashes_at_line_end_are_not_a_continuation() {
    let p = parse(
        &b"/file set a contents=x\\\\\n/ip address add address=1.2.3.4/32 interface=lo\n"[..],
    );
    let c = commands(&p);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].get("contents").unwrap().bytes.as_ref(), b"x\\");
}

#[test]
fn quoted_escapes_decode_to_bytes() {
    let (_, c) = one(r#"/x add comment="q\"b\\s\$d\?e\_f\r\n\D0\9E""#);
    assert_eq!(val(&c, "comment"), b"q\"b\\s$d?e f\r\n\xD0\x9E");
    assert_eq!(c.get("comment").unwrap().kind, ValueKind::Quoted);
}

#[test]
fn empty_values_are_empty() {
    let (_, c) = one("/ip service set www address= disabled=yes\n");
    assert_eq!(val(&c, "address"), b"");
    assert_eq!(c.get("address").unwrap().kind, ValueKind::Empty);
    assert_eq!(val(&c, "disabled"), b"yes");
}

#[test]
fn negations_stay_in_the_value() {
    let (_, c) = one(
        "/ip firewall filter add chain=input src-address=!192.168.0.0/16 in-interface-list=!LAN\n",
    );
    assert_eq!(val(&c, "src-address"), b"!192.168.0.0/16");
    assert_eq!(val(&c, "in-interface-list"), b"!LAN");
    let (_, c) = one("/user group add name=crm policy=read,write,api,!ftp,!policy\n");
    assert_eq!(val(&c, "policy"), b"read,write,api,!ftp,!policy");
}

#[test]
fn unset_markers_of_verbose_exports_are_arguments() {
    let (_, c) = one("/routing bgp instance set default !cluster-id as=65000\n");
    let keys: Vec<_> = c
        .args
        .iter()
        .map(|a| (a.key.clone(), a.value.bytes.clone()))
        .collect();
    // `!cluster-id` is an unnamed word; `as=` a property.
    assert!(keys
        .iter()
        .any(|(k, v)| k.is_none() && v.as_ref() == b"!cluster-id"));
    assert_eq!(val(&c, "as"), b"65000");
}

#[test]
fn item_selectors_are_the_first_unnamed_argument() {
    for (src, want, kind) in [
        (
            "/interface ethernet set [ find default-name=ether1 ] name=wan",
            "[ find default-name=ether1 ]",
            ValueKind::Expr,
        ),
        (
            "/ip service set telnet disabled=yes",
            "telnet",
            ValueKind::Bare,
        ),
        ("/port set 0 name=serial0", "0", ValueKind::Bare),
        (
            "/interface wireless security-profiles set *FFFFFFFE mode=none",
            "*FFFFFFFE",
            ValueKind::Bare,
        ),
        ("/user remove admin", "admin", ValueKind::Bare),
        (
            "/ip firewall filter remove [ find where comment=\"x y\" ]",
            "[ find where comment=\"x y\" ]",
            ValueKind::Expr,
        ),
    ] {
        let (_, c) = one(src);
        let v = c.positional(0).unwrap();
        assert_eq!((v.bytes.as_ref(), v.kind), (want.as_bytes(), kind), "{src}");
    }
}

#[test]
fn comments_whole_line_and_after_a_menu() {
    let p = parse(&b"# a comment with \"quote\n/interface wireless # managed by CAPsMAN\nset [ find default-name=wlan1 ] ssid=x\n"[..]);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let c = commands(&p);
    assert_eq!(c.len(), 1);
    assert_eq!(&*c[0].menu, "/interface wireless");
}

#[test]
fn scripting_is_kept_whole_and_opaque() {
    let src = b":global x 5\n:local y [/system identity get name]\n:if ([:len [/interface find name=br]] = 0) do={\n  /interface bridge add name=br\n} else={\n  :put \"exists\"\n}\n:foreach i in=[/ip address find] do={ :put $i }\n:do { /ip pool add name=p ranges=1.1.1.1 } on-error={ :log warning \"x\" }\n{\n  :local z 1\n  /ip dns set servers=1.1.1.1\n}\nglobal bare 1\n/ip address add address=10.0.0.1/24 interface=ether1\n";
    let p = parse(&src[..]);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let kinds: Vec<&str> = p
        .statements
        .iter()
        .map(|s| match s.kind {
            StatementKind::Script => "script",
            StatementKind::Command(_) => "command",
            StatementKind::Menu { .. } => "menu",
            StatementKind::Invalid => "invalid",
        })
        .collect();
    assert_eq!(
        kinds,
        ["script", "script", "script", "script", "script", "script", "script", "command"]
    );
    // The `:if` statement spans from `:if` to the closing brace of `else={...}`.
    let s = &p.statements[2];
    let text = &p.source[s.span.range()];
    assert!(text.starts_with(b":if") && text.ends_with(b"}"));
}

#[test]
fn script_sources_are_values() {
    let (_, c) =
        one("/system scheduler add name=s on-event=\"/system script run backup\" interval=1d\n");
    assert_eq!(val(&c, "on-event"), b"/system script run backup");
    let (_, c) = one("/system script add name=s source={ :put 1; :put 2 }\n");
    assert_eq!(c.get("source").unwrap().kind, ValueKind::Expr);
    assert_eq!(val(&c, "source"), b"{ :put 1; :put 2 }");
}

#[test]
fn semicolons_separate_statements() {
    let p = parse(&b"/ip service set telnet disabled=yes; /ip service set ftp disabled=yes\n"[..]);
    assert_eq!(commands(&p).len(), 2);
}

#[test]
fn bytes_that_are_not_utf8_are_kept() {
    let (_, c) = one("/x add comment=\"\u{0}\"\n");
    assert_eq!(val(&c, "comment"), b"\0");
    let p = parse(&b"/x add comment=\"\xcf\xf0\xe8\xe2\xe5\xf2\"\n"[..]);
    assert_eq!(
        commands(&p)[0].get("comment").unwrap().bytes.as_ref(),
        b"\xcf\xf0\xe8\xe2\xe5\xf2"
    );
}

#[test]
fn bom_and_crlf_are_transparent() {
    let p = parse(&b"\xEF\xBB\xBF# 2024-01-01 00:00:00 by RouterOS 7.16\r\n/ip service\r\nset api disabled=yes\r\n"[..]);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(p.version.as_ref().unwrap().as_str(), "7.16");
    let c = commands(&p);
    assert_eq!(c[0].get("disabled").unwrap().bytes.as_ref(), b"yes");
}

#[test]
fn double_slash_comment_is_a_diagnostic_and_parsing_goes_on() {
    let p = parse(&b"// not a comment\n/ip service set api disabled=yes\n"[..]);
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!((p.diagnostics[0].line, p.diagnostics[0].column), (1, 1));
    assert_eq!(commands(&p).len(), 1);
}

#[test]
fn unbalanced_quote_is_reported_at_its_column_and_the_next_line_parses() {
    let p =
        parse(&b"/ip firewall filter\nadd comment=\"a\" b\" chain=input\nadd chain=forward\n"[..]);
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!((p.diagnostics[0].line, p.diagnostics[0].column), (2, 18));
    let c = commands(&p);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].get("chain").unwrap().bytes.as_ref(), b"forward");
}

#[test]
fn pasted_print_output_is_a_diagnostic() {
    let p = parse(&b"            script: #| Welcome to RouterOS!\n                    #|  more\n/ip service set api disabled=yes\n"[..]);
    assert_eq!(p.diagnostics.len(), 1);
    assert!(p.diagnostics[0].message.contains("script:"));
    assert_eq!(p.diagnostics[0].column, 13);
    assert_eq!(commands(&p).len(), 1);
}

#[test]
fn unclosed_block_resumes_on_the_next_line() {
    let p = parse(&b":if (true) do={\n/ip service set api disabled=yes\n"[..]);
    assert_eq!(p.diagnostics.len(), 1);
    assert!(p.diagnostics[0].message.contains("never closed"));
    assert_eq!(commands(&p).len(), 1);
}

#[test]
fn stray_closing_bracket_is_a_diagnostic() {
    let p = parse(&b"/ip service set api disabled=yes]\n/ip service set ftp disabled=yes\n"[..]);
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(commands(&p).len(), 1);
}

#[test]
fn spans_point_at_the_source_text() {
    let src = b"/ip firewall filter\nadd chain=input dst-port=8728 action=accept\n";
    let p = parse(&src[..]);
    let c = commands(&p)[0];
    let arg = c
        .args
        .iter()
        .find(|a| a.key.as_deref() == Some(b"dst-port"))
        .unwrap();
    assert_eq!(&src[arg.span.range()], b"dst-port=8728");
    assert_eq!(&src[arg.value.span.range()], b"8728");
    let lc = p.lines.line_col(&src[..], arg.span.start as usize);
    assert_eq!((lc.line, lc.column), (2, 17));
}

#[test]
fn no_header_means_no_version_and_a_later_header_like_comment_is_ignored() {
    let p = parse(&b"/ip service set api disabled=yes\n# by RouterOS 7.1\n"[..]);
    assert!(p.version.is_none());
}
