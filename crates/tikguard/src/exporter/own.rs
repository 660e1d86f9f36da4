//! The exporter's own `/metrics`: probes by result, their durations, probes running now,
//! requests refused and why, and the number of routers it may probe.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use super::probe::Outcome;

pub struct Own {
    registry: Registry,
    pub probes: IntCounterVec,
    pub durations: HistogramVec,
    pub in_flight: IntGauge,
    pub refused: IntCounterVec,
    pub targets: IntGauge,
}

impl Own {
    pub fn new() -> Own {
        let registry = Registry::new();
        let probes = IntCounterVec::new(
            Opts::new(
                "tikguard_exporter_probes_total",
                "Probes by result: success, the stage a failed one stopped at (connect, login, read, audit, timeout, queue), or coalesced (a scrape answered with the probe of the same router that finished while it waited).",
            ),
            &["result"],
        )
        .expect("valid metric");
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "tikguard_exporter_probe_duration_seconds",
                "Time a probe took, waiting for a slot included, by result (success, failure).",
            )
            .buckets(prometheus::exponential_buckets(0.05, 2.0, 12).expect("valid buckets")),
            &["result"],
        )
        .expect("valid metric");
        let in_flight = IntGauge::new(
            "tikguard_exporter_probes_in_flight",
            "Probes running now (holding a slot).",
        )
        .expect("valid metric");
        let refused = IntCounterVec::new(
            Opts::new(
                "tikguard_exporter_requests_refused_total",
                "Requests refused without probing: unknown_target (404), bad_request (400), busy (503: every slot and queue place taken), connections (over the connection limit).",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let targets = IntGauge::new(
            "tikguard_exporter_targets",
            "Routers in the inventory the exporter may probe.",
        )
        .expect("valid metric");
        for c in [
            Box::new(probes.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(durations.clone()),
            Box::new(in_flight.clone()),
            Box::new(refused.clone()),
            Box::new(targets.clone()),
        ] {
            registry.register(c).expect("unique metric names");
        }
        Own {
            registry,
            probes,
            durations,
            in_flight,
            refused,
            targets,
        }
    }

    pub fn record(&self, o: &Outcome) {
        let result = o.failed.as_ref().map_or("success", |(s, _)| s.as_str());
        self.probes.with_label_values(&[result]).inc();
        self.durations
            .with_label_values(&[if o.failed.is_none() {
                "success"
            } else {
                "failure"
            }])
            .observe(o.duration.as_secs_f64());
    }

    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

impl Default for Own {
    fn default() -> Own {
        Own::new()
    }
}
