//! The configuration a router would have after running the statements: menus, ordered items,
//! properties.
//!
//! [`Config`] starts from what RouterOS has before any export line runs (the service table, the
//! built-in user groups, the `admin` user; see [`crate::defaults`]) and applies commands in order,
//! as `/import` would: `add` creates (honouring `place-before`), `set` modifies items picked by
//! name, number, internal id or a `[find ...]` with simple conditions, `remove` deletes, `enable`
//! and `disable` flip `disabled`, `unset` clears, `move` reorders. Settings menus (`/ip ssh`,
//! `/ip dns`) keep their properties on [`Menu::settings`].
//!
//! Exports `set` hardware and built-in items they never `add` (`set [ find default-name=ether1 ]`,
//! `/port set 0`); such an item is created on first reference, marked [`Origin::Implicit`].
//!
//! A statement the model cannot apply exactly (a regex `find`, a computed value in a selector) is
//! left out and reported in [`Config::warnings`]: never a guess. Scripting is not run.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::defaults;
use crate::span::{LineIndex, Span};
use crate::syntax::{parse, Command, Diagnostic, Parsed, StatementKind, Value, ValueKind};
use crate::value::parse_bool;
use crate::version::Version;

/// Where an item came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Present on every router before configuration (`/ip service` entries, group `full`, ...).
    Default,
    /// Referenced by `set` without being added: hardware or a built-in the model did not list.
    Implicit,
    /// Created by `add`.
    Added,
}

#[derive(Clone, Debug)]
pub struct Property {
    pub key: Bytes,
    pub value: Value,
    /// The statement that last set it (empty for defaults).
    pub statement: Span,
}

/// One item of a menu: a firewall rule, a user, a service.
#[derive(Clone, Debug)]
pub struct Item {
    /// RouterOS' internal id, shown as `*1A`.
    pub id: u32,
    pub origin: Origin,
    /// The `default=yes` flag of built-in items.
    pub builtin: bool,
    /// The statement that created it (empty for defaults and implicit items).
    pub statement: Span,
    pub props: Vec<Property>,
}

impl Item {
    fn new(id: u32, origin: Origin, statement: Span) -> Item {
        Item {
            id,
            origin,
            builtin: false,
            statement,
            props: Vec::new(),
        }
    }

    pub fn property(&self, key: &str) -> Option<&Property> {
        self.props.iter().find(|p| p.key == key.as_bytes())
    }

    /// The raw bytes of a property, if set.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.property(key).map(|p| p.value.as_bytes())
    }

    /// A property as text (lossy), if set.
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// `disabled=yes`.
    pub fn is_disabled(&self) -> bool {
        self.get("disabled").and_then(parse_bool).unwrap_or(false)
    }

    pub fn set(&mut self, key: &[u8], value: Value, statement: Span) {
        if let Some(p) = self.props.iter_mut().find(|p| p.key == key) {
            p.value = value;
            p.statement = statement;
        } else {
            self.props.push(Property {
                key: Bytes::copy_from_slice(key),
                value,
                statement,
            });
        }
    }

    pub fn unset(&mut self, key: &[u8]) {
        self.props.retain(|p| p.key != key);
    }

    fn set_from(&mut self, key: &Bytes, value: &Value, statement: Span) {
        if let Some(p) = self.props.iter_mut().find(|p| p.key == *key) {
            p.value = value.clone();
            p.statement = statement;
        } else {
            self.props.push(Property {
                key: key.clone(),
                value: value.clone(),
                statement,
            });
        }
    }
}

/// A menu: its settings (for settings menus such as `/ip ssh`) and its ordered items.
#[derive(Clone, Debug)]
pub struct Menu {
    pub path: Arc<str>,
    pub settings: Item,
    pub items: Vec<Item>,
    next_id: u32,
}

