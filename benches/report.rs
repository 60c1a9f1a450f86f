//! Native benchmark: the full report (validation + sizing + findings + JSON) for the
//! default plan and a 100k-user plan. Run: `cargo bench --bench report`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use synapse_planner::plan::{self, RawPlan};
use synapse_planner::report::Report;

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
                black_box((
                    synapse_planner::charts::ram_chart(&r, 640),
                    synapse_planner::charts::connections_chart(&r, 640),
                ))
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
