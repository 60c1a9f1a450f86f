//! Every file of the default plan's bundle, as a snapshot: a change to any generated
//! file shows up as a reviewed diff. Fixed date and secrets (tests/support/bundles.rs).
//! After an intended change: `INSTA_UPDATE=always cargo test --test bundle_snapshots`,
//! read the diff, commit.

#[path = "support/bundles.rs"]
mod bundles;

use synapse_planner::plan::Plan;

#[test]
fn default_plan_bundle() {
    let files = bundles::bundle(&Plan::default());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/bundle-default");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        // The list of files, their modes and order, and the source file that makes each
        // ("where does this file come from" is one hop), then each file.
        let index: String = files
            .iter()
            .map(|f| format!("{:o} {}  <- {}\n", f.mode, f.path, f.source))
            .collect();
        insta::assert_snapshot!("_index", index);
        for f in &files {
            let name = f.path.replace('/', "__");
            insta::assert_snapshot!(name, &f.contents);
        }
    });
}