impl Menu {
    fn new(path: Arc<str>) -> Menu {
        Menu {
            path,
            settings: Item::new(0, Origin::Default, Span::default()),
            items: Vec::new(),
            next_id: 1,
        }
    }

    fn alloc_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Items not `disabled=yes`.
    pub fn enabled(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| !i.is_disabled())
    }

    /// The item whose `name` is `name`.
    pub fn by_name(&self, name: &str) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| i.get("name") == Some(name.as_bytes()))
    }

    /// Adds an item made by a program (not read from a source); returns its id.
    pub fn push(&mut self, props: &[(&str, &str)]) -> u32 {
        let id = self.alloc_id();
        let mut item = Item::new(id, Origin::Added, Span::default());
        for (k, v) in props {
            item.set(k.as_bytes(), Value::new(v.to_string()), Span::default());
        }
        self.items.push(item);
        id
    }
}

/// A whole router configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub version: Option<Version>,
    menus: Vec<Menu>,
    index: HashMap<Arc<str>, usize>,
    /// Statements the model could not apply exactly, with why.
    pub warnings: Vec<Diagnostic>,
    source: Bytes,
    lines: LineIndex,
    last_menu: Option<(Arc<str>, usize)>,
}

impl Config {
    /// An empty configuration with RouterOS' defaults for `version` (or the latest behaviour).
    pub fn with_defaults(version: Option<Version>) -> Config {
        let mut c = Config {
            version,
            menus: Vec::new(),
            index: HashMap::new(),
            warnings: Vec::new(),
            source: Bytes::new(),
            lines: LineIndex::new(b""),
            last_menu: None,
        };
        defaults::install(&mut c);
        c
    }

    /// Parses and applies a source; returns the model and the parse (statements, diagnostics).
    pub fn load(source: impl Into<Bytes>) -> (Config, Parsed) {
        let parsed = parse(source);
        (Config::from_parsed(&parsed), parsed)
    }

    /// Applies every command of a parse, in order, on top of the defaults.
    pub fn from_parsed(parsed: &Parsed) -> Config {
        let mut c = Config::with_defaults(parsed.version.clone());
        c.source = parsed.source.clone();
        c.lines = parsed.lines.clone();
        for st in &parsed.statements {
            if let StatementKind::Command(cmd) = &st.kind {
                c.apply(cmd, st.span);
            }
        }
        c
    }

    /// Applies `parsed` on top of what `base` (a script of the same kind) leaves on a router
    /// with RouterOS' defaults for `parsed`'s version: a file that edits a configuration it does
    /// not show, read as landing on `base`. What `base` made counts as present before the file:
    /// its statements' spans are cleared, as those of RouterOS' defaults are, so nothing points
    /// into `base`'s text, and `base`'s warnings are dropped.
    pub fn from_parsed_on(base: &Parsed, parsed: &Parsed) -> Config {
        let mut c = Config::with_defaults(parsed.version.clone());
        c.source = base.source.clone();
        c.lines = base.lines.clone();
        for st in &base.statements {
            if let StatementKind::Command(cmd) = &st.kind {
                c.apply(cmd, st.span);
            }
        }
        for m in &mut c.menus {
            m.settings.statement = Span::default();
            for p in &mut m.settings.props {
                p.statement = Span::default();
            }
            for i in &mut m.items {
                i.statement = Span::default();
                for p in &mut i.props {
                    p.statement = Span::default();
                }
            }
        }
        c.warnings.clear();
        c.last_menu = None;
        c.source = parsed.source.clone();
        c.lines = parsed.lines.clone();
        for st in &parsed.statements {
            if let StatementKind::Command(cmd) = &st.kind {
                c.apply(cmd, st.span);
            }
        }
        c
    }

    /// The source the model was read from (empty when built by a program).
    pub fn source(&self) -> &[u8] {
        &self.source
    }

    pub fn line_index(&self) -> &LineIndex {
        &self.lines
    }

