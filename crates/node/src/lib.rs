//! Tandem node (in progress).
