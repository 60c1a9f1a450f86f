//! vars.yml's rate limits: the seed's values, per-address buckets scaled with the peak.

use super::super::{bucket, hundredths, map, thousandths};
use super::Builder;
use crate::plan::Plan;

/// Seed §3 values (the user's deployment notes) as (per_second in hundredths, burst).
const SEED_RC_MESSAGE: (u64, u64) = (1000, 50);
const SEED_RC_PER_IP: (u64, u64) = (17, 3);
const SEED_RC_ADMIN_REDACTION: (u64, u64) = (100, 50);
const SEED_RC_JOINS_LOCAL: (u64, u64) = (10, 10);
const SEED_RC_JOINS_REMOTE: (u64, u64) = (1, 10);
const SEED_RC_INVITES_PER_ROOM: (u64, u64) = (30, 10);
/// 0.003/s: kept in thousandths below.
const SEED_RC_INVITES_PER_USER_MILLI: (u64, u64) = (3, 5);
/// The playbook's own per-issuer default (the seed lists none; setting the variable
/// replaces the whole mapping, so it is repeated here).
const PLAYBOOK_RC_INVITES_PER_ISSUER: (u64, u64) = (30, 10);

/// How many times the seed's per-IP login/registration buckets the plan needs: the
/// seed's values are for the seed's cluster (the default plan's peak); a bigger peak
/// puts more users behind each shared address (office NAT, VPN gateway), so the bucket
/// grows with it. Never below the seed's values.
fn per_ip_scale(plan: &Plan) -> u64 {
    let seed_peak = Plan::default().peak_concurrent_users().max(1);
    plan.peak_concurrent_users().div_ceil(seed_peak).max(1)
}

pub(super) fn rate_limits(b: &mut Builder) {
    let plan = b.ctx.plan;
    let k = per_ip_scale(plan);
    let seed_peak = Plan::default().peak_concurrent_users();
    let per_ip = bucket(hundredths(SEED_RC_PER_IP.0 * k), SEED_RC_PER_IP.1 * k);
    let per_account = bucket(hundredths(SEED_RC_PER_IP.0), SEED_RC_PER_IP.1);
    b.section("Rate limits");
    b.var(
        "matrix_synapse_rc_message",
        bucket(hundredths(SEED_RC_MESSAGE.0), SEED_RC_MESSAGE.1),
        &[
            "Seed §3 values are the starting point. Per sender: every user has a bucket of their",
            "own, so the total grows with the users by itself and needs no scaling. 10/s (the",
            "playbook's 0.5/s) lets bots and bridges work.",
        ],
    );
    b.var_owned(
        "matrix_synapse_rc_registration",
        per_ip.clone(),
        vec![
            "Per client address, which Synapse reads from X-Forwarded-For (its listeners have".into(),
            "x_forwarded: true; Traefik passes HAProxy's header on, see trustedIPs). HAProxy must".into(),
            "set that header itself: Synapse believes its leftmost entry.".into(),
            format!(
                "Scaled: the seed's 0.17/s, burst 3, fit the seed's {seed_peak} users at peak; users"
            ),
            "behind one shared address (office NAT, VPN gateway) grow with the peak, so the".into(),
            format!(
                "bucket is x ceil({} / {seed_peak}) = x{k} (assumption; never below the seed's).",
                plan.peak_concurrent_users()
            ),
        ],
    );
    b.var_owned(
        "matrix_synapse_rc_login",
        map([
            ("address", per_ip),
            ("account", per_account.clone()),
            ("failed_attempts", per_account),
        ]),
        vec![
            format!(
                "address: per client address (X-Forwarded-For, as above), x{k} like registration."
            ),
            "account and failed_attempts are per account, against password guessing: the seed's"
                .into(),
            "0.17/s, burst 3, whatever the scale.".into(),
        ],
    );
    b.var(
        "matrix_synapse_rc_admin_redaction",
        bucket(
            hundredths(SEED_RC_ADMIN_REDACTION.0),
            SEED_RC_ADMIN_REDACTION.1,
        ),
        &["Seed §3 (per admin)."],
    );
    b.var(
        "matrix_synapse_rc_joins",
        map([
            (
                "local",
                bucket(hundredths(SEED_RC_JOINS_LOCAL.0), SEED_RC_JOINS_LOCAL.1),
            ),
            (
                "remote",
                bucket(hundredths(SEED_RC_JOINS_REMOTE.0), SEED_RC_JOINS_REMOTE.1),
            ),
        ]),
        &["Seed §3 (per user): remote joins are the expensive ones."],
    );
    b.var(
        "matrix_synapse_rc_invites",
        map([
            (
                "per_room",
                bucket(
                    hundredths(SEED_RC_INVITES_PER_ROOM.0),
                    SEED_RC_INVITES_PER_ROOM.1,
                ),
            ),
            (
                "per_user",
                bucket(
                    thousandths(SEED_RC_INVITES_PER_USER_MILLI.0),
                    SEED_RC_INVITES_PER_USER_MILLI.1,
                ),
            ),
            (
                "per_issuer",
                bucket(
                    hundredths(PLAYBOOK_RC_INVITES_PER_ISSUER.0),
                    PLAYBOOK_RC_INVITES_PER_ISSUER.1,
                ),
            ),
        ]),
        &[
            "Seed §3 per room and per invited user; per_issuer is the playbook's default (setting",
            "the variable replaces the whole mapping). Federation limits stay the playbook's.",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::super::tests::{plan, vars_of};

    #[test]
    fn per_ip_limits_scale_with_the_peak() {
        for (peak, scale) in [("50", 1), ("2500", 1), ("2501", 2), ("25000", 10), ("1", 1)] {
            let p = plan(&[
                ("users.registered", "100000"),
                ("users.peak-concurrent", peak),
            ]);
            assert_eq!(per_ip_scale(&p), scale, "peak {peak}");
        }
        let p = plan(&[
            ("users.registered", "100000"),
            ("users.peak-concurrent", "25000"),
        ]);
        let vars = vars_of(&p);
        assert!(
            vars.contains(
                "matrix_synapse_rc_login:\n  address:\n    per_second: 1.7\n    burst_count: 30\n  account:\n    per_second: 0.17\n    burst_count: 3\n"
            ),
            "{vars}"
        );
        assert!(
            vars.contains(
                "matrix_synapse_rc_registration:\n  per_second: 1.7\n  burst_count: 30\n"
            )
        );
        // Per-user limits stay at the seed's values at any scale.
        assert!(vars.contains("matrix_synapse_rc_message:\n  per_second: 10\n  burst_count: 50\n"));
    }
}