    pub fn menus(&self) -> impl Iterator<Item = &Menu> {
        self.menus.iter()
    }

    pub fn menu(&self, path: &str) -> Option<&Menu> {
        self.index.get(path).map(|&i| &self.menus[i])
    }

    /// The items of a menu (empty if the menu is absent).
    pub fn items(&self, path: &str) -> &[Item] {
        self.menu(path).map(|m| &m.items[..]).unwrap_or(&[])
    }

    /// A settings property of a settings menu (`/ip ssh` `strong-crypto`).
    pub fn setting(&self, path: &str, key: &str) -> Option<&[u8]> {
        self.menu(path).and_then(|m| m.settings.get(key))
    }

    pub fn menu_mut(&mut self, path: &str) -> &mut Menu {
        let i = match self.index.get(path) {
            Some(&i) => i,
            None => {
                let a: Arc<str> = Arc::from(path);
                self.menus.push(Menu::new(a.clone()));
                self.index.insert(a, self.menus.len() - 1);
                self.menus.len() - 1
            }
        };
        &mut self.menus[i]
    }

    /// The menu for a parsed command's path. Consecutive commands share one `Arc` for their
    /// menu, so the last lookup is remembered by pointer before hashing.
    fn menu_mut_arc(&mut self, path: &Arc<str>) -> &mut Menu {
        if let Some((last, i)) = &self.last_menu {
            if Arc::ptr_eq(last, path) {
                return &mut self.menus[*i];
            }
        }
        let i = match self.index.get(path) {
            Some(&i) => i,
            None => {
                self.menus.push(Menu::new(path.clone()));
                self.index.insert(path.clone(), self.menus.len() - 1);
                self.menus.len() - 1
            }
        };
        self.last_menu = Some((path.clone(), i));
        &mut self.menus[i]
    }

    pub(crate) fn add_default(&mut self, path: &str, props: &[(&str, &str)]) {
        let m = self.menu_mut(path);
        let id = m.alloc_id();
        let mut item = Item::new(id, Origin::Default, Span::default());
        item.builtin = true;
        for (k, v) in props {
            item.set(k.as_bytes(), Value::new(v.to_string()), Span::default());
        }
        m.items.push(item);
    }

    fn warn(&mut self, at: Span, message: String) {
        let lc = self.lines.line_col(&self.source, at.start as usize);
        self.warnings.push(Diagnostic {
            line: lc.line,
            column: lc.column,
            message,
            span: at,
        });
    }

    /// Applies one command, as RouterOS would on import. Commands that do not change
    /// configuration (`print`, `export`, ...) are ignored.
    pub fn apply(&mut self, cmd: &Command, span: Span) {
        match &*cmd.verb {
            "add" => self.apply_add(cmd, span),
            "set" | "enable" | "disable" | "unset" | "remove" | "move" => {
                self.apply_edit(cmd, span)
            }
            _ => {}
        }
    }

    fn apply_add(&mut self, cmd: &Command, span: Span) {
        let mut place_before: Option<&Value> = None;
        let mut copy_from: Option<&Value> = None;
        let menu = self.menu_mut_arc(&cmd.menu);
        let id = menu.alloc_id();
        let mut item = Item::new(id, Origin::Added, span);
        item.props.reserve_exact(cmd.args.len());
        for arg in &cmd.args {
            match arg.key.as_deref() {
                Some(b"place-before") => place_before = Some(&arg.value),
                Some(b"copy-from") => copy_from = Some(&arg.value),
                Some(_) => {}
                None => {}
            }
        }
        if let Some(v) = copy_from {
            match select(menu, v) {
                Ok(Selected(ix)) if ix.len() == 1 => item.props = menu.items[ix[0]].props.clone(),
                _ => {
                    let msg = format!(
                        "copy-from={} does not name one item of {}; copied nothing",
                        v.to_lossy(),
                        cmd.menu
                    );
                    self.warn(span, msg);
                }
            }
        }
        for arg in &cmd.args {
            if let Some(k) = &arg.key {
                if &k[..] != b"place-before" && &k[..] != b"copy-from" {
                    item.set_from(k, &arg.value, span);
                }
            }
        }
        let menu = self.menu_mut_arc(&cmd.menu);
        let pos = match place_before {
            None => Ok(menu.items.len()),
            Some(v) => match select(menu, v) {
                Ok(Selected(ix)) if !ix.is_empty() => Ok(ix[0]),
                Ok(_) => Err(format!(
                    "place-before={} matches no item of {}; added at the end",
                    v.to_lossy(),
                    cmd.menu
                )),
                Err(e) => Err(format!("{e}; added at the end")),
            },
        };
        match pos {
            Ok(p) => menu.items.insert(p.min(menu.items.len()), item),
            Err(msg) => {
                menu.items.push(item);
                self.warn(span, msg);
            }
        }
    }

