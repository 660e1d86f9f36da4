//! `/interface wireguard add` without `private-key`: RouterOS generates the key pair ("If not
//! specified, it will be automatically generated upon interface creation", MikroTik's WireGuard
//! manual) and `print` shows `public-key`, read-only. The emulator gives the new interface the
//! public half of a fresh X25519 key pair (ring's, the crate rustls builds on) and keeps no
//! private half: it does not run WireGuard, it serves what a client reads.

/// The values RouterOS adds to a new item of `menu` that the request did not set.
pub fn on_add(menu: &str, values: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    if menu != "/interface wireguard" {
        return Vec::new();
    }
    let given = |k: &str| values.iter().any(|(n, _)| n == k);
    let mut out = Vec::new();
    if !given("public-key") {
        if let Some(k) = public_key() {
            out.push(("public-key".into(), k.into_bytes()));
        }
    }
    if !given("listen-port") {
        // The manual's default.
        out.push(("listen-port".into(), b"13231".to_vec()));
    }
    out
}

/// The base64 public key of a fresh X25519 key pair.
fn public_key() -> Option<String> {
    use base64::Engine as _;
    let rng = ring::rand::SystemRandom::new();
    let private =
        ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::X25519, &rng).ok()?;
    let public = private.compute_public_key().ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(public.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_wireguard_interface_gets_a_public_key_of_32_bytes() {
        let v = on_add("/interface wireguard", &[("name".into(), b"wg1".to_vec())]);
        let key = v.iter().find(|(k, _)| k == "public-key").unwrap();
        let key = String::from_utf8(key.1.clone()).unwrap();
        assert!(crate::harden::tunnel::check_key(&key).is_ok(), "{key}");
        // Two interfaces, two key pairs.
        let w = on_add("/interface wireguard", &[]);
        assert_ne!(v[0].1, w[0].1);
        assert!(on_add("/interface wireguard peers", &[]).is_empty());
    }
}
