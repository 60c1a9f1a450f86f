//! Findings about the services the plan runs, from their own hardware guides and their
//! status: etcd's disk (it shares the Patroni data disk), MinIO's memory band per node,
//! and the MinIO release the bundle pins.

use super::Out;
use crate::Severity;
use crate::assumptions as a;
use crate::deploy::failover::{PATRONI_LOOP_WAIT_S, PATRONI_RETRY_TIMEOUT_S};
use crate::plan::{Plan, Role};
use crate::sizing::objectstore::ObjectStorage;

pub(super) fn check(plan: &Plan, object_storage: &ObjectStorage, out: &mut Out) {
    etcd_disk(plan, out);
    minio_ram_band(plan, object_storage, out);
    minio_status(plan, out);
}

/// etcd's hardware guide: "Fast disks are the most critical factor for etcd deployment
/// performance and stability"; at least 50 sequential IOPS, 500 for heavily loaded
/// clusters (etcd.io/docs/v3.5/op-guide/hardware/, "Disks"). The bundle runs etcd on the
/// Patroni hosts, its data directory on the same disk as PostgreSQL's data and WAL. The
/// plan records only that disk's size, not its kind or speed, so the finding is advice
/// (info); it would be a warning or an error if the plan said the disk was slow.
fn etcd_disk(plan: &Plan, out: &mut Out) {
    let p = plan.host(Role::Patroni);
    if p.count == 0 {
        return;
    }
    out.push(
        Severity::Info,
        "etcd-disk-latency",
        &["hosts.patroni.disk-gib"],
        format!(
            "etcd runs on the {} Patroni host(s) and shares each one's data disk ({} GiB) with PostgreSQL's data and WAL; the plan does not say how fast that disk is.",
            p.count, p.disk_gib
        ),
        format!(
            "etcd's hardware guide: \"Fast disks are the most critical factor for etcd deployment performance and stability\"; etcd \"is very sensitive to disk write latency\": typically 50 sequential IOPS (a 7200 RPM disk) is required, 500 (a local SSD or a high-performance virtualized block device) recommended for heavily loaded clusters (etcd.io/docs/v3.5/op-guide/hardware/, Disks). Every etcd write waits for an fsync, and other processes' disk activity (PostgreSQL's checkpoints and WAL flushes here) lengthens it: etcd then misses heartbeats and loses its leader for a while (etcd docs, Tuning, Disk). Patroni renews its leader key through etcd every loop_wait ({PATRONI_LOOP_WAIT_S} s) and demotes the primary when etcd stays unreachable beyond retry_timeout ({PATRONI_RETRY_TIMEOUT_S} s): a slow disk can cost writes without any host failing."
        ),
        "Give the Patroni hosts SSD or NVMe data disks (at least the guide's 500 sequential IOPS), or put /var/lib/etcd on a disk of its own; before going live, check the disk's fdatasync latency, and in production keep etcd_disk_wal_fsync_duration_seconds' 99th percentile under 10 ms (etcd FAQ, \"What does the etcd warning 'failed to send out heartbeat on time' mean?\").",
    );
}

/// MinIO's hardware checklist recommends host memory by the storage a node holds: 8 GiB
/// up to 1 TiB, 16 up to 10 TiB, 32 up to 100 TiB, 64 up to 1 PiB, 128 above.
fn minio_ram_band(plan: &Plan, s: &ObjectStorage, out: &mut Out) {
    let m = plan.host(Role::Minio);
    let band = s.ram_guidance_gib;
    if m.count == 0 || m.ram_gib as f64 >= band {
        return;
    }
    out.push(
        Severity::Warning,
        "minio-ram-below-band",
        &["hosts.minio.ram-gib", "minio.drive-tib", "minio.drives-per-node"],
        format!(
            "Each MinIO node has {} GiB of RAM; for its {} TiB of drives ({} × {} TiB) MinIO's hardware checklist recommends {band} GiB.",
            m.ram_gib, s.tib_per_node, plan.minio.drives_per_node, plan.minio.drive_tib
        ),
        format!(
            "MinIO sizes host memory by the storage each node holds: up to 1 TiB 8 GiB, up to 10 TiB 16 GiB, up to 100 TiB 32 GiB, up to 1 PiB 64 GiB, more than 1 PiB 128 GiB ({}). Memory limits the concurrent requests a node serves; MinIO also preallocates 2 GiB per node in distributed setups (same page).",
            a::MINIO_RAM_SOURCE
        ),
        format!("Raise hosts.minio.ram-gib to at least {band} GiB, or spread the drives over more nodes (hosts.minio.count)."),
    );
}