    fn apply_edit(&mut self, cmd: &Command, span: Span) {
        let verb = &*cmd.verb;
        let selector = cmd.get("numbers").or_else(|| cmd.positional(0));
        // `unset` names properties either with value-name= or as the second positional.
        let unset_names: Vec<Bytes> = if verb == "unset" {
            match cmd.get("value-name") {
                Some(v) => split_names(v.as_bytes()),
                None => cmd
                    .args
                    .iter()
                    .filter(|a| a.key.is_none())
                    .skip(usize::from(cmd.get("numbers").is_none()))
                    .flat_map(|a| split_names(a.value.as_bytes()))
                    .collect(),
            }
        } else {
            Vec::new()
        };
        // A settings menu: `set` without an item selector.
        let settings_unset = verb == "unset"
            && cmd.get("numbers").is_none()
            && cmd.get("value-name").is_none()
            && cmd.args.iter().filter(|a| a.key.is_none()).count() == 1;
        if (selector.is_none() && verb != "remove" && verb != "move") || settings_unset {
            let menu = self.menu_mut_arc(&cmd.menu);
            let target = &mut menu.settings;
            if settings_unset {
                for name in split_names(selector.map(|v| v.as_bytes()).unwrap_or(b"")) {
                    target.unset(&name);
                }
            } else {
                edit_item(target, cmd, verb, span, &unset_names);
            }
            return;
        }
        let Some(sel) = selector else {
            self.warn(span, format!("`{verb}` without an item to act on; ignored"));
            return;
        };
        let menu = self.menu_mut_arc(&cmd.menu);
        let selected = match select(menu, sel) {
            Ok(s) => s,
            Err(e) => {
                self.warn(span, format!("{e}; `{verb}` not applied"));
                return;
            }
        };
        let mut ix = selected.0;
        if ix.is_empty() && verb != "remove" && verb != "move" {
            // First reference to hardware or a built-in item the export never adds.
            if let Some(new) = implicit_items(menu, sel) {
                ix = new;
            }
        }
        if ix.is_empty() {
            // `remove [find ...]` that finds nothing is not an error on RouterOS either.
            if sel.kind != ValueKind::Expr {
                let msg = format!(
                    "`{}` selects no item of {}; `{verb}` not applied",
                    sel.to_lossy(),
                    cmd.menu
                );
                self.warn(span, msg);
            }
            return;
        }
        match verb {
            "remove" => {
                let mut k = 0;
                menu.items.retain(|_| {
                    let keep = !ix.contains(&k);
                    k += 1;
                    keep
                });
            }
            "move" => {
                let dest = cmd.get("destination").or_else(|| cmd.positional(1));
                let Some(dest) = dest else {
                    // Without a destination RouterOS moves to the end.
                    move_items(menu, &ix, usize::MAX);
                    return;
                };
                match select(menu, dest) {
                    Ok(Selected(d)) if !d.is_empty() => move_items(menu, &ix, d[0]),
                    _ => {
                        let msg = format!("move destination `{}` not understood", dest.to_lossy());
                        self.warn(span, msg);
                    }
                }
            }
            _ => {
                for i in ix {
                    edit_item(&mut menu.items[i], cmd, verb, span, &unset_names);
                }
            }
        }
    }
}

