//! A long randomized run (a fuzz target without a nightly toolchain) over the two
//! parsers that take untrusted text: the share-link decoder and the plan-file reader.
//! Kept out of the test suite for its length. Run:
//!
//!     cargo run --profile fuzz --example fuzz -- 1000000
//!
//! Each case is one input to both parsers; a panic fails the run with the smallest
//! input proptest can shrink it to. The figures of the last run are in README.md.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use synapse_planner::plan::{self, Plan, YamlStyle, fields, link};

/// A plan with a few fields changed to random values (valid or not: rejected edits
/// leave the plan as it was).
fn some_plan() -> impl Strategy<Value = Plan> {
    let n = fields().len();
    proptest::collection::vec((0..n, 0u64..100_000), 0..8).prop_map(|edits| {
        let mut p = Plan::default();
        for (i, v) in edits {
            if let Ok(q) = p.with_text(&fields()[i].path, &v.to_string()) {
                p = q;
            }
        }
        p
    })
}

/// Cut, insert into, or overwrite a string at a position.
fn mutate(s: String, at: usize, c: char, how: u8) -> String {
    let at = at % (s.len() + 1);
    let at = (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
    match how % 4 {
        0 => s[..at].to_string(),
        1 => {
            let mut t = s;
            t.insert(at, c);
            t
        }
        2 => {
            let mut chars: Vec<char> = s.chars().collect();
            if !chars.is_empty() {
                let i = at % chars.len();
                chars[i] = c;
            }
            chars.into_iter().collect()
        }
        _ => format!("{}{}", &s[..at], &s[at..].repeat(2)),
    }
}

fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{1,2}\\.[0-9]{1,2}\\.[A-Za-z0-9_\\-=%]{0,600}",
        "([a-z\\-]{1,20}:( [a-z0-9.\\-\\[\\]{}'\"!&*|>#]{0,20})?\n( {2,6}[a-z\\-]{1,20}:( [a-z0-9.\\-]{0,12})?\n){0,4}){0,12}",
        (some_plan(), 0usize..4000, any::<char>(), any::<u8>()).prop_map(|(p, at, c, how)| mutate(
            link::encode(&p),
            at,
            c,
            how
        )),
        (some_plan(), 0usize..4000, any::<char>(), any::<u8>()).prop_map(|(p, at, c, how)| mutate(
            plan::to_yaml(&p, YamlStyle::Full),
            at,
            c,
            how
        )),
    ]
}

fn main() {
    let cases: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&input(), |s| {
        if let Ok(opened) = link::decode(&s) {
            let _ = opened.validate();
        }
        let _ = plan::from_yaml(&s).validate();
        Ok(())
    });
    match result {
        Ok(()) => println!(
            "{cases} cases through link::decode and plan::from_yaml, no panic ({:.1} s)",
            started.elapsed().as_secs_f64()
        ),
        Err(e) => {
            eprintln!("FAILED: {e}");
            std::process::exit(1);
        }
    }
}
