//! Amounts as people type them: decimal units (`1.5` ETH = 1.5·10^18 wei) or raw integers.

use anyhow::{bail, Result};

/// Decimals of ETH and of the devnet token.
pub const DECIMALS: u32 = 18;

/// Parses a decimal amount with at most `decimals` fractional digits into the token's
/// smallest unit. Refuses signs, exponents, empty input, too many decimals and values above
/// `2^128 - 1`, with a message saying what to type instead.
pub fn parse_units(text: &str, decimals: u32) -> Result<u128> {
    let t = text.trim();
    if t.is_empty() {
        bail!("empty amount: give a number such as 1.5");
    }
    if t.starts_with('-') {
        bail!("amount {t:?} is negative: amounts must be positive");
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let t: String = t.chars().filter(|c| *c != '_').collect();
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t.as_str(), ""),
    };
    if int.is_empty() && frac.is_empty() {
        bail!("amount {text:?} is not a number: give a number such as 1.5");
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        bail!("amount {text:?} is not a decimal number: use digits and at most one '.', e.g. 1.5 (or --wei for an integer in the smallest unit)");
    }
    let frac_trimmed = frac.trim_end_matches('0');
    if frac_trimmed.len() > decimals as usize {
        bail!(
            "amount {text:?} has {} decimals but the token has {decimals}: the smallest unit is 0.{}1",
            frac_trimmed.len(),
            "0".repeat(decimals as usize - 1)
        );
    }
    let overflow = || anyhow::anyhow!("amount {text:?} is too large: at most {} fits in 128 bits", format_units(u128::MAX, decimals));
    let scale = 10u128.checked_pow(decimals).ok_or_else(overflow)?;
    let int_value: u128 = if int.is_empty() { 0 } else { int.parse::<u128>().map_err(|_| overflow())? };
    let mut frac_value: u128 = 0;
    for (i, c) in frac_trimmed.chars().enumerate() {
        let digit = c.to_digit(10).expect("checked digits") as u128;
        frac_value += digit * 10u128.pow(decimals - 1 - i as u32);
    }
    int_value.checked_mul(scale).and_then(|v| v.checked_add(frac_value)).ok_or_else(overflow)
}

/// Parses an integer amount in the smallest unit (`--wei`).
pub fn parse_raw(text: &str) -> Result<u128> {
    let t = text.trim();
    if t.starts_with('-') {
        bail!("amount {t:?} is negative: amounts must be positive");
    }
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || c == '_') {
        bail!("amount {text:?} is not an integer: with --wei give the amount in the smallest unit, e.g. 1500000000000000000");
    }
    let digits: String = t.chars().filter(|c| *c != '_').collect();
    digits.parse::<u128>().map_err(|_| anyhow::anyhow!("amount {text:?} is too large: at most {} fits in 128 bits", u128::MAX))
}

/// Parses `text` as decimal units, or as a raw integer when `raw`.
pub fn parse_amount(text: &str, raw: bool) -> Result<u128> {
    if raw {
        parse_raw(text)
    } else {
        parse_units(text, DECIMALS)
    }
}

/// `value` in decimal units without trailing zeros (`1500000000000000000` → `1.5`).
pub fn format_units(value: u128, decimals: u32) -> String {
    let scale = 10u128.pow(decimals);
    let int = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return int.to_string();
    }
    let frac = format!("{:0width$}", frac, width = decimals as usize);
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// `value` shown the way the user typed it: decimal units, or raw with `--wei`.
pub fn show(value: u128, raw: bool) -> String {
    if raw {
        value.to_string()
    } else {
        format_units(value, DECIMALS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        for v in [0u128, 1, 10u128.pow(18), 15 * 10u128.pow(17), u128::MAX] {
            assert_eq!(parse_units(&format_units(v, 18), 18).unwrap(), v);
        }
    }
}
