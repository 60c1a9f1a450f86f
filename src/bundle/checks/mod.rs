//! Scripts run from the control machine: checks before and after deploying (seed §8,
//! covering every host of the plan: [`pre_deploy`], [`post_deploy`]), and the
//! certificate scripts (seed §6: Let's Encrypt while the cluster is online, an internal
//! CA after, and the copy to every node that terminates TLS: [`certs`]).

pub(super) mod certs;
mod post_deploy;
mod pre_deploy;

use super::{Ctx, File};
use crate::plan::Role;
use crate::syntax::shell;

pub(super) use post_deploy::expected_scrape_targets;

/// The check before deploying.
pub(in crate::bundle) const PRE_DEPLOY_CHECK: &str = "scripts/pre-deploy-check.sh";
/// The check after deploying.
pub(in crate::bundle) const POST_DEPLOY_CHECK: &str = "scripts/post-deploy-check.sh";

pub fn files(ctx: &Ctx) -> Vec<File> {
    vec![
        pre_deploy::pre_deploy(ctx),
        post_deploy::post_deploy(ctx),
        certs::letsencrypt(ctx),
        certs::internal_ca(ctx),
        certs::distribute_certs(ctx),
    ]
}

/// The addresses of a role's hosts as the words of a bash array: `('10.0.1.21'
/// '10.0.1.22')`.
fn ip_array(ctx: &Ctx, role: Role) -> String {
    let words: Vec<String> = ctx
        .topology
        .role(role)
        .map(|h| shell::quote(&h.ip.to_string()))
        .collect();
    format!("({})", words.join(" "))
}

/// An IP address as a quoted shell word ('' when there is none).
fn ip_word(ip: Option<std::net::Ipv4Addr>) -> String {
    shell::quote(&ip.map(|i| i.to_string()).unwrap_or_default())
}

/// The end of a check script: exits 1 when a check failed, else says all `what` checks
/// passed.
fn summary(what: &str) -> String {
    format!(
        r#"
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all {what} checks passed"
"#
    )
}
