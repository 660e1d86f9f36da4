//! What a client may send: ordered allow/deny rules over command paths, verbs and arguments,
//! default deny. [`decide`] is pure (no I/O), so `tikguard proxy check` and the proxy run the
//! same function, and tests cover it exhaustively.
//!
//! The first rule whose path and verb match a command decides it: an `allow` rule allows it if
//! every argument constraint holds and denies it, naming what it did not accept, otherwise; a
//! `deny` rule denies it. Later rules are not tried, so a policy that `extends` another
//! tightens the base's rules for the commands it names (its rules come first). A command no
//! rule names is denied (default deny).
//!
//! Arguments that carry code run on the router ([`SCRIPT_ARGS`]: `on-up`, `on-down`,
//! `on-login`, `on-logout`, `on-event`, `source`, netwatch and DHCP scripts; ROUTEROS.md, "What
//! CRMs send") are refused unless the matching rule names them in `args`, whatever else it
//! allows.

use std::collections::BTreeMap;

use regex::Regex;
use routeros_config::value::parse_addr;

/// Arguments whose value is RouterOS script: code execution on the router.
pub const SCRIPT_ARGS: &[&str] = &[
    "on-up",
    "on-down",
    "on-login",
    "on-logout",
    "on-event",
    "source",
    "script",
    "up-script",
    "down-script",
    "test-script",
    "lease-script",
];

/// Fields hidden from every reply unless a policy sets its own `redact`: every secret RouterOS
/// prints, by the names of the 7.22.3 command tree (`routeros-schema`, the `set`/`add`
/// arguments): PPP, hotspot, user and client passwords (`password`, `*-password`), shared
/// secrets (`secret`: `/ppp/l2tp-secret`, `/radius`, `/ip/ipsec/identity`; `ipsec-secret` of
/// EoIP, GRE, IPIP, 6to4; `ppk-secret`, `otp-secret`), WireGuard `private-key` and
/// `preshared-key`, Wi-Fi `passphrase` (and the older `wpa*-pre-shared-key`), routing and NTP
/// keys (`tcp-md5-key`, `auth-key`, `key-val`), SNMP `trap-community`, RoMON `secrets`, and
/// `source`: a script's text, which holds whatever passwords it uses.
pub const DEFAULT_REDACT: &[&str] = &[
    "password",
    "secret",
    "ipsec-secret",
    "ppk-secret",
    "otp-secret",
    "passphrase",
    "security.passphrase",
    "wpa-pre-shared-key",
    "wpa2-pre-shared-key",
    "private-key",
    "preshared-key",
    "tcp-md5-key",
    "auth-key",
    "key-val",
    "authentication-password",
    "encryption-password",
    "eap-password",
    "security.eap-password",
    "mac-auth-password",
    "radius-password",
    "socks5-password",
    "smb-password",
    "smb-server-password",
    "sshfs-password",
    "challenge-password",
    "trap-community",
    "secrets",
    "source",
    "on-event",
];

/// Fields that are secrets on one menu only, hidden there whatever the policy's `redact`:
/// an SNMP community's `name` is the community string itself (RouterOS' default community is
/// `name=public`; the corpus' exports set it so), an IPsec pre-shared key's and a RIP key's
/// `key` is the key.
pub const SECRETS_BY_PATH: &[(&str, &str)] = &[
    ("/snmp/community", "name"),
    ("/ip/ipsec/key/psk", "key"),
    ("/routing/rip/keys", "key"),
    ("/system/script", "source"),
];

/// Arguments that route traffic or reorder what the router applies: refused unless the rule
/// names them, and the first group unless it constrains them too. A PPP secret's `routes`
/// (routes added through the subscriber while connected), `remote-address`, `local-address`
/// and `remote-ipv6-prefix` (addresses the session takes: one inside the management network
/// hijacks it); a simple queue's `target` (`0.0.0.0/0` shapes every host), `place-before`
/// and `parent` (ahead of, or under, queues the CRM does not own).
pub const CONSTRAINED_ARGS: &[(&str, &[&str], &[&str])] = &[
    (
        "/ppp/secret",
        &[
            "routes",
            "remote-address",
            "local-address",
            "remote-ipv6-prefix",
        ],
        &[],
    ),
    ("/queue/simple", &["target"], &["place-before", "parent"]),
];

/// Arguments every rule accepts: item selection and print modifiers. `.proplist` has its own
/// constraint.
const ALWAYS: &[&str] = &[
    ".id",
    "numbers",
    ".proplist",
    "count-only",
    "without-paging",
    "detail",
    "follow",
    "follow-only",
    "interval",
    "once",
    "stats",
    "as-value",
];

/// A constraint on one argument's value.
#[derive(Clone, Debug)]
pub enum Constraint {
    /// Any value.
    Any,
    /// One of these values.
    Enum(Vec<String>),
    /// A match of this regex (anchored by the author: `^...$`).
    Regex(Regex),
    /// Addresses or prefixes within one of these ranges (a comma list: each element); with
    /// `true`, single addresses only (no prefix wider than a host).
    Cidr(Vec<(bool, u128, u128)>, bool),
    /// An integer within the range, inclusive.
    Range(i64, i64),
}

