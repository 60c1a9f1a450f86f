//! (being written)

use super::{Ctx, File};

pub fn files(_ctx: &Ctx) -> Vec<File> {
    Vec::new()
}
