//! Call capacity constants (TURN, LiveKit).

use super::Assumption;

assumptions! {
    group CALLS;
}
