//! The readers of untrusted text stay within their memory budget: every plan file up to
//! the import limit and every link costs at most 64 MiB of heap at its peak, measured here
//! by a counting allocator (deterministic: bytes, not seconds). Their time is measured in
//! `benches/report.rs` (docs/benchmarks.md). The budget and the limits behind it are
//! stated in docs/plan-text.md.

#![allow(unsafe_code)] // a global allocator that counts: the only unsafe code in the package

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use synapse_planner::plan::{self, link};

#[path = "support/reader_inputs.rs"]
mod reader_inputs;
use reader_inputs::hostile_files;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static A: Counting = Counting;

/// One measurement at a time: the counters are global.
static ONE: Mutex<()> = Mutex::new(());

const BUDGET: usize = 64 * 1024 * 1024;

/// Heap used by `f` at its peak, above what was live before it started.
fn peak_of(f: impl FnOnce()) -> usize {
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst).saturating_sub(base)
}

#[test]
fn plan_reader_stays_within_its_memory_budget() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    for (what, text) in hostile_files() {
        assert!(text.len() <= plan::MAX_FILE_BYTES, "{what}");
        let peak = peak_of(|| {
            let _ = plan::from_yaml(&text).validate();
        });
        eprintln!("{what}: peak {:.1} MiB", peak as f64 / 1048576.0);
        assert!(
            peak <= BUDGET,
            "{what}: {peak} bytes at peak, budget {BUDGET}"
        );
    }
}

#[test]
fn link_decoder_stays_within_its_memory_budget() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let deflated = |bytes: &[u8]| {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(bytes).unwrap();
        use base64::Engine;
        format!(
            "1.2.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(z.finish().unwrap())
        )
    };
    let many_fields: String = (0..40_000).map(|i| format!("{}=1;", i % 200)).collect();
    for (what, input) in [
        ("a deflate bomb", deflated(&vec![b'a'; 10_000_000])),
        ("the longest link", "A".repeat(link::MAX_FRAGMENT)),
        ("many fields", deflated(many_fields.as_bytes())),
    ] {
        let peak = peak_of(|| {
            if let Ok(o) = link::decode(&input) {
                let _ = o.validate();
            }
        });
        eprintln!("{what}: peak {:.1} MiB", peak as f64 / 1048576.0);
        assert!(
            peak <= BUDGET,
            "{what}: {peak} bytes at peak, budget {BUDGET}"
        );
    }
}