impl Constraint {
    pub fn holds(&self, value: &[u8]) -> bool {
        let text = String::from_utf8_lossy(value);
        match self {
            Constraint::Any => true,
            Constraint::Enum(v) => v.iter().any(|e| e.as_bytes() == value),
            Constraint::Regex(r) => r.is_match(&text),
            Constraint::Cidr(ranges, host) => {
                !text.is_empty()
                    && text.split(',').all(|part| {
                        parse_addr(part.as_bytes()).is_some_and(|a| {
                            !a.negated
                                && (!host || a.range.start == a.range.end)
                                && ranges.iter().any(|&(v6, s, e)| {
                                    v6 == a.range.v6 && s <= a.range.start && a.range.end <= e
                                })
                        })
                    })
            }
            Constraint::Range(lo, hi) => text
                .trim()
                .parse::<i64>()
                .is_ok_and(|n| *lo <= n && n <= *hi),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Constraint::Any => "any value".into(),
            Constraint::Enum(v) => format!("one of {}", v.join(", ")),
            Constraint::Regex(r) => format!("a match of /{}/", r.as_str()),
            Constraint::Cidr(_, false) => "an address within the allowed prefixes".into(),
            Constraint::Cidr(_, true) => {
                "a single address (no wider prefix) within the allowed prefixes".into()
            }
            Constraint::Range(lo, hi) => format!("an integer from {lo} to {hi}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
}

/// One rule of a policy.
#[derive(Clone, Debug)]
pub struct Rule {
    /// `policy crm-pppoe rule 3` (1-based), for logs and denials.
    pub name: String,
    pub action: Action,
    /// Path segments; `*` is one segment, `**` any number (zero or more).
    pub path: Vec<String>,
    /// Verbs (`print`, `add`...); `None` for any.
    pub verbs: Option<Vec<String>>,
    /// Allowed arguments and their constraints; `None` for any argument except scripts.
    pub args: Option<BTreeMap<String, Constraint>>,
    /// Constraints the items a command changes must meet as they are on the router (`list`
    /// of an address-list entry), checked there first as ownership is.
    pub items: Vec<(String, Constraint)>,
    /// Attributes `print` queries (`?name=x`) may name; `None` for any.
    pub query: Option<Vec<String>>,
    /// Attributes `.proplist` may name; `None` for any.
    pub proplist: Option<Vec<String>>,
    /// `set`/`unset`/`remove`/`enable`/`disable`/`move` only on items whose comment starts with
    /// it (checked on the router), and `add` only with such a comment.
    pub owner_prefix: Option<String>,
    /// Attributes removed from this command's `!re` replies, besides the policy's.
    pub redact: Vec<String>,
    /// 0 for the policy's own rules, 1 for its bases', and so on (`extends`).
    pub level: usize,
}

/// A named policy: rules in order, default deny.
#[derive(Clone, Debug)]
pub struct Policy {
    pub name: String,
    pub rules: Vec<Rule>,
    /// Attributes removed from every `!re` reply (`password`).
    pub redact: Vec<String>,
    /// [`Policy::permissive`]: no rules, everything allowed but what no policy allows.
    pub permissive: bool,
}

/// The rule name a permissive policy's decisions carry.
pub const PERMISSIVE_RULE: &str = "permissive (proxy record --permissive)";

impl Policy {
    /// The policy `tikguard proxy record --permissive` forwards under, to learn what a CRM
    /// sends before a policy is written for it: every command is allowed, with what no policy
    /// lets through still refused (argument names that are ambiguous or given twice, a query
    /// or `value-name` naming a hidden field) and replies redacted as by default.
    pub fn permissive() -> Policy {
        Policy {
            name: "permissive".into(),
            rules: Vec::new(),
            redact: DEFAULT_REDACT.iter().map(|f| f.to_string()).collect(),
            permissive: true,
        }
    }
}

/// A client's command, as the policy sees it.
#[derive(Clone, Debug)]
pub struct Command {
    /// `/ppp/secret`.
    pub path: String,
    /// `add`.
    pub verb: String,
    /// `=key=value` arguments, in order; the values share the request's buffer (a command's
    /// arguments are not copied to be decided, which a 16 MiB word made a 16 MiB copy).
    pub args: Vec<(String, bytes::Bytes)>,
    /// Attribute names of `?` query words (operators dropped).
    pub queries: Vec<String>,
}

impl Command {
    /// From an API request: the command word and its attribute and query words.
    pub fn from_request(req: &routeros_api::sentence::Request) -> Command {
        let word = String::from_utf8_lossy(&req.command).into_owned();
        let (path, verb) = match word.rfind('/') {
            Some(0) | None => ("/".to_string(), word.trim_start_matches('/').to_string()),
            Some(i) => (word[..i].to_string(), word[i + 1..].to_string()),
        };
        let args = req
            .attrs
            .iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.clone()))
            .collect();
        let queries = req
            .queries
            .iter()
            .filter_map(|q| {
                let q = String::from_utf8_lossy(q);
                let q = q.strip_prefix('?')?;
                if q.starts_with('#') {
                    return None;
                }
                let q = q.trim_start_matches(['-', '<', '>', '=']);
                let name = q.split('=').next().unwrap_or("");
                (!name.is_empty()).then(|| name.to_string())
            })
            .collect();
        Command {
            path,
            verb,
            args,
            queries,
        }
    }

    /// Puts the path in full (`/sys/sch/print` is `/system/scheduler/print`), so that a rule
    /// about `/user` cannot be passed by `/us`. An unknown or ambiguous path is an error, and
    /// the command is left as it was.
    pub fn expand(&mut self) -> Result<(), String> {
        let full = crate::schema::expand_api_path(&self.word())?;
        let i = full.rfind('/').unwrap_or(0);
        self.path = if i == 0 {
            "/".into()
        } else {
            full[..i].to_string()
        };
        self.verb = full[i + 1..].to_string();
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.args
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| &v[..])
    }

