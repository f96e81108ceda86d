//! A strict cursor over a byte slice for the decoders of this crate.

use crate::{DecodeError, DecodeReason};

/// Reads fixed-size fields front to back; every read names the type being decoded.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    ty: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(ty: &'static str, bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0, ty }
    }

    /// Reads the next `N` bytes, or fails with the total size the value would need.
    pub(crate) fn array<const N: usize>(&mut self, total_needed: usize) -> Result<[u8; N], DecodeError> {
        let end = self.pos + N;
        let slice = self
            .bytes
            .get(self.pos..end)
            .ok_or(DecodeError::new(self.ty, DecodeReason::Truncated { needed: total_needed, got: self.bytes.len() }))?;
        self.pos = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        let rest = self.bytes.len() - self.pos;
        if rest != 0 {
            return Err(DecodeError::new(self.ty, DecodeReason::TrailingBytes(rest)));
        }
        Ok(())
    }
}