fn split_names(v: &[u8]) -> Vec<Bytes> {
    v.split(|&c| c == b',')
        .filter(|s| !s.is_empty())
        .map(Bytes::copy_from_slice)
        .collect()
}

fn edit_item(item: &mut Item, cmd: &Command, verb: &str, span: Span, unset: &[Bytes]) {
    match verb {
        "enable" => item.set(b"disabled", Value::new(&b"no"[..]), span),
        "disable" => item.set(b"disabled", Value::new(&b"yes"[..]), span),
        "unset" => {
            for k in unset {
                item.unset(k);
            }
        }
        _ => {
            for arg in &cmd.args {
                if let Some(k) = &arg.key {
                    if &k[..] != b"numbers" {
                        item.set_from(k, &arg.value, span);
                    }
                }
            }
        }
    }
}

fn move_items(menu: &mut Menu, ix: &[usize], dest: usize) {
    let dest_id = menu.items.get(dest).map(|i| i.id);
    let mut moved = Vec::new();
    let mut k = 0;
    menu.items.retain(|it| {
        let take = ix.contains(&k);
        k += 1;
        if take {
            moved.push(it.clone());
        }
        !take
    });
    let at = dest_id
        .and_then(|id| menu.items.iter().position(|i| i.id == id))
        .unwrap_or(menu.items.len());
    for (n, it) in moved.into_iter().enumerate() {
        menu.items.insert(at + n, it);
    }
}

/// Indices of selected items, in menu order.
struct Selected(Vec<usize>);

/// One condition of a `[find ...]`.
#[derive(Debug)]
enum Cond {
    Eq {
        key: Vec<u8>,
        value: Vec<u8>,
        negated: bool,
    },
    Flag {
        name: Vec<u8>,
        negated: bool,
    },
}

/// What `[find ...]`, a number, an internal id or a name selects.
#[derive(Debug)]
enum Selector {
    Find(Vec<Cond>),
    /// `[:pick [find ...] N]`.
    Pick(Vec<Cond>, usize),
    List(Vec<Ref>),
}

#[derive(Debug)]
enum Ref {
    Index(usize),
    Id(u32),
    Name(Vec<u8>),
}

fn parse_selector(v: &Value) -> Result<Selector, String> {
    let b = v.as_bytes();
    if v.kind == ValueKind::Expr {
        if b.first() == Some(&b'[') && b.last() == Some(&b']') {
            let inner = String::from_utf8_lossy(&b[1..b.len() - 1])
                .trim()
                .to_string();
            // `[:pick [find ...] N]`: the N-th item found, as scripts write "the first rule".
            if let Some(rest) = inner.strip_prefix(":pick ") {
                let rest = rest.trim();
                if let Some(close) = rest.rfind(']') {
                    if rest.starts_with('[') {
                        let n: usize = rest[close + 1..]
                            .trim()
                            .parse()
                            .map_err(|_| format!("`{}` is not understood", v.to_lossy()))?;
                        let conds = parse_find(&rest.as_bytes()[1..close])?;
                        return Ok(Selector::Pick(conds, n));
                    }
                }
            }
            return parse_find(&b[1..b.len() - 1]).map(Selector::Find);
        }
        return Err(format!(
            "computed selector `{}` cannot be resolved without running the script",
            v.to_lossy()
        ));
    }
    if v.kind == ValueKind::Quoted {
        return Ok(Selector::List(vec![Ref::Name(b.to_vec())]));
    }
    let mut refs = Vec::new();
    for part in b.split(|&c| c == b',').filter(|p| !p.is_empty()) {
        if part.iter().all(u8::is_ascii_digit) {
            let n = std::str::from_utf8(part)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("item number `{}` is too large", v.to_lossy()))?;
            refs.push(Ref::Index(n));
        } else if let Some(hex) = part.strip_prefix(b"*") {
            let id = std::str::from_utf8(hex)
                .ok()
                .and_then(|s| u32::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("`{}` is not an item id", v.to_lossy()))?;
            refs.push(Ref::Id(id));
        } else {
            refs.push(Ref::Name(part.to_vec()));
        }
    }
    Ok(Selector::List(refs))
}

