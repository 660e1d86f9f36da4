//! The `forward` chain for a connection `dst-nat` sent to another host.
//!
//! RouterOS facts (MikroTik's Packet Flow and NAT manuals, help.mikrotik.com/docs/display/ROS/NAT):
//! `dstnat` runs in prerouting, before the routing decision; a connection translated to one of
//! the router's own addresses then goes through `input`, one translated to another host through
//! `forward`, with its destination port already translated and `connection-nat-state=dstnat`
//! (the default configuration's "drop all from WAN not DSTNATed" forward rule relies on it).
//!
//! Only the first packet of the connection (`connection-state=new`) is followed, in the
//! `forward` chain alone: a jump is not followed, and a rule with a matcher this does not decide
//! (`dst-address`, `out-interface`, `dst-address-type`, ...) is settled as the attacker would
//! wish (its accept counts, its drop does not) and listed, as the input analysis does.

use super::{Action, AddrSet, Firewall, InterfaceLists, Packet, Probe};

impl Firewall {
    /// The sources whose new connection, translated to `probe.port` of another host and arriving
    /// on `probe.interface`, the `forward` chain lets through, and the forward rules that had to
    /// be approximated.
    pub fn forward_dstnat(&self, probe: Probe<'_>, ifl: &InterfaceLists) -> (AddrSet, Vec<usize>) {
        let v6 = self.v6;
        let mut undecided = AddrSet::all(v6);
        let mut accepted = AddrSet::empty(v6);
        let mut approx = Vec::new();
        for rule in self.chain("forward") {
            if undecided.is_empty() {
                break;
            }
            if let Some((neg, p)) = &rule.protocol {
                if (p == probe.protocol) == *neg {
                    continue;
                }
            }
            if rule
                .dst_port
                .as_ref()
                .is_some_and(|p| !p.contains(probe.port))
            {
                continue;
            }
            if let Some((neg, name)) = &rule.in_interface {
                if ifl.name_matches(name, probe.interface) == *neg {
                    continue;
                }
            }
            if let Some((neg, list)) = &rule.in_interface_list {
                if ifl.contains(list, probe.interface) == *neg {
                    continue;
                }
            }
            // The connection is dst-nat'd: `connection-nat-state=dstnat` matches it,
            // `!dstnat` does not.
            if let Some((neg, _)) = rule.nat_state {
                let names_dstnat = rule
                    .nat_state_raw
                    .as_deref()
                    .is_some_and(|v| v.contains("dstnat"));
                if names_dstnat == neg {
                    continue;
                }
            }
            if rule.loopback_only || rule.payload_only || rule.ipsec_only {
                continue;
            }
            if rule.state_matches(Packet::New) == Some(false) {
                continue;
            }
            if rule
                .any_port
                .as_ref()
                .is_some_and(|p| !p.contains(probe.port))
                && rule.action != Action::Accept
            {
                continue;
            }
            let m = match rule.src.as_ref() {
                Some(s) => undecided.intersect(s),
                None => undecided.clone(),
            };
            if m.is_empty() {
                continue;
            }
            // `dst-address-type` is decided for the router's own addresses in `input`; here the
            // destination is another host, so it is left undecided.
            let uncertain = !rule.undecided.is_empty()
                || rule.dst_type_raw.is_some()
                || rule.state_matches(Packet::New).is_none();
            match rule.action {
                Action::Accept => {
                    if uncertain {
                        approx.push(rule.number);
                    }
                    accepted = accepted.union(&m);
                    if !uncertain {
                        undecided = undecided.minus(&m);
                    }
                }
                Action::Drop => {
                    if uncertain {
                        approx.push(rule.number);
                    } else {
                        undecided = undecided.minus(&m);
                    }
                }
                // Not followed: what the jumped-to chain drops is not counted.
                Action::Jump => approx.push(rule.number),
                Action::Return | Action::Passthrough | Action::Other => {}
            }
        }
        // The built-in chain's policy accepts what no rule decided.
        (accepted.union(&undecided), approx)
    }
}
