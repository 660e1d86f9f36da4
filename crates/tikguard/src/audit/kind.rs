//! What an input is: the whole router, one menu of it, an edit on MikroTik's default
//! configuration, or a script. Only a whole router lets the audit read "the file does not
//! mention it" as "it is RouterOS' default"; the other kinds edit a configuration they do not
//! show (see [`super::assume`] for what the audit then does).
//!
//! The signs, all read from the file itself:
//! - a **whole export** has the header `/export` writes (`# ... by RouterOS 7.12.1`, or
//!   `# RouterOS 6.48.3` as Oxidized keeps it), menus under more than one top-level menu, only
//!   configuration commands (`add`, `set`, ...), no scripting and nothing of the default
//!   configuration it does not create;
//! - a **one-menu export** has the header and commands under one top-level menu only:
//!   `/ip firewall layer7-protocol export` writes the same header as `/export` (issue reports of
//!   one-menu exports; `isplicity-jodell`'s `/system script` export in the corpus);
//! - an **edit on the default configuration** refers to what MikroTik's default configuration
//!   creates and the file does not: `[find comment~"defconf"]`, the bridge named `bridge`, the
//!   interface lists `LAN` and `WAN`, a gateway in `192.168.88.0/24` (the defconf script, as
//!   `/system default-configuration print` shows it on 6.48.4, and the manual's "Default
//!   configurations": bridge `bridge` with `192.168.88.1/24`, lists `LAN`/`WAN`, rules commented
//!   `defconf: ...`);
//! - a **script**: top-level scripting (`:local`, `:if`, `{ ... }`), actions no export writes
//!   (`/system reboot`, `/tool fetch`, `/import`), or configuration commands without the export
//!   header (a provisioning script, a function library).
//!
//! An export whose header was cut (repositories of exports strip its changing date line) is
//! still a whole export when laid out as `/export` writes one: every command under a menu line
//! of its own, no menu twice (once allowed), many menus under several top-level menus. This is
//! an approximation from the layout; the report says so, and `--assume blank` settles a file
//! the audit did not take for the whole router.
//!
//! A live router is always a whole export.

use routeros_config::syntax::{Parsed, StatementKind, ValueKind};

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    WholeExport,
    OneMenuExport,
    DefconfEdit,
    Script,
}

impl Kind {
    /// The name reports use (`"input_kind"` in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::WholeExport => "whole-export",
            Kind::OneMenuExport => "one-menu-export",
            Kind::DefconfEdit => "defconf-edit",
            Kind::Script => "script",
        }
    }

    /// In words, for the text and HTML reports.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::WholeExport => "whole export",
            Kind::OneMenuExport => "one-menu export",
            Kind::DefconfEdit => "edit on the default configuration",
            Kind::Script => "script",
        }
    }
}

/// An input's kind and the sign that decided it.
#[derive(Clone, Debug, Serialize)]
pub struct Classified {
    pub kind: Kind,
    pub why: String,
}

/// Commands an export writes. Anything else (`reboot`, `fetch`, `import`, `print`) is a script
/// acting on a router.
const CONFIG_VERBS: &[&str] = &[
    "add", "set", "remove", "unset", "enable", "disable", "move", "comment",
];

/// Keys whose value names an interface.
const INTERFACE_KEYS: &[&str] = &[
    "interface",
    "bridge",
    "parent",
    "in-interface",
    "out-interface",
    "master-port",
];

/// Keys whose value names an interface list.
const LIST_KEYS: &[&str] = &[
    "in-interface-list",
    "out-interface-list",
    "discover-interface-list",
    "allowed-interface-list",
    "interface-list",
];

/// A file without an export header counts as a whole export laid out as `/export` writes one
/// when it has at least this many top-level menus and distinct menus (the smallest headerless
/// exports of the corpus have 4 and 23; the largest block-style scripts 2 and 9).
const EXPORT_TOPS: usize = 3;
const EXPORT_MENUS: usize = 12;

/// A live router's configuration.
pub fn live() -> Classified {
    Classified {
        kind: Kind::WholeExport,
        why: "read from the router".into(),
    }
}