/// Tokens of a find expression: words and quoted strings, `key=value` kept together.
fn find_tokens(s: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let mut tok = Vec::new();
        while i < s.len() && !s[i].is_ascii_whitespace() {
            if s[i] == b'"' {
                let mut j = i + 1;
                while j < s.len() && s[j] != b'"' {
                    j += if s[j] == b'\\' { 2 } else { 1 };
                }
                if j >= s.len() {
                    return Err("unterminated string in `find`".into());
                }
                tok.extend_from_slice(&crate::escape::unescape(&s[i + 1..j]));
                i = j + 1;
            } else if matches!(s[i], b'[' | b'(' | b'$') {
                return Err("computed value in `find`".into());
            } else {
                tok.push(s[i]);
                i += 1;
            }
        }
        out.push(tok);
    }
    Ok(out)
}

fn parse_find(inner: &[u8]) -> Result<Vec<Cond>, String> {
    let text = String::from_utf8_lossy(inner).trim().to_string();
    let unsupported = |why: &str| format!("`[{text}]` is not understood ({why})");
    let toks = find_tokens(inner).map_err(|e| unsupported(&e))?;
    let mut it = toks.into_iter().peekable();
    if it.next().as_deref() != Some(b"find") {
        return Err(unsupported("only `find` is evaluated"));
    }
    if it.peek().map(|t| &t[..]) == Some(b"where") {
        it.next();
    }
    let mut conds = Vec::new();
    for t in it {
        if t == b"and" {
            continue;
        }
        if t == b"or" || t.contains(&b'~') || t.contains(&b'<') || t.contains(&b'>') {
            return Err(unsupported(
                "only `key=value`, `flag` and `!flag` joined by `and`",
            ));
        }
        let (negated, t) = match t.strip_prefix(b"!") {
            Some(r) => (true, r.to_vec()),
            None => (false, t),
        };
        if let Some(eq) = t.iter().position(|&c| c == b'=') {
            let (key, value) = (&t[..eq], &t[eq + 1..]);
            let (key, negated) = match key.strip_suffix(b"!") {
                Some(k) => (k, !negated),
                None => (key, negated),
            };
            conds.push(Cond::Eq {
                key: key.to_vec(),
                value: value.to_vec(),
                negated,
            });
        } else {
            conds.push(Cond::Flag { name: t, negated });
        }
    }
    Ok(conds)
}

fn item_matches(item: &Item, c: &Cond) -> bool {
    match c {
        Cond::Flag { name, negated } => {
            let v = match &name[..] {
                b"default" => item.builtin,
                b"disabled" => item.is_disabled(),
                b"dynamic" | b"invalid" | b"running" => false,
                other => item
                    .props
                    .iter()
                    .find(|p| p.key == other)
                    .and_then(|p| parse_bool(p.value.as_bytes()))
                    .unwrap_or(false),
            };
            v != *negated
        }
        Cond::Eq {
            key,
            value,
            negated,
        } => {
            let v = match &key[..] {
                b"default" => parse_bool(value) == Some(item.builtin),
                b"disabled" => parse_bool(value) == Some(item.is_disabled()),
                b"dynamic" => parse_bool(value) == Some(false),
                k => item
                    .props
                    .iter()
                    .find(|p| p.key == k)
                    .is_some_and(|p| p.value.as_bytes() == &value[..]),
            };
            v != *negated
        }
    }
}

