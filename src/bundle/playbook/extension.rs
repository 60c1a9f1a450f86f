//! The Synapse settings the playbook has no variable for, as the YAML text vars.yml
//! hands to `matrix_synapse_configuration_extension_yaml`.

use super::{bucket, thousandths};
use crate::plan::Plan;
use crate::syntax::yaml::{self, Map, Node};

/// Seed §3: requests for e-mail/phone validation tokens, as (per_second in thousandths,
/// burst).
const SEED_RC_3PID_MILLI: (u64, u64) = (3, 5);

/// The settings that have no playbook variable, as YAML text for
/// `matrix_synapse_configuration_extension_yaml`. The playbook reads it with `from_yaml`
/// (PyYAML's safe loader), so it is plain YAML, without Ansible's tags.
pub(super) fn extension_yaml(plan: &Plan) -> String {
    let mut root = Map::new();
    root.blank().comment(
        "Seed §3: requests for e-mail/phone validation tokens, per client and per address.",
    );
    root.insert(
        "rc_3pid_validation",
        bucket(thousandths(SEED_RC_3PID_MILLI.0), SEED_RC_3PID_MILLI.1),
    );
    if !plan.synapse.per_cache_factors.is_empty() {
        let mut factors = Map::new();
        for (name, f) in &plan.synapse.per_cache_factors {
            // A factor is a float to Synapse: always written with a decimal point.
            factors.insert(name, Node::Float(*f));
        }
        root.blank().comment(
            "The plan's per-cache factors (override caches.global_factor for these caches).",
        );
        root.insert("caches", Map::new().with("per_cache_factors", factors));
    }
    yaml::Doc::new(root)
        .header(
            "Synapse settings the playbook has no variable for, merged recursively over the\n\
             homeserver.yaml it renders (matrix_synapse_configuration).",
        )
        .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::bundle::playbook::tests::plan;

    #[test]
    fn extension_yaml_holds_what_has_no_variable() {
        let plain = extension_yaml(&Plan::default());
        assert!(plain.contains("rc_3pid_validation:\n  per_second: 0.003\n  burst_count: 5\n"));
        assert!(
            !plain.contains("caches:"),
            "no per-cache factors in the plan"
        );
        let p = plan(&[(
            "synapse.per-cache-factors",
            "get_users_in_room: 5.0\n*stateGroupCache*: 2",
        )]);
        let ext = extension_yaml(&p);
        let v: serde_yaml::Value = serde_yaml::from_str(&ext).expect("YAML");
        assert_eq!(
            v["caches"]["per_cache_factors"]["*stateGroupCache*"].as_f64(),
            Some(2.0),
            "{ext}"
        );
        assert_eq!(
            v["caches"]["per_cache_factors"]["get_users_in_room"].as_f64(),
            Some(5.0)
        );
    }
}
