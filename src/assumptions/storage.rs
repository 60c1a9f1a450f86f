//! Storage growth constants (database, media, WAL, backups).

use super::Assumption;

assumptions! {
    group STORAGE;
}
