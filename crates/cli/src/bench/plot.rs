//! The SVG of `tandem bench set --plot`: soft-confirmation latency (p50, p90, p99; log scale)
//! against offered load in the upper panel, included throughput against offered load (with
//! the line where everything offered is included) in the lower one. Drawn with plotters' SVG
//! backend alone (text is SVG `<text>`, no fonts loaded), so the same report always gives
//! the same bytes.

use super::set::SetBenchReport;
use anyhow::{anyhow, Result};
use plotters::coord::combinators::IntoLogRange;
use plotters::prelude::*;
use std::collections::BTreeMap;

/// Width and height of the picture, in pixels.
pub const SIZE: (u32, u32) = (960, 760);

/// One offered rate's points: the mean over its rows (`--repeat`) of each quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePoint {
    /// Offered load, tx/s.
    pub offered: f64,
    /// Latency p50, p90, p99 in seconds; `None` when no transaction of the rate was measured.
    pub latency_s: Option<[f64; 3]>,
    /// Included throughput, tx/s.
    pub included: f64,
}

/// The report's points, one per distinct offered rate, in increasing rate.
pub fn rate_points(report: &SetBenchReport) -> Vec<RatePoint> {
    let mut by_rate: BTreeMap<u64, Vec<&super::set::SetBenchRow>> = BTreeMap::new();
    for row in &report.rows {
        by_rate.entry(row.offered_tx_s).or_default().push(row);
    }
    by_rate
        .into_iter()
        .map(|(rate, rows)| {
            let latencies: Vec<[f64; 3]> =
                rows.iter().filter_map(|r| r.latency_ms).map(|l| [l.p50 / 1e3, l.p90 / 1e3, l.p99 / 1e3]).collect();
            let mean = |i: usize| latencies.iter().map(|l| l[i]).sum::<f64>() / latencies.len() as f64;
            RatePoint {
                offered: rate as f64,
                latency_s: (!latencies.is_empty()).then(|| [mean(0), mean(1), mean(2)]),
                included: rows.iter().map(|r| r.included_tx_s).sum::<f64>() / rows.len() as f64,
            }
        })
        .collect()
}

fn drawing<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing the plot: {e}")
}

const SERIES: [(&str, RGBColor); 3] = [("p50", RGBColor(31, 119, 180)), ("p90", RGBColor(255, 127, 14)), ("p99", RGBColor(214, 39, 40))];
const INCLUDED: RGBColor = RGBColor(44, 160, 44);
const IDEAL: RGBColor = RGBColor(160, 160, 160);

/// Draws `points` joined by a line with a dot of `radius` on each, named `name` in the legend.
fn draw_line_with_points<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    name: impl Into<String>,
    radius: i32,
) -> Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
        .map_err(drawing)?
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    chart.draw_series(points.into_iter().map(|p| Circle::new(p, radius, color.filled()))).map_err(drawing)?;
    Ok(())
}

/// Draws the legend of the series named so far, boxed in the upper left corner.
fn draw_legend<'a, X: Ranged, Y: Ranged>(chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE)
        .border_style(BLACK)
        .draw()
        .map_err(drawing)
}

