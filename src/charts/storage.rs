//! The storage-over-time chart.
