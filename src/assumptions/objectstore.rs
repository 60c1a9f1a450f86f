//! Object storage constants (MinIO).
//!
//! MinIO's erasure rules are facts of its source, not estimates: the set sizes it
//! accepts, the default parity per set size, the quorums. They are listed here with
//! their sources ([`OBJECT_STORE_FACTS`]) and are not overridable; the group of
//! overridable estimates is empty because object storage needs none. MinIO's memory
//! bands per node ([`MINIO_RAM_BANDS`]) and its status (the pinned release, the
//! advisory it predates) are facts here too.

use super::Assumption;

assumptions! {
    group OBJECT_STORE;
}

/// The smallest erasure set MinIO forms.
pub const MINIO_SET_SIZE_MIN: Assumption = Assumption {
    id: "minio-set-size-min",
    label: "Smallest MinIO erasure set",
    value: 2.0,
    unit: "drives",
    source: "minio/minio RELEASE.2025-09-07T16-13-09Z cmd/endpoint-ellipses.go setSizes (2 … 16)",
};

/// The largest erasure set MinIO forms without MINIO_ERASURE_SET_DRIVE_COUNT.
pub const MINIO_SET_SIZE_MAX: Assumption = Assumption {
    id: "minio-set-size-max",
    label: "Largest MinIO erasure set",
    value: 16.0,
    unit: "drives",
    source: "minio/minio RELEASE.2025-09-07T16-13-09Z cmd/endpoint-ellipses.go setSizes; docs/distributed/DESIGN.md (\"each erasure set can be up to 16 drives\")",
};

/// The largest STANDARD parity MinIO accepts: half the set.
pub const MINIO_MAX_PARITY_SHARE: Assumption = Assumption {
    id: "minio-max-parity-share",
    label: "Largest MinIO parity, as a share of the erasure set",
    value: 0.5,
    unit: "ratio",
    source: "minio/minio internal/config/storageclass/storage-class.go ValidateParity (\"parity %d should be less than or equal to %d\", setDriveCount/2); MinIO docs, Erasure Coding (\"between EC:0 and 1/2 the Erasure Set size\")",
};

/// Where MinIO's memory bands come from.
pub const MINIO_RAM_SOURCE: &str = "MinIO docs, Hardware Checklist › Memory (min.io/docs/minio/linux/operations/checklists/hardware.html; minio/docs source/operations/checklists/hardware.rst, \"Total Host Storage / Recommended Host Memory\")";

macro_rules! ram_band {
    ($name:ident, $id:literal, $label:literal, $gib:expr) => {
        pub const $name: Assumption = Assumption {
            id: $id,
            label: $label,
            value: $gib,
            unit: "GiB",
            source: "MinIO docs, Hardware Checklist › Memory (min.io/docs/minio/linux/operations/checklists/hardware.html; minio/docs source/operations/checklists/hardware.rst)",
        };
    };
}

ram_band!(
    MINIO_RAM_UP_TO_1_TIB,
    "minio-ram-up-to-1-tib",
    "MinIO host memory, up to 1 TiB of storage per node",
    8.0
);
ram_band!(
    MINIO_RAM_UP_TO_10_TIB,
    "minio-ram-up-to-10-tib",
    "MinIO host memory, up to 10 TiB of storage per node",
    16.0
);
ram_band!(
    MINIO_RAM_UP_TO_100_TIB,
    "minio-ram-up-to-100-tib",
    "MinIO host memory, up to 100 TiB of storage per node",
    32.0
);
ram_band!(
    MINIO_RAM_UP_TO_1_PIB,
    "minio-ram-up-to-1-pib",
    "MinIO host memory, up to 1 PiB of storage per node",
    64.0
);
ram_band!(
    MINIO_RAM_ABOVE_1_PIB,
    "minio-ram-above-1-pib",
    "MinIO host memory, more than 1 PiB of storage per node",
    128.0
);

/// MinIO's memory bands: (the most storage per node in TiB the band covers, the host
/// memory it recommends in GiB), in order; the last band has no upper end.
pub const MINIO_RAM_BANDS: [(f64, Assumption); 5] = [
    (1.0, MINIO_RAM_UP_TO_1_TIB),
    (10.0, MINIO_RAM_UP_TO_10_TIB),
    (100.0, MINIO_RAM_UP_TO_100_TIB),
    (1024.0, MINIO_RAM_UP_TO_1_PIB),
    (f64::INFINITY, MINIO_RAM_ABOVE_1_PIB),
];

/// The host memory MinIO's hardware checklist recommends for a node holding this much
/// raw storage (drives × drive size), in GiB: 8, 16, 32, 64, then 128 above 1 PiB.
pub fn minio_ram_band_gib(tib_per_node: f64) -> f64 {
    let bands = MINIO_RAM_BANDS;
    bands
        .iter()
        .find(|(up_to, _)| tib_per_node <= *up_to)
        .map_or(bands[4].1.value, |(_, a)| a.value)
}

/// The MinIO release the bundle pins (its image tag, `bundle::objectstore::MINIO_IMAGE`;
/// a test checks they agree).
pub const MINIO_PINNED_RELEASE: &str = "RELEASE.2025-09-07T16-13-09Z";
/// The community edition's status: the minio/minio README says the repository is no
/// longer maintained, and the community edition is distributed as source only since
/// 2025-10-15 (no new binaries or images).
pub const MINIO_STATUS_SOURCE: &str = "github.com/minio/minio README (\"no longer maintained\"; community edition source-only since 2025-10-15)";
/// The advisory the pinned release predates.
pub const MINIO_ADVISORY: &str = "GHSA-jjjj-jwhf-8rgr";
pub const MINIO_ADVISORY_CVE: &str = "CVE-2025-62506";
/// The first release with its fix (minio/minio#21642, commit c1a49490).
pub const MINIO_ADVISORY_FIXED_IN: &str = "RELEASE.2025-10-15T17-29-55Z";
pub const MINIO_ADVISORY_SOURCE: &str = "github.com/minio/minio/security/advisories/GHSA-jjjj-jwhf-8rgr (CVE-2025-62506, high, CVSS 8.1; fix minio/minio#21642, in RELEASE.2025-10-15T17-29-55Z)";

/// MinIO facts the sizing uses; fixed (not plan fields).
pub const OBJECT_STORE_FACTS: &[Assumption] = &[
    MINIO_SET_SIZE_MIN,
    MINIO_SET_SIZE_MAX,
    MINIO_MAX_PARITY_SHARE,
    MINIO_RAM_UP_TO_1_TIB,
    MINIO_RAM_UP_TO_10_TIB,
    MINIO_RAM_UP_TO_100_TIB,
    MINIO_RAM_UP_TO_1_PIB,
    MINIO_RAM_ABOVE_1_PIB,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The checklist's table, at and around each band's edge.
    #[test]
    fn minio_ram_bands() {
        for (tib, gib) in [
            (0.01, 8.0),
            (1.0, 8.0),
            (1.01, 16.0),
            (10.0, 16.0),
            (50.0, 32.0),
            (100.0, 32.0),
            (101.0, 64.0),
            (1024.0, 64.0),
            (1024.5, 128.0),
            (65536.0, 128.0),
            (f64::NAN, 128.0),
        ] {
            assert_eq!(minio_ram_band_gib(tib), gib, "{tib} TiB");
        }
    }
}