/// The kind of a parsed file.
pub fn classify(parsed: &Parsed) -> Classified {
    let src = &parsed.source[..];
    let line_of = |at: u32| parsed.lines.line_col(src, at as usize).line;
    let snippet = |span: routeros_config::Span| {
        let raw = src.get(span.range()).unwrap_or(b"");
        let first = raw.split(|&b| b == b'\n').next().unwrap_or(b"");
        let text: String = String::from_utf8_lossy(first)
            .trim()
            .chars()
            .take(60)
            .collect();
        crate::term::printable(&text).into_owned()
    };
    let mut scripting: Option<String> = None;
    let mut tops: Vec<&str> = Vec::new();
    let mut menus: Vec<&str> = Vec::new();
    let mut created_bridges: Vec<&[u8]> = Vec::new();
    let mut created_lists: Vec<&[u8]> = Vec::new();
    let mut defconf_items = false;
    let mut addresses: Vec<routeros_config::value::AddrMatch> = Vec::new();
    let mut defconf_ref: Option<String> = None;
    // How an export lays commands out: each menu on a line of its own, once, commands under it.
    let mut menu_lines: Vec<&str> = Vec::new();
    let mut repeated_menus = 0;
    let mut inline_commands = 0;
    for st in &parsed.statements {
        match &st.kind {
            StatementKind::Menu { path } => {
                if menu_lines.contains(&&**path) {
                    repeated_menus += 1;
                } else {
                    menu_lines.push(path);
                }
            }
            StatementKind::Script if scripting.is_none() => {
                scripting = Some(format!(
                    "line {}: scripting at top level (`{}`)",
                    line_of(st.span.start),
                    snippet(st.span)
                ));
            }
            StatementKind::Command(cmd) => {
                if !CONFIG_VERBS.contains(&&*cmd.verb) {
                    if scripting.is_none() {
                        scripting = Some(format!(
                            "line {}: `{}` acts on a router; an export only configures",
                            line_of(st.span.start),
                            snippet(st.span)
                        ));
                    }
                    continue;
                }
                if src.get(st.span.start as usize) == Some(&b'/') {
                    inline_commands += 1;
                }
                let top = cmd.menu.split(' ').next().unwrap_or("/");
                if !tops.contains(&top) {
                    tops.push(top);
                }
                if !menus.contains(&&*cmd.menu) {
                    menus.push(&cmd.menu);
                }
                if &*cmd.verb == "add" {
                    let name = cmd.get("name").map(|v| v.as_bytes());
                    match &*cmd.menu {
                        "/interface bridge" => created_bridges.extend(name),
                        "/interface list" => created_lists.extend(name),
                        "/ip address" => addresses.extend(
                            cmd.get("address")
                                .and_then(|a| routeros_config::value::parse_addr(a.as_bytes())),
                        ),
                        _ => {}
                    }
                    if cmd
                        .get("comment")
                        .is_some_and(|c| contains(c.as_bytes(), b"defconf"))
                    {
                        defconf_items = true;
                    }
                }
            }
            _ => {}
        }
    }
    // References to what the default configuration creates, checked once every `add` is known.
    for st in &parsed.statements {
        let StatementKind::Command(cmd) = &st.kind else {
            continue;
        };
        for arg in &cmd.args {
            let v = arg.value.as_bytes();
            let key = arg.key.as_deref().unwrap_or(b"");
            let key = std::str::from_utf8(key).unwrap_or("");
            let what =
                if arg.value.kind == ValueKind::Expr && contains(v, b"defconf") && !defconf_items {
                    Some(format!(
                        "`{}` picks items of MikroTik's default configuration",
                        crate::term::printable(&String::from_utf8_lossy(v))
                    ))
                } else if INTERFACE_KEYS.contains(&key)
                    && strip_bang(v) == b"bridge"
                    && !created_bridges.contains(&&b"bridge"[..])
                {
                    Some(format!(
                        "`{key}=bridge` names the default configuration's bridge"
                    ))
                } else if (LIST_KEYS.contains(&key)
                    || (key == "list" && &*cmd.menu == "/interface list member"))
                    && matches!(strip_bang(v), b"LAN" | b"WAN")
                    && !created_lists.contains(&strip_bang(v))
                {
                    Some(format!(
                        "`{key}={}` names a default configuration's interface list",
                        String::from_utf8_lossy(v)
                    ))
                } else if key == "gateway"
                    && v.starts_with(b"192.168.88.")
                    && !addresses.iter().any(|a| {
                        routeros_config::value::parse_addr(v).is_some_and(|g| {
                            a.range.start <= g.range.start && g.range.start <= a.range.end
                        })
                    })
                {
                    Some(format!(
                        "`gateway={}` is in the default configuration's 192.168.88.0/24",
                        String::from_utf8_lossy(v)
                    ))
                } else {
                    None
                };
            if let Some(what) = what {
                defconf_ref = Some(format!(
                    "line {}: {what}, which the file does not create",
                    line_of(st.span.start)
                ));
                break;
            }
        }
        if defconf_ref.is_some() {
            break;
        }
    }
    let header = parsed.version.as_ref().map(|v| v.to_string());
    if let (Some(v), None, None) = (&header, &scripting, &defconf_ref) {
        if tops.len() > 1 {
            return Classified {
                kind: Kind::WholeExport,
                why: format!(
                    "RouterOS {v} export header and {} top-level menus ({})",
                    tops.len(),
                    tops.iter().take(4).copied().collect::<Vec<_>>().join(", ")
                        + if tops.len() > 4 { ", ..." } else { "" }
                ),
            };
        }
        if tops.is_empty() {
            return Classified {
                kind: Kind::WholeExport,
                why: format!("RouterOS {v} export header and nothing changed from the defaults"),
            };
        }
    }
    // An export whose header was cut (repositories of exports often strip its date line): laid
    // out as `/export` lays out a whole router, many menus under several top-level menus.
    // v6 exports write `/ip neighbor discovery` twice, so one repeated menu line is allowed.
    if header.is_none()
        && scripting.is_none()
        && defconf_ref.is_none()
        && inline_commands == 0
        && repeated_menus <= 1
        && tops.len() >= EXPORT_TOPS
        && menus.len() >= EXPORT_MENUS
    {
        return Classified {
            kind: Kind::WholeExport,
            why: format!(
                "no export header, but laid out as `/export` writes a whole router: {} menus under {} top-level menus, each on its own line with its commands under it",
                menus.len(),
                tops.len()
            ),
        };
    }
    if let (Some(v), None) = (&header, &scripting) {
        if tops.len() == 1 {
            return Classified {
                kind: Kind::OneMenuExport,
                why: format!(
                    "RouterOS {v} export header and commands in {} only",
                    common_menu(&menus)
                ),
            };
        }
    }
    if let Some(why) = defconf_ref {
        return Classified {
            kind: Kind::DefconfEdit,
            why,
        };
    }
    Classified {
        kind: Kind::Script,
        why: scripting.unwrap_or_else(|| {
            "no `by RouterOS` export header: commands, not known to be the whole router".into()
        }),
    }
}

