//! Generated documentation stays current: docs/plan-schema.md is exactly what the
//! schema produces. Run with UPDATE_DOCS=1 to rewrite it after changing a field.

use synapse_planner::plan;

#[test]
fn plan_schema_reference_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/plan-schema.md");
    let want = plan::schema_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).expect("write docs/plan-schema.md");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/plan-schema.md is out of date: run `UPDATE_DOCS=1 cargo test --test docs` and commit it"
    );
}

#[test]
fn readme_example_plan_is_valid() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md");
    let start = readme.find("```yaml\n").expect("a yaml block in README") + "```yaml\n".len();
    let end = start + readme[start..].find("```").expect("closed yaml block");
    let v = plan::from_yaml(&readme[start..end]).validate();
    assert_eq!(v.problems, vec![], "README's example plan");
    assert!(v.plan.is_some());
}