    /// `/ppp/secret/add`.
    pub fn word(&self) -> String {
        if self.path == "/" {
            format!("/{}", self.verb)
        } else {
            format!("{}/{}", self.path, self.verb)
        }
    }
}

/// How the proxy decides a request under `policy`: its path put in full ([`Command::expand`];
/// an unknown or ambiguous path is denied), `getall` decided as `print` (its old name). Also
/// the command word forwarded (the full path, the verb as sent). `tikguard proxy check` and
/// `--replay` call this as the proxy does.
pub fn decide_request(
    policy: &Policy,
    req: &routeros_api::sentence::Request,
) -> (Command, String, Decision) {
    let mut cmd = Command::from_request(req);
    let unknown = cmd.expand().err();
    let full_word = cmd.word();
    if cmd.verb == "getall" {
        cmd.verb = "print".into();
    }
    let decision = match unknown {
        Some(why) => Decision::Deny {
            rule: None,
            reason: why,
        },
        None => decide(policy, &cmd),
    };
    (cmd, full_word, decision)
}

/// Verbs that change existing items, subject to ownership.
pub const OWNED_VERBS: &[&str] = &[
    "set", "unset", "remove", "enable", "disable", "move", "edit",
];

/// What to do with a command.
#[derive(Clone, Debug)]
pub enum Decision {
    Allow {
        rule: String,
        /// Items the command touches must carry a comment with this prefix.
        owner_prefix: Option<String>,
        /// Attributes to remove from its replies.
        redact: Vec<String>,
        /// Constraints the items it changes must meet on the router.
        items: Vec<(String, Constraint)>,
    },
    Deny {
        /// The rule that denied it, or `None` for the default deny.
        rule: Option<String>,
        reason: String,
    },
}

fn path_matches(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((p, rest)) if p == "**" => {
            (0..=path.len()).any(|skip| path_matches(rest, &path[skip..]))
        }
        Some((p, rest)) => match path.split_first() {
            Some((s, tail)) => (p == "*" || p == s) && path_matches(rest, tail),
            None => false,
        },
    }
}

/// Why a rule whose path and verb match does not accept the command's arguments.
fn arg_problem(rule: &Rule, cmd: &Command) -> Option<String> {
    let guarded = CONSTRAINED_ARGS.iter().find(|(p, _, _)| *p == cmd.path);
    for (key, value) in &cmd.args {
        let named = rule.args.as_ref().and_then(|a| a.get(key));
        if let Some((_, constrained, named_only)) = guarded {
            if constrained.contains(&key.as_str()) && matches!(named, None | Some(Constraint::Any))
            {
                return Some(format!(
                    "argument `{key}` needs a rule naming it with a constraint"
                ));
            }
            if named_only.contains(&key.as_str()) && named.is_none() {
                return Some(format!("argument `{key}` needs a rule naming it"));
            }
        }
        if key == "file" && named.is_none() {
            return Some(
                "argument `file` writes a file on the router, and the rule does not name it".into(),
            );
        }
        if SCRIPT_ARGS.contains(&key.as_str()) && named.is_none() {
            return Some(format!(
                "argument `{key}` carries a script, and the rule does not name it"
            ));
        }
        if key == ".proplist" {
            if let Some(allowed) = &rule.proplist {
                let text = String::from_utf8_lossy(value);
                if let Some(bad) = text.split(',').find(|p| !allowed.iter().any(|a| a == p)) {
                    return Some(format!("`.proplist` may not name `{bad}`"));
                }
            }
            continue;
        }
        match (&rule.args, named) {
            (_, Some(c)) if !c.holds(value) => {
                return Some(format!("argument `{key}` must be {}", c.describe()));
            }
            (Some(_), None) if !ALWAYS.contains(&key.as_str()) => {
                return Some(format!("argument `{key}` is not allowed"));
            }
            _ => {}
        }
    }
    if let Some(allowed) = &rule.query {
        if let Some(bad) = cmd.queries.iter().find(|q| !allowed.contains(q)) {
            return Some(format!("queries may not name `{bad}`"));
        }
    }
    if let (Some(prefix), "add") = (&rule.owner_prefix, cmd.verb.as_str()) {
        let ok = cmd
            .get("comment")
            .is_some_and(|c| c.starts_with(prefix.as_bytes()));
        if !ok {
            return Some(format!("`add` needs a `comment` starting with `{prefix}`"));
        }
    }
    None
}