/// The deepest menu every menu of the list is in: `/ip firewall` for its `filter` and `nat`.
fn common_menu(menus: &[&str]) -> String {
    let mut common: Vec<&str> = match menus.first() {
        Some(m) => m.split(' ').collect(),
        None => return "/".into(),
    };
    for m in &menus[1..] {
        let words: Vec<&str> = m.split(' ').collect();
        let same = common
            .iter()
            .zip(&words)
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(same);
    }
    crate::term::printable(&common.join(" ")).into_owned()
}

fn strip_bang(v: &[u8]) -> &[u8] {
    v.strip_prefix(b"!").unwrap_or(v)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Kind {
        classify(&routeros_config::parse(text.as_bytes().to_vec())).kind
    }

    const HEADER: &str = "# 2024-01-01 00:00:00 by RouterOS 7.16\n# software id = X\n#\n";

    #[test]
    fn an_export_header_with_several_top_level_menus_is_a_whole_export() {
        let text = format!("{HEADER}/interface bridge\nadd name=bridge1\n/ip address\nadd address=10.0.0.1/24 interface=bridge1\n");
        assert_eq!(kind(&text), Kind::WholeExport);
        // Oxidized keeps `# RouterOS 6.48.3` as the header.
        let ox = "# RouterOS 6.48.3\n# software id = A\n/interface bridge\nadd name=b\n/ip address\nadd address=10.0.0.1/24 interface=b\n";
        assert_eq!(kind(ox), Kind::WholeExport);
    }

    /// `/ip firewall export` writes the same header as `/export`, then `/ip firewall` menus.
    #[test]
    fn an_export_header_over_one_menu_is_a_one_menu_export() {
        let text = format!("{HEADER}/ip firewall filter\nadd action=drop chain=input in-interface-list=WAN\n/ip firewall nat\nadd action=masquerade chain=srcnat\n");
        let c = classify(&routeros_config::parse(text.into_bytes()));
        assert_eq!(c.kind, Kind::OneMenuExport);
        assert!(c.why.contains("/ip firewall"), "{}", c.why);
    }

    #[test]
    fn references_to_defconf_items_make_an_edit_on_the_default_configuration() {
        for body in [
            "/ip firewall filter set [find comment=\"defconf: drop all not coming from LAN\"] disabled=yes\n",
            "/interface bridge port add bridge=bridge interface=ether5\n",
            "/interface list member add interface=ether2 list=LAN\n",
            "/ip route add gateway=192.168.88.254\n",
        ] {
            assert_eq!(kind(body), Kind::DefconfEdit, "{body}");
        }
        // What the file creates itself is not a reference to the default configuration.
        let own = "/interface bridge add name=bridge\n/interface bridge port add bridge=bridge interface=ether5\n/interface list add name=LAN\n/interface list member add interface=bridge list=LAN\n";
        assert_eq!(kind(own), Kind::Script);
    }

    #[test]
    fn scripting_actions_or_no_header_make_a_script() {
        assert_eq!(
            kind(":local x 1\n/ip service set telnet disabled=yes\n"),
            Kind::Script
        );
        let reboot = format!("{HEADER}/ip service\nset telnet disabled=yes\n/system reboot\n");
        assert_eq!(kind(&reboot), Kind::Script);
        assert_eq!(
            kind("/ip service set telnet disabled=yes\n/system identity set name=r\n"),
            Kind::Script
        );
    }
}
