//! CPU per host role (src/sizing/cpu.rs) against each host's vCPUs: a warning when a
//! host needs more than it has, an error when the load alone is far beyond it (more
//! than `cpu-far-short-factor` × its vCPUs), and Synapse's own rule (one core per busy
//! process).

use super::Out;
use crate::Severity;
use crate::assumptions as a;
use crate::plan::{Plan, Role};
use crate::sizing::cpu::{self, Basis, CpuBudget};

pub(super) fn check(plan: &Plan, out: &mut Out) {
    let oversubscribed = synapse_processes(plan, out);
    for b in cpu::cpu(plan).hosts.iter().filter(|b| b.count > 0) {
        if far_short(plan, b, out) {
            continue;
        }
        if b.role == Role::Synapse && oversubscribed {
            continue;
        }
        short(b, out);
    }
}

/// More Synapse processes than vCPUs: a busy process uses a whole core.
fn synapse_processes(plan: &Plan, out: &mut Out) -> bool {
    let vcpus = plan.host(Role::Synapse).vcpus;
    let n = plan.synapse_process_count();
    if plan.host(Role::Synapse).count == 0 || n <= vcpus {
        return false;
    }
    let ess = cpu::ess(plan);
    out.push(
        Severity::Warning,
        "synapse-cpu-oversubscribed",
        &["hosts.synapse.vcpus", "synapse.workers"],
        format!("{n} Synapse processes share {vcpus} vCPUs."),
        format!(
            "Each Synapse process runs its Python reactor on one core at a time (the GIL), so a busy process uses a whole core ({}). ESS sizing gives {} CPU to the homeserver for {} (ems-docs, ESS Sizing).",
            a::SYNAPSE_VCPUS_PER_PROCESS.label,
            ess.synapse_vcpus,
            ess.band
        ),
        format!("Give the Synapse host at least {n} vCPUs, or fewer workers."),
    );
    true
}

fn biggest(b: &CpuBudget) -> String {
    b.items
        .iter()
        .rev()
        .max_by_key(|i| i.vcpus)
        .map(|i| format!("the largest item is {} at {} vCPUs", i.name, i.vcpus))
        .unwrap_or_default()
}

/// The load items alone need more than `cpu-far-short-factor` × the host's vCPUs.
fn far_short(plan: &Plan, b: &CpuBudget, out: &mut Out) -> bool {
    let factor = plan.assume(&a::CPU_FAR_SHORT_FACTOR);
    if b.load_vcpus.as_f64() <= factor * b.vcpus as f64 {
        return false;
    }
    let path = format!("hosts.{}.vcpus", b.role.key());
    let load: Vec<String> = b
        .items
        .iter()
        .filter(|i| i.basis == Basis::Load)
        .map(|i| format!("{} {}", i.name, i.vcpus))
        .collect();
    out.push(
        Severity::Error,
        "cpu-far-short",
        &[path.as_str()],
        format!(
            "A {} host's load needs {} vCPUs ({}), more than {} × its {} vCPUs.",
            b.label,
            b.load_vcpus,
            load.join(" + "),
            crate::format::number(factor),
            b.vcpus
        ),
        format!(
            "Rule: a host whose load needs more than {} × its vCPUs cannot keep up ({}). Each figure divides the plan's load by the service's published rate per vCPU (the CPU items say which).",
            crate::format::number(factor),
            a::CPU_FAR_SHORT_FACTOR.source
        ),
        format!(
            "Give the {} hosts at least {} vCPUs, or add hosts so each carries less.",
            b.role.key(),
            crate::sizing::round_up_needed(b.vcpus_needed.as_f64())
        ),
    );
    true
}

/// The host needs more vCPUs than it has.
fn short(b: &CpuBudget, out: &mut Out) {
    if b.vcpus_free.0 >= 0 {
        return;
    }
    let path = format!("hosts.{}.vcpus", b.role.key());
    out.push(
        Severity::Warning,
        "cpu-short",
        &[path.as_str()],
        format!(
            "A {} host needs {} vCPUs and has {} ({}).",
            b.label,
            b.vcpus_needed,
            b.vcpus,
            biggest(b)
        ),
        "Each CPU item is the plan's load through the service's published rate per vCPU, a vendor's sizing guidance, or a stated floor (the budget's items give each source); short of them the host saturates at the peak.",
        format!(
            "Give the {} hosts at least {} vCPUs.",
            b.role.key(),
            crate::sizing::round_up_needed(b.vcpus_needed.as_f64())
        ),
    );
}