/// The pinned MinIO release: the community repository is no longer maintained and the
/// release predates a security fix. Always on while the bundle deploys MinIO.
fn minio_status(plan: &Plan, out: &mut Out) {
    if plan.host(Role::Minio).count == 0 {
        return;
    }
    out.push(
        Severity::Warning,
        "minio-unmaintained",
        &["hosts.minio.count"],
        format!(
            "The bundle pins MinIO {}, from a community edition whose repository says it is no longer maintained and which has been distributed as source only since 2025-10-15; the pinned release lacks the fix for {} ({}), which came in {}.",
            a::MINIO_PINNED_RELEASE,
            a::MINIO_ADVISORY,
            a::MINIO_ADVISORY_CVE,
            a::MINIO_ADVISORY_FIXED_IN
        ),
        format!(
            "The advisory (high, CVSS 8.1): a service account or STS account restricted by an inline session policy could create new service accounts for its own user that do not carry the restriction (the sub-policy was not validated on \"own account\" operations) ({}). The bundle gives Synapse a plain user with a bucket policy, not a restricted service account, so it is exposed once someone adds such accounts (backups, tooling). No newer community image or binary is published, so no later fix reaches the pinned image either ({}).",
            a::MINIO_ADVISORY_SOURCE,
            a::MINIO_STATUS_SOURCE
        ),
        format!(
            "Pick one before going live: build MinIO from source at {} or later (a fixed release, its digest pinned in place of the bundle's image); use a maintained fork's image at a release that includes the fix; or use another S3 server that synapse-s3-storage-provider and rclone support (the bundle's MinIO files, erasure-coding figures and checks then no longer apply).",
            a::MINIO_ADVISORY_FIXED_IN
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;

    fn codes(changes: &[(&str, &str)]) -> Vec<(&'static str, Severity)> {
        let plan = Plan::default().with_texts(changes).expect("valid");
        Report::new(&plan)
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.code,
                    "etcd-disk-latency" | "minio-ram-below-band" | "minio-unmaintained"
                )
            })
            .map(|f| (f.code, f.severity))
            .collect()
    }

    /// (changes, whether minio-ram-below-band fires)
    fn check(changes: &[(&str, &str)], below_band: bool) {
        let got = codes(changes);
        assert!(
            got.contains(&("etcd-disk-latency", Severity::Info)),
            "{changes:?}"
        );
        assert!(
            got.contains(&("minio-unmaintained", Severity::Warning)),
            "{changes:?}"
        );
        assert_eq!(
            got.contains(&("minio-ram-below-band", Severity::Warning)),
            below_band,
            "{changes:?}: {got:?}"
        );
    }

    #[test]
    fn findings_fire_when_they_should() {
        // Default: 4 × 1 TiB per node → 16 GiB; the nodes have 32.
        check(&[], false);
        check(&[("hosts.minio.ram-gib", "16")], false);
        check(&[("hosts.minio.ram-gib", "15")], true);
        // 64 drives × 1024 TiB = 64 PiB per node: the 128 GiB band.
        check(
            &[
                ("minio.drives-per-node", "64"),
                ("minio.drive-tib", "1024"),
                ("hosts.minio.ram-gib", "127"),
            ],
            true,
        );
        check(
            &[
                ("minio.drives-per-node", "64"),
                ("minio.drive-tib", "1024"),
                ("hosts.minio.ram-gib", "128"),
            ],
            false,
        );
        // 16 × 64 TiB = 1 PiB: still 64 GiB.
        check(
            &[
                ("minio.drives-per-node", "16"),
                ("minio.drive-tib", "64"),
                ("hosts.minio.ram-gib", "64"),
            ],
            false,
        );
    }

    /// The finding names the release the bundle really pins (its image, in
    /// bundle/objectstore.rs, a private module).
    #[test]
    fn the_pinned_release_is_the_bundles() {
        let image = format!(
            "pub const MINIO_IMAGE: &str = \"quay.io/minio/minio:{}\";",
            a::MINIO_PINNED_RELEASE
        );
        assert!(
            include_str!("../bundle/objectstore.rs").contains(&image),
            "{image}"
        );
        // The fix is later than the pinned release (the tags sort by date).
        assert!(a::MINIO_ADVISORY_FIXED_IN > a::MINIO_PINNED_RELEASE);
    }
}