/// Argument names that change what a check sees if the router took an abbreviation of them:
/// the item selectors, `value-name`, `file`, and every guarded argument.
fn guarded_names() -> impl Iterator<Item = &'static str> {
    SCRIPT_ARGS
        .iter()
        .copied()
        .chain(
            CONSTRAINED_ARGS
                .iter()
                .flat_map(|(_, a, b)| a.iter().chain(b.iter()).copied()),
        )
        .chain(["numbers", "value-name", "file", "show-sensitive"])
}

/// Why a command's argument names are refused before any rule:
///
/// - a name given twice: RouterOS would act on one of the values (the check could see
///   `=.id=*own` and the router act on `=.id=*foreign`), and `.id` with `numbers` names
///   targets twice over;
/// - a name that is not a whole argument of the command but begins one (`num`, `comm`,
///   `on-u`, `rout`, `value`), or two names one of which begins the other: whether the API
///   takes abbreviated argument names as the console does is not relied on either way
///   (MikroTik's API manual says nothing of it), so a name the policy checks is never the
///   short form of one the router may act on. Commands the 7.x tree lacks (`listen`) are held
///   to this for the guarded names ([`guarded_names`]);
/// - a name outside `[a-z0-9.-]` (every argument of the 7.9 to 7.24 trees is in it: another
///   case, a space or a control byte is not a name the policy knows), or an API attribute
///   other than `.id` and `.proplist`.
fn argument_problem(cmd: &Command) -> Option<String> {
    let known = crate::schema::command_args(&cmd.path, &cmd.verb);
    for (i, (k, _)) in cmd.args.iter().enumerate() {
        let shown = crate::term::printable(k);
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return Some(format!("argument name `{shown}` is not one RouterOS uses"));
        }
        if k.starts_with('.') && k != ".id" && k != ".proplist" {
            return Some(format!("API attribute `{shown}` is not accepted"));
        }
        if let Some((j, _)) = cmd.args[..i].iter().find(|(j, _)| j == k) {
            return Some(format!("argument `{j}` given twice"));
        }
        if let Some((j, _)) = cmd.args[..i]
            .iter()
            .find(|(j, _)| j.starts_with(k.as_str()) || k.starts_with(j.as_str()))
        {
            return Some(format!(
                "arguments `{j}` and `{k}` given together: one begins the other"
            ));
        }
        if k.starts_with('.') {
            continue;
        }
        let abbreviates = match &known {
            Some(args) if args.contains(&k.as_str()) => None,
            Some(args) => args.iter().find(|a| a.starts_with(k.as_str())).copied(),
            None => guarded_names().find(|g| *g != k && g.starts_with(k.as_str())),
        };
        if let Some(full) = abbreviates {
            return Some(format!(
                "argument `{k}` is not a whole argument name (it begins `{full}`): give it in full"
            ));
        }
    }
    if cmd.get(".id").is_some() && cmd.get("numbers").is_some() {
        return Some("both `.id` and `numbers` given".into());
    }
    None
}

/// Whether a query or `value-name` naming `name` could tell the client about a field in
/// `hidden`: the field itself, or an abbreviation of it (RouterOS accepts unambiguous
/// abbreviations of argument names on the command line; whether an API query does is not
/// relied on either way, so an abbreviation is refused).
fn names_hidden(hidden: &[String], name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    !name.is_empty() && hidden.iter().any(|h| h.starts_with(&name))
}

/// Fields hidden from `cmd`'s replies: the policy's, the rule's, and its menu's secrets.
fn hidden_fields(policy: &Policy, rule_redact: &[String], cmd: &Command) -> Vec<String> {
    let mut redact = policy.redact.clone();
    redact.extend(rule_redact.iter().cloned());
    for (path, field) in SECRETS_BY_PATH {
        if cmd.path == *path && !redact.iter().any(|r| r == field) {
            redact.push(field.to_string());
        }
    }
    redact
}

