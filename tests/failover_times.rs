//! Failover and recovery times from the timers (`deploy::failover`): best, average and
//! worst, by hand for each set of timers, and the lab's measured times inside the
//! window the planner states for the bundle's own timers.

use synapse_planner::deploy::failover::{self, BUNDLE, RecoveryTime, Timers};
use synapse_planner::plan::Plan;
use synapse_planner::sizing::failures;

/// (best, average, worst) in seconds.
type Expect = (f64, f64, f64);

fn triple(r: &RecoveryTime) -> Expect {
    (r.best_s, r.average_s, r.worst_s)
}

/// The primary's loss through PgBouncer and the VIP for these timers.
fn check(t: Timers, expect: Expect) {
    let r = failover::primary_loss(&t);
    assert_eq!(triple(&r), expect, "{t:?}: {}", r.arithmetic);
    // The arithmetic shows the three sums it gives.
    for x in [expect.0, expect.1, expect.2] {
        assert!(
            r.arithmetic
                .contains(&format!("= {} s", failover::seconds(x))),
            "{t:?}: {x} missing from {}",
            r.arithmetic
        );
    }
}

#[test]
fn primary_loss_follows_the_timers() {
    // The bundle's: (30 − 10) + 0 + (2 − 1) × 3 + 0 = 23; 30 + 10 + 2 × 3 + 1 = 47;
    // middles 25 + 5 + 4.5 + 0.5 = 35.
    check(BUNDLE, (23.0, 35.0, 47.0));
    // PgBouncer's default server_login_retry (15 s), as the lab's first run had it.
    check(
        Timers {
            login_retry_s: 15,
            ..BUNDLE
        },
        (23.0, 42.0, 61.0),
    );
    // A shorter key: ttl 20, loop_wait 5: 15 + 3 = 18; 20 + 5 + 6 + 1 = 32; 17.5 + 2.5 + 4.5 + 0.5.
    check(
        Timers {
            ttl_s: 20,
            loop_wait_s: 5,
            retry_timeout_s: 5,
            ..BUNDLE
        },
        (18.0, 25.0, 32.0),
    );
    // HAProxy: rise 3, inter 2: checks add 4–6 s.
    check(
        Timers {
            check_inter_s: 2,
            check_rise: 3,
            ..BUNDLE
        },
        (24.0, 35.5, 47.0),
    );
    // rise 1: the first good check marks it up (0–inter).
    check(
        Timers {
            check_rise: 1,
            ..BUNDLE
        },
        (20.0, 32.0, 44.0),
    );
    // Degenerate timers never panic and never go negative.
    check(
        Timers {
            ttl_s: 0,
            loop_wait_s: 10,
            retry_timeout_s: 0,
            check_inter_s: 0,
            check_fall: 0,
            check_rise: 0,
            login_retry_s: 0,
            advert_int_s: 0,
        },
        (0.0, 5.0, 10.0),
    );
}

#[test]
fn vip_move_follows_advert_int_and_priority() {
    for (t, priority, expect) in [
        // 3 × 1 + (256 − 190) / 256 = 3.2578… → 3.26; counted from the last advert.
        (BUNDLE, 190, (2.26, 2.76, 3.26)),
        // The master's priority: skew (256 − 200) / 256 = 0.22.
        (BUNDLE, 200, (2.22, 2.72, 3.22)),
        // advert_int 2: 6 + 2 × 66 / 256 = 6.52; window 4.52–6.52.
        (
            Timers {
                advert_int_s: 2,
                ..BUNDLE
            },
            190,
            (4.52, 5.52, 6.52),
        ),
    ] {
        let r = failover::vip_move(&t, priority);
        assert_eq!(triple(&r), expect, "{t:?} {priority}: {}", r.arithmetic);
    }
}

