//! Scalar references of every operation.