/// The SVG document for `report` (see the module doc).
pub fn latency_plot_svg(report: &SetBenchReport) -> Result<String> {
    let points = rate_points(report);
    let x_max = points.iter().map(|p| p.offered).fold(0.0, f64::max).max(1.0) * 1.1;
    let latencies: Vec<f64> = points.iter().filter_map(|p| p.latency_s).flatten().filter(|l| *l > 0.0).collect();
    let (lat_lo, lat_hi) = if latencies.is_empty() {
        (0.1, 10.0)
    } else {
        (latencies.iter().copied().fold(f64::MAX, f64::min) / 1.5, latencies.iter().copied().fold(0.0, f64::max) * 1.5)
    };
    let tp_max = points.iter().map(|p| p.included.max(p.offered)).fold(0.0, f64::max).max(1.0) * 1.1;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let title = format!("tandem bench set: {} members on {} cores", report.members, report.cores);
        let root = root.titled(&title, ("sans-serif", 22)).map_err(drawing)?;
        let (upper, lower) = root.split_vertically(SIZE.1 * 55 / 100);

        let mut chart = ChartBuilder::on(&upper)
            .margin(12)
            .caption(
                format!(
                    "soft-confirmation latency (submit → included on its member); block time {} ms, max {} ops per block",
                    report.block_time_ms, report.max_block_ops
                ),
                ("sans-serif", 15),
            )
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..x_max, (lat_lo..lat_hi).log_scale())
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc("offered load (tx/s)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("latency (s, log scale)")
            .y_label_formatter(&|y| if *y < 10.0 { format!("{y:.1}") } else { format!("{y:.0}") })
            .draw()
            .map_err(drawing)?;
        for (i, (name, color)) in SERIES.iter().enumerate() {
            let series: Vec<(f64, f64)> = points.iter().filter_map(|p| p.latency_s.map(|l| (p.offered, l[i]))).collect();
            draw_line_with_points(&mut chart, series, *color, *name, 4)?;
        }
        draw_legend(&mut chart)?;

        let mut chart = ChartBuilder::on(&lower)
            .margin(12)
            .caption("included throughput (steady window, block to block)", ("sans-serif", 15))
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..x_max, 0f64..tp_max)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc("offered load (tx/s)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("included (tx/s)")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(drawing)?;
        chart
            .draw_series(LineSeries::new(vec![(0.0, 0.0), (x_max, x_max)], IDEAL.stroke_width(1)))
            .map_err(drawing)?
            .label("included = offered")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], IDEAL.stroke_width(1)));
        let series: Vec<(f64, f64)> = points.iter().map(|p| (p.offered, p.included)).collect();
        draw_line_with_points(&mut chart, series, INCLUDED, "included", 4)?;
        draw_legend(&mut chart)?;
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

