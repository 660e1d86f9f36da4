//! Which properties hold secrets, so that nothing downstream prints them.
//!
//! Every output of tikguard (reports, model dumps, snapshots, logs) passes property values through
//! [`redact`]. The list is by property name, from the secret-bearing properties seen in real
//! exports: passwords, pre-shared keys, RADIUS/PPP secrets, private keys, SNMP auth/encryption
//! passwords, WEP keys, BGP's `tcp-md5-key` (MikroTik's BGP manual), WireGuard's
//! `preshared-key` (WireGuard manual) and RoMON's `secrets` (RoMON manual).

/// True when a property of this name holds a secret.
pub fn is_secret_key(key: &[u8]) -> bool {
    const SUFFIXES: &[&[u8]] = &[
        b"password",
        b"passphrase",
        b"secret",
        b"pre-shared-key",
        b"private-key",
        b"-psk",
        b"enc-key",
        b"transmit-key",
        b"protection-key",
        b"auth-key",
        b"md5-key",
        b"preshared-key",
        b"secrets",
    ];
    let key = key.strip_prefix(b"!").unwrap_or(key);
    key == b"key"
        || key == b"psk"
        || key.starts_with(b"static-key-")
        || SUFFIXES.iter().any(|s| key.ends_with(s))
}

/// Menus where a property is secret although its name says nothing: in `/snmp community` the
/// `name` *is* the SNMP v1/v2c community, the shared secret of the protocol (MikroTik's SNMP
/// manual: "community name").
const SECRET_IN_MENU: &[(&str, &[u8])] = &[("/snmp community", b"name")];

/// The menus that have secrets of their own ([`is_secret_in`]).
pub fn menus_with_own_secrets() -> impl Iterator<Item = &'static str> {
    SECRET_IN_MENU.iter().map(|(m, _)| *m)
}

/// True when a property of this name holds a secret in this menu.
pub fn is_secret_in(menu: &str, key: &[u8]) -> bool {
    is_secret_key(key) || SECRET_IN_MENU.iter().any(|(m, k)| *m == menu && *k == key)
}

/// [`redact`] knowing the menu ([`is_secret_in`]).
pub fn redact_in<'a>(menu: &str, key: &[u8], value: &'a [u8]) -> &'a [u8] {
    if is_secret_in(menu, key) && !value.is_empty() {
        b"***"
    } else {
        value
    }
}

/// [`redact_embedded`] for the text of a statement in `menu`: also hides the values of the
/// properties that are secret only there.
pub fn redact_embedded_in<'a>(menu: &str, text: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
    match SECRET_IN_MENU.iter().find(|(m, _)| *m == menu) {
        Some((_, k)) => std::borrow::Cow::Owned(redact_with(text, &|key| key == *k).into_owned()),
        None => redact_embedded(text),
    }
}

/// The text to show for a property value: `***` for a non-empty secret, else the value.
pub fn redact<'a>(key: &[u8], value: &'a [u8]) -> &'a [u8] {
    if is_secret_key(key) && !value.is_empty() {
        b"***"
    } else {
        value
    }
}

/// Hides `secret-key=value` pairs inside text, such as a script `source=` that runs
/// `/tool fetch ... password="x"` or `/ppp secret add ... password=x`.
pub fn redact_embedded(text: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    redact_with(text, &|_| false)
}

/// Hides the values of secret keys, and of keys `also` accepts, inside text.
fn redact_with<'a>(text: &'a [u8], also: &dyn Fn(&[u8]) -> bool) -> std::borrow::Cow<'a, [u8]> {
    let is_key = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'=', &text[i..]) {
        let eq = i + off;
        let mut k = eq;
        while k > 0 && is_key(text[k - 1]) {
            k -= 1;
        }
        i = eq + 1;
        if k == eq || !(is_secret_key(&text[k..eq]) || also(&text[k..eq])) {
            continue;
        }
        let start = eq + 1;
        let mut end = start;
        if text.get(start) == Some(&b'"') {
            end += 1;
            while end < text.len() && text[end] != b'"' {
                end += if text[end] == b'\\' { 2 } else { 1 };
            }
            end = (end + 1).min(text.len());
        } else {
            while end < text.len() && !matches!(text[end], b' ' | b'\t' | b'\r' | b'\n' | b';') {
                end += 1;
            }
        }
        if end == start {
            continue;
        }
        let o = out.get_or_insert_with(Vec::new);
        o.extend_from_slice(&text[copied..start]);
        o.extend_from_slice(b"***");
        copied = end;
        i = end;
    }
    match out {
        None => std::borrow::Cow::Borrowed(text),
        Some(mut o) => {
            o.extend_from_slice(&text[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_properties_are_recognised_and_others_are_not() {
        for k in [
            "password",
            "secret",
            "wpa2-pre-shared-key",
            "ipsec-secret",
            "authentication-password",
            "mschapv2-password",
            "static-key-0",
            "wireless-psk",
            "export-passphrase",
            "private-key",
            "key",
        ] {
            assert!(is_secret_key(k.as_bytes()), "{k}");
        }
        for k in [
            "public-key",
            "key-size",
            "always-allow-password-login",
            "name",
            "passthrough",
        ] {
            assert!(!is_secret_key(k.as_bytes()), "{k}");
        }
    }

    #[test]
    fn embedded_secrets_in_script_text_are_hidden() {
        let src =
            b"/tool fetch user=\"u\" password=\"p w\" x=1;/ppp secret add name=a password=b\r\n";
        let r = redact_embedded(src);
        assert_eq!(
            &r[..],
            b"/tool fetch user=\"u\" password=*** x=1;/ppp secret add name=a password=***\r\n"
        );
        assert!(matches!(
            redact_embedded(b"name=x"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    /// SNMP v1/v2c communities are shared secrets carried in `name`: hidden in `/snmp community`
    /// only; `name` elsewhere is a name.
    #[test]
    fn snmp_community_names_are_secrets_in_their_menu_only() {
        assert!(is_secret_in("/snmp community", b"name"));
        assert!(!is_secret_in("/ip pool", b"name"));
        assert_eq!(redact_in("/snmp community", b"name", b"n0tpublic"), b"***");
        let stmt = b"set [ find default=yes ] name=n0tpublic addresses=10.0.0.0/8";
        assert_eq!(
            &redact_embedded_in("/snmp community", stmt)[..],
            b"set [ find default=yes ] name=*** addresses=10.0.0.0/8"
        );
        assert_eq!(
            &redact_embedded_in("/ip pool", b"add name=p1")[..],
            b"add name=p1"
        );
    }

    /// `/tool e-mail password` ends in `password`.
    #[test]
    fn email_password_is_a_secret() {
        assert!(is_secret_in("/tool e-mail", b"password"));
    }

    /// BGP `tcp-md5-key` (v6 `/routing bgp peer`, v7 `/routing bgp connection`), WireGuard
    /// peers' `preshared-key`, RoMON's `secrets` (on `/tool romon` and its ports).
    #[test]
    fn bgp_md5_wireguard_preshared_and_romon_secrets_are_secrets() {
        for k in ["tcp-md5-key", "preshared-key", "secrets"] {
            assert!(is_secret_key(k.as_bytes()), "{k}");
        }
        for k in ["public-key", "md5", "secret-name"] {
            assert!(!is_secret_key(k.as_bytes()), "{k}");
        }
    }

    #[test]
    fn redact_hides_non_empty_secrets_only() {
        assert_eq!(redact(b"password", b"hunter2"), b"***");
        assert_eq!(redact(b"password", b""), b"");
        assert_eq!(redact(b"comment", b"hunter2"), b"hunter2");
    }
}