/// The lab's measurements (docs/lab.md, layer 3, 2026-12-07) fall inside the window the
/// planner states for the bundle's timers.
#[test]
fn the_labs_measurements_fall_inside_best_and_worst() {
    for r in [
        failover::primary_loss(&BUNDLE),
        failover::vip_move(&BUNDLE, failover::vrrp_priority(2)),
    ] {
        let m = r.measured;
        assert!(m.low_s <= m.high_s, "{}", r.event);
        assert!(
            r.best_s <= m.low_s && m.high_s <= r.worst_s,
            "{}: measured {}–{} s outside {}–{} s",
            r.event,
            m.low_s,
            m.high_s,
            r.best_s,
            r.worst_s
        );
        assert!(m.cite.contains("docs/lab.md") && m.cite.contains("2026-12-07"));
    }
    // The lab's first run, with PgBouncer's default server_login_retry of 15 s (47.3 s),
    // was outside today's window and inside the window of those timers.
    let old = failover::primary_loss(&Timers {
        login_retry_s: 15,
        ..BUNDLE
    });
    assert!(47.3 > failover::primary_loss(&BUNDLE).worst_s);
    assert!((old.best_s..=old.worst_s).contains(&47.3));
}

/// The whole-second window the lab's drill checks against is the same computation.
#[test]
fn the_labs_bound_is_the_same_window() {
    assert_eq!(failover::primary_loss_pause_s(), (23, 35, 47));
}

/// "Losing a node" shows the times: on the primary's Patroni host and the VIP holder,
/// and nowhere a failover does not happen.
#[test]
fn losing_a_node_carries_the_times() {
    let plan = Plan::default();
    let times = |host: &str| {
        failures::lose(&plan, host)
            .unwrap_or_else(|| panic!("{host}"))
            .times
            .iter()
            .map(triple)
            .collect::<Vec<_>>()
    };
    assert_eq!(times("patroni1"), vec![(23.0, 35.0, 47.0)]);
    assert_eq!(times("patroni2"), vec![]);
    assert_eq!(times("haproxy1"), vec![(2.26, 2.76, 3.26)]);
    assert_eq!(times("haproxy2"), vec![]);
    assert_eq!(times("synapse"), vec![]);
    let f = failures::lose(&plan, "patroni1").expect("patroni1");
    assert!(f.why.contains("35 s on average (23–47 s)"), "{}", f.why);
}

/// Two Patroni hosts: etcd has two members, so losing either host loses the majority;
/// the verdict is down and no sentence promises a promotion.
#[test]
fn two_patroni_hosts_agree_with_etcd() {
    let plan = Plan::default()
        .with_texts(&[("hosts.patroni.count", "2")])
        .expect("valid");
    for host in ["patroni1", "patroni2"] {
        let f = failures::lose(&plan, host).expect(host);
        assert_eq!(f.verdict.key(), "down", "{host}");
        assert!(f.times.is_empty(), "{host}");
        let text = format!("{} {}", f.why, f.details.join(" "));
        assert!(!text.contains("is promoted,"), "{host}: {text}");
        assert!(!text.contains("writes resume"), "{host}: {text}");
        assert!(text.contains("no replica is promoted"), "{host}: {text}");
    }
    // Three: the primary's loss promotes, a replica's touches nothing.
    let three = Plan::default();
    assert_eq!(
        failures::lose(&three, "patroni1")
            .expect("p1")
            .verdict
            .key(),
        "n+1"
    );
    assert_eq!(
        failures::lose(&three, "patroni3")
            .expect("p3")
            .verdict
            .key(),
        "n+1"
    );
}

/// The page's "how" for each time is its arithmetic, with the figure in it, and the
/// lab's figure with its citation.
#[test]
fn each_time_explains_itself() {
    let plan = Plan::default();
    let report = synapse_planner::report::Report::new(&plan);
    let json = report.to_json_value();
    let mut seen = 0;
    for (i, f) in report.failures.iter().enumerate() {
        for (k, t) in f.times.iter().enumerate() {
            for (key, value) in [
                ("best-s", t.best_s),
                ("average-s", t.average_s),
                ("worst-s", t.worst_s),
                ("measured.low-s", t.measured.low_s),
                ("measured.high-s", t.measured.high_s),
            ] {
                let path = format!("failures[{i}].times[{k}].{key}");
                assert!(
                    synapse_planner::report::lookup(&json, &path).is_some(),
                    "{path}"
                );
                let how = synapse_planner::explain::explain(&plan, &report, &path)
                    .unwrap_or_else(|| panic!("{path} unexplained"));
                assert!(how.contains(&failover::seconds(value)), "{path}: {how}");
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 10);
}
