//! Runtime (placeholder, being written).
