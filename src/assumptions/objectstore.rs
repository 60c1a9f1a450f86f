//! Object storage constants (MinIO).

use super::Assumption;

assumptions! {
    group OBJECT_STORE;
}