/// The decision for `cmd` under `policy`.
///
/// A query (`?f`, `?-f`, `?f=x`, `?=f=x`, `?<f=x`, `?>f=x`, with `count-only` or not) naming a
/// hidden field is refused: the items it returns, or their count, would tell whether a guess is
/// right, a password learned one query at a time. So is `value-name` naming one (`get` returns
/// the value in `!done`, which is not redacted).
pub fn decide(policy: &Policy, cmd: &Command) -> Decision {
    if let Some(why) = argument_problem(cmd) {
        return Decision::Deny {
            rule: None,
            reason: format!("{}: {why}", cmd.word()),
        };
    }
    if policy.permissive {
        let redact = hidden_fields(policy, &[], cmd);
        if let Some(deny) = names_a_hidden_field(&redact, cmd, PERMISSIVE_RULE) {
            return deny;
        }
        return Decision::Allow {
            rule: PERMISSIVE_RULE.into(),
            owner_prefix: None,
            redact,
            items: Vec::new(),
        };
    }
    let segments: Vec<&str> = cmd.path.split('/').filter(|s| !s.is_empty()).collect();
    // The shallowest level with a rule naming this path decides every verb on it: a policy
    // naming a path does not fall through to its bases' rules there.
    let Some(level) = policy
        .rules
        .iter()
        .filter(|r| path_matches(&r.path, &segments))
        .map(|r| r.level)
        .min()
    else {
        return default_deny(policy, cmd);
    };
    for rule in &policy.rules {
        if rule.level != level || !path_matches(&rule.path, &segments) {
            continue;
        }
        if let Some(verbs) = &rule.verbs {
            if !verbs.iter().any(|v| v == &cmd.verb) {
                continue;
            }
        }
        if rule.action == Action::Deny {
            return Decision::Deny {
                rule: Some(rule.name.clone()),
                reason: format!("{} denies {}", rule.name, cmd.word()),
            };
        }
        if cmd.verb == "export" && rule.verbs.is_none() {
            return Decision::Deny {
                reason: format!(
                    "{}: an export is the configuration as script text, secrets included (RouterOS 6 by default, 7 with `show-sensitive`), which field redaction does not reach; a rule must list `export` in its verbs ({})",
                    cmd.word(),
                    rule.name
                ),
                rule: Some(rule.name.clone()),
            };
        }
        match arg_problem(rule, cmd) {
            None => {
                let redact = hidden_fields(policy, &rule.redact, cmd);
                if let Some(deny) = names_a_hidden_field(&redact, cmd, &rule.name) {
                    return deny;
                }
                return Decision::Allow {
                    rule: rule.name.clone(),
                    owner_prefix: rule.owner_prefix.clone(),
                    redact,
                    items: rule.items.clone(),
                };
            }
            Some(why) => {
                return Decision::Deny {
                    reason: format!("{}: {why} ({})", cmd.word(), rule.name),
                    rule: Some(rule.name.clone()),
                }
            }
        }
    }
    default_deny(policy, cmd)
}

/// A denial when a query or `value-name` of `cmd` names a field in `redact`.
fn names_a_hidden_field(redact: &[String], cmd: &Command, rule: &str) -> Option<Decision> {
    let hidden = cmd
        .queries
        .iter()
        .find(|q| names_hidden(redact, q))
        .or_else(|| {
            cmd.args
                .iter()
                .find(|(k, v)| {
                    k == "value-name" && names_hidden(redact, &String::from_utf8_lossy(v))
                })
                .map(|(k, _)| k)
        })?;
    let field = if hidden == "value-name" {
        String::from_utf8_lossy(cmd.get("value-name").unwrap_or_default()).into_owned()
    } else {
        hidden.clone()
    };
    Some(Decision::Deny {
        reason: format!(
            "{}: `{field}` is hidden from this client; a query or `value-name` may not name it ({rule})",
            cmd.word(),
        ),
        rule: Some(rule.to_string()),
    })
}