fn select(menu: &Menu, v: &Value) -> Result<Selected, String> {
    let sel = parse_selector(v)?;
    let mut out = Vec::new();
    match sel {
        Selector::Find(conds) => {
            for (i, item) in menu.items.iter().enumerate() {
                if conds.iter().all(|c| item_matches(item, c)) {
                    out.push(i);
                }
            }
        }
        Selector::Pick(conds, n) => {
            if let Some(i) = menu
                .items
                .iter()
                .enumerate()
                .filter(|(_, item)| conds.iter().all(|c| item_matches(item, c)))
                .map(|(i, _)| i)
                .nth(n)
            {
                out.push(i);
            }
        }
        Selector::List(refs) => {
            for r in refs {
                let found = match &r {
                    Ref::Index(n) => (*n < menu.items.len()).then_some(*n),
                    Ref::Id(id) => menu.items.iter().position(|i| i.id == *id),
                    Ref::Name(name) => menu
                        .items
                        .iter()
                        .position(|i| i.get("name") == Some(&name[..]))
                        .or_else(|| {
                            menu.items
                                .iter()
                                .position(|i| i.get("default-name") == Some(&name[..]))
                        }),
                };
                if let Some(i) = found {
                    if !out.contains(&i) {
                        out.push(i);
                    }
                }
            }
            out.sort_unstable();
        }
    }
    Ok(Selected(out))
}

/// Creates the items a `set` refers to but no statement added: returns their indices, or `None`
/// when the reference does not describe an item (a `find` on arbitrary properties).
fn implicit_items(menu: &mut Menu, v: &Value) -> Option<Vec<usize>> {
    let sel = parse_selector(v).ok()?;
    let mut item = Item::new(0, Origin::Implicit, Span::default());
    match sel {
        Selector::Pick(..) => None,
        Selector::Find(conds) => {
            if conds.is_empty() {
                return None;
            }
            for c in &conds {
                match c {
                    Cond::Eq {
                        key,
                        value,
                        negated: false,
                    } if key == b"default-name" || key == b"name" => {
                        item.set(key, Value::new(value.clone()), Span::default());
                        if key == b"default-name" && item.get("name").is_none() {
                            item.set(b"name", Value::new(value.clone()), Span::default());
                        }
                    }
                    Cond::Eq {
                        key,
                        value,
                        negated: false,
                    } if key == b"default" && parse_bool(value) == Some(true) => {
                        item.builtin = true
                    }
                    Cond::Flag {
                        name,
                        negated: false,
                    } if name == b"default" => item.builtin = true,
                    _ => return None,
                }
            }
            item.id = menu.alloc_id();
            menu.items.push(item);
            Some(vec![menu.items.len() - 1])
        }
        Selector::List(refs) => {
            let mut out = Vec::new();
            for r in refs {
                match r {
                    Ref::Name(name) => {
                        let mut it = item.clone();
                        it.id = menu.alloc_id();
                        it.set(b"name", Value::new(name), Span::default());
                        menu.items.push(it);
                        out.push(menu.items.len() - 1);
                    }
                    Ref::Index(n) if n < 4096 => {
                        while menu.items.len() <= n {
                            let mut it = item.clone();
                            it.id = menu.alloc_id();
                            menu.items.push(it);
                        }
                        out.push(n);
                    }
                    Ref::Id(id) if id == 0 || id >= 0xFFFF_FF00 => {
                        // `*0`, `*FFFFFFFE`: built-in default entries (`default`,
                        // `default-encryption` PPP profiles and the like).
                        let mut it = item.clone();
                        it.id = id;
                        it.builtin = true;
                        menu.items.push(it);
                        out.push(menu.items.len() - 1);
                    }
                    _ => return None,
                }
            }
            Some(out)
        }
    }
}
