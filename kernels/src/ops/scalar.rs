//! The scalar tier: the references of [`crate::reference`] themselves.

use crate::reference::lanes::ScalarTier;

crate::ops::contract::ops_tier!(ScalarTier, "scalar", #[inline]);
