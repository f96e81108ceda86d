//! Amount parsing: decimal units to the smallest unit, and clear refusals.

use tandem_cli::amount::{format_units, parse_amount, parse_raw, parse_units};

const E18: u128 = 1_000_000_000_000_000_000;

#[test]
fn decimal_units_to_wei() {
    assert_eq!(parse_units("1", 18).unwrap(), E18);
    assert_eq!(parse_units("1.5", 18).unwrap(), 15 * E18 / 10);
    assert_eq!(parse_units("0.000000000000000001", 18).unwrap(), 1);
    assert_eq!(parse_units(".25", 18).unwrap(), E18 / 4);
    assert_eq!(parse_units("2.", 18).unwrap(), 2 * E18);
    assert_eq!(parse_units("1_000.5", 18).unwrap(), 10005 * E18 / 10);
    assert_eq!(parse_units("0", 18).unwrap(), 0);
    // trailing zeros beyond the decimals are fine: the value is exact
    assert_eq!(parse_units("1.5000000000000000000000", 18).unwrap(), 15 * E18 / 10);
    assert_eq!(parse_amount("1.5", false).unwrap(), 15 * E18 / 10);
    assert_eq!(parse_amount("1500", true).unwrap(), 1500);
}

#[test]
fn largest_value_parses_and_one_more_overflows() {
    let max = format_units(u128::MAX, 18);
    assert_eq!(parse_units(&max, 18).unwrap(), u128::MAX);
    assert_eq!(parse_raw(&u128::MAX.to_string()).unwrap(), u128::MAX);
    let err = parse_units("340282366920938463463.374607431768211456", 18).unwrap_err().to_string();
    assert!(err.contains("too large"), "{err}");
    let err = parse_units("1000000000000000000000000", 18).unwrap_err().to_string();
    assert!(err.contains("too large") && err.contains("128 bits"), "{err}");
    let err = parse_raw("340282366920938463463374607431768211456").unwrap_err().to_string();
    assert!(err.contains("too large"), "{err}");
}

#[test]
fn too_many_decimals_is_refused_with_the_smallest_unit() {
    let err = parse_units("0.0000000000000000001", 18).unwrap_err().to_string();
    assert!(err.contains("19 decimals") && err.contains("has 18"), "{err}");
    assert!(err.contains("0.000000000000000001"), "{err}");
}

#[test]
fn negative_and_garbage_are_refused() {
    for (text, needle) in [
        ("-1", "negative"),
        ("-0.5", "negative"),
        ("", "empty"),
        (".", "not a number"),
        ("1.2.3", "not a decimal number"),
        ("1e18", "not a decimal number"),
        ("0x10", "not a decimal number"),
        ("abc", "not a decimal number"),
    ] {
        let err = parse_units(text, 18).unwrap_err().to_string();
        assert!(err.contains(needle), "{text:?}: {err}");
    }
    let err = parse_raw("1.5").unwrap_err().to_string();
    assert!(err.contains("not an integer") && err.contains("--wei"), "{err}");
    assert!(parse_raw("-3").unwrap_err().to_string().contains("negative"));
}

#[test]
fn formatting_is_the_inverse() {
    assert_eq!(format_units(15 * E18 / 10, 18), "1.5");
    assert_eq!(format_units(E18, 18), "1");
    assert_eq!(format_units(1, 18), "0.000000000000000001");
    assert_eq!(format_units(0, 18), "0");
}
