//! Placeholder.
/// tmp
pub struct BatchCircuit;
/// tmp
pub struct SlotPublicData;