fn default_deny(policy: &Policy, cmd: &Command) -> Decision {
    Decision::Deny {
        rule: None,
        reason: format!(
            "{} is not allowed by policy {} (default deny)",
            cmd.word(),
            policy.name
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, verbs: &[&str]) -> Rule {
        Rule {
            name: format!("rule {path}"),
            action: Action::Allow,
            path: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            verbs: (!verbs.is_empty()).then(|| verbs.iter().map(|v| v.to_string()).collect()),
            args: None,
            query: None,
            proplist: None,
            owner_prefix: None,
            redact: vec![],
            items: vec![],
            level: 0,
        }
    }

    fn cmd(word: &str, args: &[(&str, &str)]) -> Command {
        let i = word.rfind('/').unwrap();
        Command {
            path: word[..i].to_string(),
            verb: word[i + 1..].to_string(),
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), bytes::Bytes::copy_from_slice(v.as_bytes())))
                .collect(),
            queries: vec![],
        }
    }

    fn policy(rules: Vec<Rule>) -> Policy {
        Policy {
            name: "p".into(),
            rules,
            redact: vec!["password".into()],
            permissive: false,
        }
    }

    fn allowed(p: &Policy, c: &Command) -> bool {
        matches!(decide(p, c), Decision::Allow { .. })
    }

    #[test]
    fn default_deny() {
        let p = policy(vec![rule("/ppp/secret", &["print"])]);
        assert!(allowed(&p, &cmd("/ppp/secret/print", &[])));
        let d = decide(&p, &cmd("/ip/service/set", &[]));
        assert!(matches!(d, Decision::Deny { rule: None, .. }), "{d:?}");
    }

    #[test]
    fn star_is_one_segment_and_double_star_any() {
        let p = policy(vec![rule("/ip/hotspot/*", &["print"])]);
        assert!(allowed(&p, &cmd("/ip/hotspot/user/print", &[])));
        assert!(!allowed(&p, &cmd("/ip/hotspot/user/profile/print", &[])));
        assert!(!allowed(&p, &cmd("/ip/hotspot/print", &[])));
        let p = policy(vec![rule("/**", &["print"])]);
        assert!(allowed(&p, &cmd("/system/resource/print", &[])));
        assert!(allowed(&p, &cmd("/print", &[])));
    }

    #[test]
    fn first_matching_rule_decides_and_deny_rules_stop() {
        let mut deny = rule("/user", &[]);
        deny.action = Action::Deny;
        let p = policy(vec![deny, rule("/**", &["print"])]);
        let d = decide(&p, &cmd("/user/print", &[]));
        assert!(
            matches!(&d, Decision::Deny { rule: Some(r), .. } if r == "rule /user"),
            "{d:?}"
        );
        assert!(allowed(&p, &cmd("/interface/print", &[])));
    }

    #[test]
    fn script_arguments_need_naming_even_when_any_argument_is_allowed() {
        let p = policy(vec![rule("/ppp/profile", &["add", "set"])]);
        assert!(allowed(&p, &cmd("/ppp/profile/add", &[("name", "x")])));
        let d = decide(&p, &cmd("/ppp/profile/set", &[("on-up", "/system reboot")]));
        assert!(
            matches!(&d, Decision::Deny { reason, .. } if reason.contains("`on-up` carries a script")),
            "{d:?}"
        );
        let mut named = rule("/ppp/profile", &["set"]);
        named.args = Some(BTreeMap::from([("on-up".to_string(), Constraint::Any)]));
        assert!(allowed(
            &policy(vec![named]),
            &cmd("/ppp/profile/set", &[("on-up", ":log info up")])
        ));
    }

    #[test]
    fn argument_constraints() {
        let mut r = rule("/ip/firewall/address-list", &["add"]);
        r.args = Some(BTreeMap::from([
            (
                "list".to_string(),
                Constraint::Enum(vec!["suspended".into()]),
            ),
            (
                "address".to_string(),
                Constraint::Cidr(
                    vec![(
                        false,
                        u128::from(u32::from(std::net::Ipv4Addr::new(100, 64, 0, 0))),
                        u128::from(u32::from(std::net::Ipv4Addr::new(100, 127, 255, 255))),
                    )],
                    false,
                ),
            ),
            (
                "comment".to_string(),
                Constraint::Regex(Regex::new("^ucrm_").unwrap()),
            ),
            ("timeout".to_string(), Constraint::Range(0, 86400)),
        ]));
        let p = policy(vec![r]);
        let ok = [
            ("list", "suspended"),
            ("address", "100.64.3.4"),
            ("comment", "ucrm_42"),
            ("timeout", "3600"),
        ];
        assert!(allowed(&p, &cmd("/ip/firewall/address-list/add", &ok)));
        for (k, bad) in [
            ("list", "mgmt"),
            ("address", "10.0.0.0/8"),
            ("address", "100.64.0.0/9"),
            ("comment", "admin"),
            ("timeout", "99999999"),
        ] {
            let mut a = ok.to_vec();
            a.retain(|(x, _)| *x != k);
            a.push((k, bad));
            assert!(
                !allowed(&p, &cmd("/ip/firewall/address-list/add", &a)),
                "{k}={bad}"
            );
        }
        // A key the rule does not list.
        let mut a = ok.to_vec();
        a.push(("disabled", "yes"));
        assert!(!allowed(&p, &cmd("/ip/firewall/address-list/add", &a)));
    }

    #[test]
    fn proplist_and_query_constraints() {
        let mut r = rule("/user", &["print"]);
        r.proplist = Some(vec!["name".into(), "group".into()]);
        r.query = Some(vec!["name".into()]);
        let p = policy(vec![r]);
        assert!(allowed(
            &p,
            &cmd("/user/print", &[(".proplist", "name,group")])
        ));
        assert!(!allowed(
            &p,
            &cmd("/user/print", &[(".proplist", "name,password")])
        ));
        let mut c = cmd("/user/print", &[]);
        c.queries = vec!["group".into()];
        assert!(!allowed(&p, &c));
        c.queries = vec!["name".into()];
        assert!(allowed(&p, &c));
    }

    #[test]
    fn ownership_requires_the_prefix_on_add_and_is_passed_on_for_changes() {
        let mut r = rule("/ppp/secret", &["add", "set", "remove"]);
        r.owner_prefix = Some("ucrm_".into());
        let p = policy(vec![r]);
        assert!(!allowed(&p, &cmd("/ppp/secret/add", &[("name", "a")])));
        assert!(allowed(
            &p,
            &cmd("/ppp/secret/add", &[("name", "a"), ("comment", "ucrm_7")])
        ));
        match decide(&p, &cmd("/ppp/secret/remove", &[(".id", "*1,*2")])) {
            Decision::Allow { owner_prefix, .. } => {
                assert_eq!(owner_prefix.as_deref(), Some("ucrm_"))
            }
            d => panic!("{d:?}"),
        }
    }

    /// A stricter rule first (as `extends` puts it) is not bypassed by the base's looser one.
    #[test]
    fn the_first_rule_naming_the_command_decides_even_when_its_constraints_fail() {
        let mut strict = rule("/ppp/secret", &["add"]);
        strict.owner_prefix = Some("ucrm_".into());
        let p = policy(vec![strict, rule("/ppp/secret", &["add", "print"])]);
        let d = decide(&p, &cmd("/ppp/secret/add", &[("name", "a")]));
        assert!(
            matches!(&d, Decision::Deny { rule: Some(r), .. } if r == "rule /ppp/secret"),
            "{d:?}"
        );
        assert!(allowed(&p, &cmd("/ppp/secret/print", &[])));
    }

    #[test]
    fn an_argument_given_twice_and_id_with_numbers_are_refused_before_any_rule() {
        let p = policy(vec![rule("/**", &[])]);
        for args in [
            vec![(".id", "*4"), (".id", "*6")],
            vec![(".id", "*4"), ("numbers", "*6")],
            vec![("comment", "ucrm_9"), ("comment", "vip")],
        ] {
            let d = decide(&p, &cmd("/ppp/secret/set", &args));
            assert!(
                matches!(&d, Decision::Deny { rule: None, reason } if reason.contains("twice") || reason.contains("both")),
                "{args:?}: {d:?}"
            );
        }
        assert!(allowed(
            &p,
            &cmd("/ppp/secret/set", &[(".id", "*4"), ("comment", "a")])
        ));
    }

    #[test]
    fn queries_and_value_name_on_hidden_fields_are_refused() {
        let mut p = policy(vec![rule("/**", &["print", "get"])]);
        p.redact = DEFAULT_REDACT.iter().map(|f| f.to_string()).collect();
        let denied = |c: &Command| matches!(decide(&p, c), Decision::Deny { reason, .. } if reason.contains("hidden"));
        for (path, q) in [
            ("/ppp/secret", "password"),
            ("/ppp/secret", "pass"),
            ("/interface/wireguard", "private-key"),
            ("/interface/wireguard/peers", "preshared-key"),
            ("/interface/eoip", "ipsec-secret"),
            ("/system/script", "source"),
            ("/snmp/community", "name"),
            ("/ip/ipsec/key/psk", "key"),
        ] {
            let mut c = cmd(&format!("{path}/print"), &[]);
            c.queries = vec![q.into()];
            assert!(denied(&c), "{path} ?{q}");
            let c = cmd(
                &format!("{path}/get"),
                &[("number", "0"), ("value-name", q)],
            );
            assert!(denied(&c), "{path} get {q}");
        }
        // The same names where they are no secret, and ordinary queries, are fine.
        let mut c = cmd("/interface/print", &[]);
        c.queries = vec!["name".into()];
        assert!(allowed(&p, &c));
        let mut c = cmd("/ppp/secret/print", &[]);
        c.queries = vec!["name".into(), "profile".into(), "disabled".into()];
        assert!(allowed(&p, &c));
    }

    fn expanded(word: &str, args: &[(&str, &str)]) -> Command {
        let mut c = cmd(word, args);
        c.expand().unwrap();
        c
    }

    fn denied_because(p: &Policy, c: &Command, why: &str) {
        let d = decide(p, c);
        assert!(
            matches!(&d, Decision::Deny { reason, .. } if reason.contains(why)),
            "{} {:?}: {d:?}",
            c.word(),
            c.args
        );
    }

    /// Whether the API takes an abbreviated argument name is not relied on either way: a name
    /// that is not a whole argument of the command but begins one is refused, so `=num=`,
    /// `=comm=`, `=on-u=`, `=rout=` or `=value=` cannot be checked as one thing and run as
    /// another; so are names in another case, with spaces, or API attributes RouterOS lacks.
    #[test]
    fn abbreviated_or_odd_argument_names_are_refused_before_any_rule() {
        let mut p = policy(vec![rule("/**", &[])]);
        p.redact = DEFAULT_REDACT.iter().map(|f| f.to_string()).collect();
        for (word, args) in [
            ("/ppp/secret/set", vec![(".id", "*4"), ("num", "*6")]),
            ("/ppp/secret/set", vec![(".id", "*4"), ("number", "*6")]),
            ("/ppp/secret/remove", vec![(".id", "*4"), ("n", "*6")]),
            (
                "/ppp/secret/add",
                vec![("comment", "ucrm_1"), ("comm", "vip")],
            ),
            (
                "/ppp/profile/set",
                vec![(".id", "*1"), ("on-u", "/system reboot")],
            ),
            (
                "/ppp/secret/set",
                vec![(".id", "*1"), ("rout", "0.0.0.0/0 10.0.0.9")],
            ),
            (
                "/ppp/secret/get",
                vec![("number", "x"), ("value", "password")],
            ),
            ("/ppp/secret/set", vec![(".ID", "*6")]),
            ("/ppp/secret/set", vec![("Comment", "vip")]),
            ("/ppp/secret/set", vec![(".id ", "*6")]),
            ("/ppp/secret/set", vec![("", "*6")]),
            ("/ppp/secret/set", vec![(".i", "*6")]),
        ] {
            let c = expanded(word, &args);
            let d = decide(&p, &c);
            assert!(
                matches!(&d, Decision::Deny { rule: None, .. }),
                "{word} {args:?}: {d:?}"
            );
        }
        // Whole names pass.
        assert!(allowed(
            &p,
            &expanded("/ppp/secret/set", &[(".id", "*4"), ("comment", "ucrm_1")])
        ));
        assert!(allowed(
            &p,
            &expanded(
                "/ppp/secret/get",
                &[("number", "x"), ("value-name", "name")]
            )
        ));
    }

    /// `print file=` and `export file=` write a file on the router (and a print-only policy
    /// must not write); an export is the menu's configuration as script text, which field
    /// redaction cannot reach: neither is allowed unless a rule names it.
    #[test]
    fn file_arguments_and_export_need_a_rule_naming_them() {
        let p = policy(vec![rule("/**", &["print"]), rule("/ppp/**", &[])]);
        denied_because(
            &p,
            &expanded("/ppp/active/print", &[("file", "x")]),
            "`file`",
        );
        denied_because(&p, &expanded("/ppp/secret/export", &[]), "export");
        denied_because(
            &p,
            &expanded("/ppp/secret/export", &[("show-sensitive", "")]),
            "export",
        );
        let mut named = rule("/ppp/secret", &["export"]);
        named.args = Some(BTreeMap::from([("file".to_string(), Constraint::Any)]));
        let p = policy(vec![named]);
        assert!(allowed(
            &p,
            &expanded("/ppp/secret/export", &[("file", "x")])
        ));
    }

    /// `host = true` over `0.0.0.0/0` and `::/0` (crm-pppoe's address-list `address`): one
    /// address per entry in every spelling a client may try.
    #[test]
    fn a_host_constraint_takes_single_addresses_only() {
        let c = Constraint::Cidr(
            vec![(false, 0, u128::from(u32::MAX)), (true, 0, u128::MAX)],
            true,
        );
        // Surrounding spaces are read as the same host.
        for ok in [
            "10.0.0.1",
            "10.0.0.1/32",
            "2001:db8::1",
            "2001:db8::1/128",
            "10.0.0.1 ",
        ] {
            assert!(c.holds(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "10.0.0.0/8",
            "0.0.0.0/0",
            "10.0.0.1-10.0.0.255",
            "10.0.0.1/31",
            "::/0",
            "2001:db8::/64",
            "!10.0.0.1",
            "",
            "10.0.0.1,10.0.0.0/8",
            "example.com",
            "10.0.0.1/0",
            "010.0.0.1/8",
        ] {
            assert!(!c.holds(bad.as_bytes()), "{bad:?}");
        }
    }

    /// A path spelled as the console does (`/ppp secret`), in another case, or with a space
    /// is not a path the tree knows: refused, not matched against another rule.
    #[test]
    fn odd_path_spellings_are_not_expanded() {
        for word in [
            "/ppp secret/print",
            "/PPP/SECRET/print",
            "/ppp/secret /print",
            "/ppp//secret/print",
            "/ppp/secret/PRINT",
            "/ppp/secret/print ",
        ] {
            let mut c = cmd(word, &[]);
            assert!(c.expand().is_err(), "{word:?} expanded to {}", c.word());
        }
    }

    #[test]
    fn query_names_drop_operators() {
        let words: Vec<Vec<u8>> = [
            "/ppp/secret/print",
            "?>comment",
            "?=name=x",
            "?-disabled",
            "?#|",
            ".tag=4",
        ]
        .iter()
        .map(|w| w.as_bytes().to_vec())
        .collect();
        let req =
            routeros_api::sentence::Request::parse(&routeros_api::Sentence::from_words(&words))
                .unwrap();
        let c = Command::from_request(&req);
        assert_eq!(c.path, "/ppp/secret");
        assert_eq!(c.verb, "print");
        assert_eq!(c.queries, ["comment", "name", "disabled"]);
    }
}