/// The SVG of `tandem bench consensus --plot`: time per height (p50, log scale) against the
/// set size (log scale): the measured points, the model on this machine's cores, and the
/// model of a deployment with one core per validator.
pub fn consensus_plot_svg(report: &super::consensus::ConsensusBenchReport) -> Result<String> {
    let measured: Vec<(f64, f64)> = report.measured.iter().map(|m| (m.n as f64, m.per_height_ms.p50)).collect();
    let here: Vec<(f64, f64)> =
        report.simulated.iter().filter(|s| s.cores == report.cores).map(|s| (s.n as f64, s.per_height_ms[0])).collect();
    let deployed: Vec<(f64, f64)> =
        report.simulated.iter().filter(|s| s.cores == s.n && s.cores != report.cores).map(|s| (s.n as f64, s.per_height_ms[0])).collect();
    let wan_ms = report.simulated.iter().find(|s| s.cores == s.n && s.cores != report.cores).map_or(0.0, |s| s.delay_ms);
    let all: Vec<(f64, f64)> = measured.iter().chain(&here).chain(&deployed).copied().filter(|p| p.1 > 0.0).collect();
    let (x_lo, x_hi) =
        (all.iter().map(|p| p.0).fold(f64::MAX, f64::min).min(4.0) / 1.2, all.iter().map(|p| p.0).fold(0.0, f64::max).max(4.0) * 1.2);
    let (y_lo, y_hi) =
        (all.iter().map(|p| p.1).fold(f64::MAX, f64::min).min(10.0) / 1.5, all.iter().map(|p| p.1).fold(0.0, f64::max).max(10.0) * 1.5);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, SIZE.1 * 6 / 10)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let title = format!("tandem bench consensus: time per height against set size ({} cores measured)", report.cores);
        let root = root.titled(&title, ("sans-serif", 20)).map_err(drawing)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .caption(format!("consensus alone, block time {} ms; p50 per height", report.block_time_ms), ("sans-serif", 15))
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale())
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc("validators (log scale)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("ms per height (log scale)")
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(drawing)?;
        let lines = [
            (here, SERIES[0].1, format!("model, {} shared cores", report.cores)),
            (deployed, SERIES[1].1, format!("model, one core per validator, {wan_ms} ms one-way delay")),
        ];
        for (points, color, name) in lines {
            draw_line_with_points(&mut chart, points, color, name, 3)?;
        }
        let color = SERIES[2].1;
        chart
            .draw_series(measured.into_iter().map(|p| Cross::new(p, 7, color.stroke_width(3))))
            .map_err(drawing)?
            .label("measured (processes on this machine)")
            .legend(move |(x, y)| Cross::new((x + 10, y), 6, color.stroke_width(3)));
        draw_legend(&mut chart)?;
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::set::tests::sample_report;

    /// Every element of `svg`, after checking that it is well-formed XML with an `<svg>` root.
    fn elements(svg: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut out = vec![];
        for event in xml::reader::EventReader::from_str(svg) {
            if let xml::reader::XmlEvent::StartElement { name, attributes, .. } = event.expect("well-formed SVG") {
                out.push((name.local_name, attributes.into_iter().map(|a| (a.name.local_name, a.value)).collect()));
            }
        }
        assert_eq!(out.first().map(|e| e.0.as_str()), Some("svg"));
        out
    }

    fn texts(svg: &str) -> Vec<String> {
        xml::reader::EventReader::from_str(svg)
            .into_iter()
            .filter_map(|e| match e.expect("well-formed SVG") {
                xml::reader::XmlEvent::Characters(t) => Some(t.trim().to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn svg_has_the_series_labels_and_one_point_per_rate() {
        let report = sample_report();
        let svg = latency_plot_svg(&report).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..60]);
        let elements = elements(&svg);
        let texts = texts(&svg);
        for label in [
            "tandem bench set: 4 members on 2 cores",
            "offered load (tx/s)",
            "latency (s, log scale)",
            "included (tx/s)",
            "p50",
            "p90",
            "p99",
            "included",
            "included = offered",
        ] {
            assert!(texts.iter().any(|t| t == label), "no text {label:?} in {texts:?}");
        }
        // Rates 50, 100, 200 have latencies (three series each); all four rates have a
        // throughput point.
        let circles: Vec<&Vec<(String, String)>> = elements.iter().filter(|e| e.0 == "circle").map(|e| &e.1).collect();
        assert_eq!(circles.len(), 3 * 3 + 4);
        let fill = |c: &RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        for (name, color) in SERIES {
            let n = circles.iter().filter(|a| a.iter().any(|(k, v)| k == "fill" && v.eq_ignore_ascii_case(&fill(&color)))).count();
            assert_eq!(n, 3, "{name} points");
        }
        // Points lie left to right in the order of the rates.
        let xs: Vec<f64> = circles
            .iter()
            .filter(|a| a.iter().any(|(k, v)| k == "fill" && v.eq_ignore_ascii_case(&fill(&INCLUDED))))
            .map(|a| a.iter().find(|(k, _)| k == "cx").unwrap().1.parse().unwrap())
            .collect();
        assert_eq!(xs.len(), 4);
        assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    }

    #[test]
    fn same_numbers_same_bytes_and_other_numbers_other_bytes() {
        let report = sample_report();
        assert_eq!(latency_plot_svg(&report).unwrap(), latency_plot_svg(&report.clone()).unwrap());
        let mut other = report.clone();
        other.rows[2].included_tx_s = 80.0;
        assert_ne!(latency_plot_svg(&report).unwrap(), latency_plot_svg(&other).unwrap());
    }

    #[test]
    fn repeats_of_a_rate_are_one_averaged_point() {
        let mut report = sample_report();
        let mut again = report.rows[1].clone();
        again.round = 1;
        again.included_tx_s = 49.8;
        report.rows.push(again);
        let points = rate_points(&report);
        assert_eq!(points.iter().map(|p| p.offered).collect::<Vec<_>>(), vec![0.0, 50.0, 100.0, 200.0]);
        assert!((points[1].included - 50.0).abs() < 1e-9);
        assert_eq!(points[0].latency_s, None);
        assert_eq!(elements(&latency_plot_svg(&report).unwrap()).iter().filter(|e| e.0 == "circle").count(), 3 * 3 + 4);
    }

    #[test]
    fn a_run_without_latencies_still_draws() {
        let mut report = sample_report();
        report.rows.truncate(1);
        let svg = latency_plot_svg(&report).unwrap();
        assert_eq!(elements(&svg).iter().filter(|e| e.0 == "circle").count(), 1);
    }
}
