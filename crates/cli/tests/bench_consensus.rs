//! `tandem bench consensus` end to end on small sets: real validator processes are measured,
//! the model is fitted on them and checked against each, and larger sets are simulated;
//! out-of-range arguments are refused with a message naming the flag.

use serde_json::Value;
use std::process::Command;

fn bench(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem")).args(["bench", "consensus"]).args(args).output().expect("run tandem")
}

#[test]
fn measures_small_sets_fits_the_model_and_simulates_a_larger_one() {
    let out = bench(&["--sizes", "2,3,4", "--heights", "4", "--warmup", "1", "--simulate", "12", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let measured = report["measured"].as_array().expect("measured rows");
    assert_eq!(measured.iter().map(|m| m["n"].as_u64().unwrap()).collect::<Vec<_>>(), vec![2, 3, 4]);
    for m in measured {
        assert_eq!(m["heights"].as_u64(), Some(4), "{m}");
        assert!(m["perHeightMs"]["p50"].as_f64().unwrap() > 0.0, "{m}");
        assert!(m["cpuPerValidatorHeightMs"].as_f64().unwrap() > 0.0, "{m}");
    }
    let costs = &report["costs"];
    assert!(costs["fixedMs"].as_f64().unwrap() >= 0.0 && costs["perMessageMs"].as_f64().unwrap() >= 0.0, "{costs}");
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 3);
    assert!(checks.iter().all(|c| c["predictedP50Ms"].as_f64().is_some()), "each size predicted from the others: {checks:?}");
    let simulated: Vec<(u64, u64)> =
        report["simulated"].as_array().unwrap().iter().map(|s| (s["n"].as_u64().unwrap(), s["cores"].as_u64().unwrap())).collect();
    let cores = report["cores"].as_u64().unwrap();
    let expected: Vec<(u64, u64)> = [2, 3, 4, 12].iter().map(|n| (*n, cores)).chain([2, 3, 4, 12].iter().map(|n| (*n, *n))).collect();
    assert_eq!(simulated, expected);
    // The table is printed to stderr beside the JSON.
    let table = String::from_utf8_lossy(&out.stderr);
    assert!(table.contains("| N (simulated) | cores |"), "{table}");
}

#[test]
fn out_of_range_arguments_are_refused() {
    for (args, message) in [
        (&["--sizes", "1"][..], "--sizes: 1 is out of range"),
        (&["--sizes", "65"][..], "--sizes: 65 is out of range"),
        (&["--simulate", "5000"][..], "--simulate: 5000 is out of range"),
        (&["--heights", "1"][..], "--heights: at least 2"),
        (&["--wan-delay-ms=-1"][..], "--wan-delay-ms: -1 is out of range"),
    ] {
        let out = bench(args);
        assert!(!out.status.success(), "{args:?} accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}
