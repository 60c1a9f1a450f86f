//! Object storage constants (MinIO).
//!
//! MinIO's erasure rules are facts of its source, not estimates: the set sizes it
//! accepts, the default parity per set size, the quorums. They are listed here with
//! their sources ([`OBJECT_STORE_FACTS`]) and are not overridable; the group of
//! overridable estimates is empty because object storage needs none (the RAM guidance
//! per node is `minio_ram_guidance_gib` in ram.rs).

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

/// MinIO facts the sizing uses; fixed (not plan fields).
pub const OBJECT_STORE_FACTS: &[Assumption] = &[
    MINIO_SET_SIZE_MIN,
    MINIO_SET_SIZE_MAX,
    MINIO_MAX_PARITY_SHARE,
];
