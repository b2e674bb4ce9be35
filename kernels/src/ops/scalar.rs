//! The scalar tier: the references of [`crate::reference`] themselves.

use crate::reference::lanes::ScalarTier;

crate::ops::ops_tier!(ScalarTier, "scalar", #[inline]);
