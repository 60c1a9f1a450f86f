//! Native benchmark: the full report (validation + sizing + findings + JSON) for the
//! default plan and a 100k-user plan, and the same with every chart the page draws; the
//! plan-file reader on hostile files.
//! Run: `cargo bench --bench report`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use synapse_planner::plan::{self, RawPlan};
use synapse_planner::report::Report;

#[path = "../tests/support/reader_inputs.rs"]
mod reader_inputs;

fn plans() -> Vec<(&'static str, RawPlan)> {
    let big = include_str!("../tests/plans/100k.yaml");
    vec![
        ("default", RawPlan::default()),
        ("100k", plan::from_yaml(big).raw),
    ]
}

fn bench(c: &mut Criterion) {
    for (name, raw) in plans() {
        c.bench_function(&format!("report/{name}"), |b| {
            b.iter(|| {
                let v = plan::validate(black_box(&raw));
                let r = Report::new(v.plan.as_ref().expect("valid plan"));
                black_box(r.to_json_value())
            })
        });
        c.bench_function(&format!("report+charts/{name}"), |b| {
            b.iter(|| {
                let v = plan::validate(black_box(&raw));
                let r = Report::new(v.plan.as_ref().expect("valid plan"));
                use synapse_planner::charts;
                black_box((
                    r.to_json_value(),
                    charts::ram_chart(&r, 640),
                    charts::connections_chart(&r, 640),
                    charts::storage::storage_chart(&r, 640),
                    charts::capacity::calls_chart(&r, 640),
                    charts::capacity::object_storage_chart(&r, 640),
                ))
            })
        });
    }
}

/// The plan reader on the hostile files of issue 8: each must cost linear time, well
/// under a second (docs/benchmarks.md).
fn hostile(c: &mut Criterion) {
    for (what, text) in reader_inputs::hostile_files() {
        c.bench_function(&format!("plan-reader/{what}"), |b| {
            b.iter(|| black_box(plan::from_yaml(black_box(&text)).validate()))
        });
    }
}

criterion_group!(benches, bench, hostile);
criterion_main!(benches);
