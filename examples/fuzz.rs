//! A long randomized run (a fuzz target without a nightly toolchain) over the two
//! parsers that take untrusted text: the share-link decoder and the plan-file reader.
//! Kept out of the test suite for its length. Run:
//!
//!     cargo run --profile fuzz --example fuzz -- 1000000
//!
//! Each case is one input to both parsers; a panic, or a reading that outgrows the
//! reader's limits, fails the run with the smallest input proptest can shrink it to.
//! Besides random text and mutated real links and plan files, the inputs include the
//! hostile shapes of issue 8 (alias expansion, many keys, deep nesting, byte-order marks,
//! repeated link fields, trailing bytes, non-canonical numbers). `.ci/run` runs it (see
//! scripts/test.sh); the figures of the last run are in docs/benchmarks.md.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use synapse_planner::plan::{self, Plan, YamlStyle, fields, link};

/// A plan with a few fields changed to random values (valid or not: a field whose value
/// is refused keeps its default). Validated twice at most: the edits, then without the
/// refused ones.
fn some_plan() -> impl Strategy<Value = Plan> {
    let n = fields().len();
    proptest::collection::vec((0..n, 0u64..100_000), 0..8).prop_map(|edits| {
        let mut raw = plan::RawPlan::default();
        for (i, v) in &edits {
            raw.set(&fields()[*i].path, v.to_string());
        }
        let v = plan::validate(&raw);
        if let Some(p) = v.plan {
            return p;
        }
        let defaults = plan::RawPlan::default();
        for p in v.errors() {
            raw.set(&p.path, defaults.get(&p.path).to_string());
        }
        plan::validate(&raw).plan.unwrap_or_default()
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

/// The shapes that once cost minutes or gigabytes (issue 8), at random sizes (smaller
/// than the import limit allows: the full-size ones are in tests/reader_limits.rs and the
/// benchmark; here they vary and get mutated): one string
/// referenced through many aliases, many keys, deep flow and block nesting, a byte-order
/// mark; and links with repeated fields, bytes after the compressed payload and
/// non-canonical numbers. The reader and the decoder must refuse or read each within
/// their limits; mutations of them probe the edges.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..50_000, 1usize..10_000).prop_map(|(len, refs)| {
            let refs = refs.min(900_000 / 4);
            format!(
                "schema: 1\nname: &a \"{}\"\nx: [{}]\n",
                "x".repeat(len.min(500_000)),
                vec!["*a"; refs].join(", ")
            )
        }),
        (1usize..20_000).prop_map(|n| (0..n).map(|i| format!("k{i}: 1\n")).collect()),
        (1usize..20_000).prop_map(|n| "[".repeat(n)),
        (1usize..20_000).prop_map(|n| "{a: ".repeat(n)),
        (1usize..20_000).prop_map(|n| "- ".repeat(n) + "x\n"),
        (1usize..2_000).prop_map(|n| (0..n)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect()),
        (some_plan()).prop_map(|p| format!("\u{FEFF}{}", plan::to_yaml(&p, YamlStyle::Full))),
        (0usize..200, 0usize..40).prop_map(|(code, extra)| {
            let payload = format!("{code}=1;{code}=2{}", ";".repeat(extra % 3));
            link_of(payload.as_bytes(), &[])
        }),
        (some_plan(), proptest::collection::vec(any::<u8>(), 1..64)).prop_map(|(p, junk)| {
            let text = link::encode(&p).unwrap_or_default();
            let payload = text.splitn(3, '.').nth(2).unwrap_or_default().to_string();
            let bytes =
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                    .unwrap_or_default();
            format!(
                "1.2.{}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    [bytes, junk].concat()
                )
            )
        }),
        "(0|00|01|\\+1|1)\\.(0|01|\\+1|1|2)\\.AwA",
    ]
}

/// A format-1 link of a payload, with `junk` after the compressed bytes.
fn link_of(payload: &[u8], junk: &[u8]) -> String {
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = z.write_all(payload);
    let mut bytes = z.finish().unwrap_or_default();
    bytes.extend_from_slice(junk);
    format!(
        "1.2.{}",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    )
}

/// One case in about 200 is a hostile shape (each costs up to tens of milliseconds; the
/// rest microseconds), so a million cases take minutes, not hours.
fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        40 => any::<String>(),
        40 => "[0-9]{1,2}\\.[0-9]{1,2}\\.[A-Za-z0-9_\\-=%]{0,600}",
        40 => "([a-z\\-]{1,20}:( [a-z0-9.\\-\\[\\]{}'\"!&*|>#]{0,20})?\n( {2,6}[a-z\\-]{1,20}:( [a-z0-9.\\-]{0,12})?\n){0,4}){0,12}",
        40 => (some_plan(), 0usize..4000, any::<char>(), any::<u8>()).prop_map(|(p, at, c, how)| mutate(
            link::encode(&p).unwrap_or_default(),
            at,
            c,
            how
        )),
        40 => (some_plan(), 0usize..4000, any::<char>(), any::<u8>()).prop_map(|(p, at, c, how)| mutate(
            plan::to_yaml(&p, YamlStyle::Full),
            at,
            c,
            how
        )),
        1 => hostile(),
        1 => (hostile(), 0usize..4000, any::<char>(), any::<u8>()).prop_map(|(s, at, c, how)| mutate(s, at, c, how)),
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
        let v = plan::from_yaml(&s).validate();
        // Bounded output too: one message per plan field and a capped number of key
        // problems, whatever the file holds.
        prop_assert!(
            v.problems.len() <= 2 * fields().len() + 100,
            "{} problems",
            v.problems.len()
        );
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
