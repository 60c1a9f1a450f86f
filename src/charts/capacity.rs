//! Charts of object storage and call capacity, in the style of [`super::ram_chart`]:
//! horizontal bars, text and axes in the sentinel colours [`super::finish`] turns into
//! `currentColor`. Every number drawn is read from the report.

use super::{CAPACITY, DEMAND, GRID, INK, OVER, finish};
use crate::report::Report;
use plotters::prelude::*;

/// Parity drives in a bar: a colour apart from data (demand blue) and raw (grey).
const PARITY: RGBColor = RGBColor(217, 119, 6);

/// A drawn row: its label, its segments (width, colour), the text after it, and
/// whether that text is red (an overrun).
type Bar = (String, Vec<(f64, RGBColor)>, String, bool);

/// One row of the calls chart: a need against the limit of one node.
struct Row {
    label: &'static str,
    need: f64,
    limit: f64,
    unit: &'static str,
}

/// Per node, what the plan's peak needs against what the node has: TURN allocations and
/// relay bandwidth, LiveKit UDP ports and bandwidth (out, and in), as a share of the
/// limit; a line marks 100 %. Rows for services the plan does not deploy are left out.
pub fn calls_chart(report: &Report, width: u32) -> String {
    let t = &report.calls.turn;
    let l = &report.calls.livekit;
    let mut rows = Vec::new();
    if t.nodes > 0 {
        rows.push(Row {
            label: "TURN allocations",
            need: t.allocations_per_node as f64,
            limit: t.max_allocations_per_node as f64,
            unit: "",
        });
        rows.push(Row {
            label: "TURN Mbit/s each way",
            need: t.relay_mbps_each_way_per_node,
            limit: t.nic_mbps,
            unit: " Mbit/s",
        });
    }
    if l.nodes > 0 {
        rows.push(Row {
            label: "LiveKit UDP ports",
            need: l.ports_needed_per_node as f64,
            limit: l.port_range as f64,
            unit: "",
        });
        rows.push(Row {
            label: "LiveKit Mbit/s out",
            need: l.egress_mbps_per_node,
            limit: l.nic_mbps,
            unit: " Mbit/s",
        });
        rows.push(Row {
            label: "LiveKit Mbit/s in",
            need: l.ingress_mbps_per_node,
            limit: l.nic_mbps,
            unit: " Mbit/s",
        });
    }
    let label = "Calls: per node, the plan's peak against the node's limit (100 %)";
    if rows.is_empty() {
        return empty(width, "No coturn or LiveKit hosts in the plan.", label);
    }
    let pct = |r: &Row| {
        if r.limit > 0.0 {
            (r.need / r.limit * 100.0).max(0.0)
        } else if r.need > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    };
    let max_pct = rows
        .iter()
        .map(|r| pct(r).min(400.0))
        .fold(100.0_f64, f64::max);
    let x_max = (max_pct * 1.15 / 10.0).ceil() * 10.0;
    bars(
        width,
        &rows
            .iter()
            .map(|r| {
                let p = pct(r);
                let text = format!("{} / {}{}", number(r.need), number(r.limit), r.unit);
                (
                    r.label.to_string(),
                    vec![(p.min(x_max), if p > 100.0 { OVER } else { DEMAND })],
                    text,
                    p > 100.0,
                )
            })
            .collect::<Vec<_>>(),
        x_max,
        "% of one node's limit",
        |v| format!("{v:.0}%"),
        Some(100.0),
        label,
    )
}

/// Object storage: for every parity MinIO accepts for the plan's erasure set, the raw
/// TiB split into usable (data) and parity, the one in effect marked; a line at the
/// raw capacity.
pub fn object_storage_chart(report: &Report, width: u32) -> String {
    let s = &report.object_storage;
    let label =
        "Object storage: usable and parity TiB of the raw capacity, for each parity MinIO accepts";
    if s.refused && s.parity_options.is_empty() {
        return empty(
            width,
            "MinIO refuses this layout: no erasure set fits.",
            label,
        );
    }
    let raw = s.raw_tib.max(0.0);
    // Room right of the raw line for each row's figures.
    let x_max = if raw > 0.0 { raw * 2.1 } else { 1.0 };
    let rows: Vec<Bar> = s
        .parity_options
        .iter()
        .map(|o| {
            let mark = if o.in_effect { " ◀" } else { "" };
            (
                format!("EC:{}{mark}", o.parity),
                vec![
                    (o.usable_tib, DEMAND),
                    ((raw - o.usable_tib).max(0.0), PARITY),
                ],
                format!(
                    "{} TiB; writes survive {} node(s)",
                    number(o.usable_tib),
                    o.node_failures_tolerated_for_writes
                ),
                false,
            )
        })
        .collect();
    bars(
        width,
        &rows,
        x_max,
        "TiB (blue usable, orange parity)",
        |v| format!("{v:.0}"),
        Some(raw),
        label,
    )
}

/// A figure for a label: whole numbers without decimals, others with up to two.
fn number(x: f64) -> String {
    if !x.is_finite() {
        return "∞".to_string();
    }
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Horizontal stacked bars, one row each: (label, segments (width, colour), text,
/// text in red); a vertical line at `mark`.
fn bars(
    width: u32,
    rows: &[Bar],
    x_max: f64,
    x_desc: &str,
    x_fmt: impl Fn(&f64) -> String,
    mark: Option<f64>,
    label: &str,
) -> String {
    // Figures go right of the bars, or right of the mark when there is one.
    let text_at = mark.filter(|m| m.is_finite() && *m > 0.0);
    let n = rows.len().max(1);
    let height = 60 + 34 * n as u32;
    let x_max = if x_max.is_finite() && x_max > 0.0 {
        x_max
    } else {
        1.0
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..x_max, (0..n).into_segmented());
        let Ok(mut chart) = chart else {
            return String::new();
        };
        let _ = chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(INK)
            .label_style(("sans-serif", 16).into_font().color(&INK))
            .x_desc(x_desc)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => (n - 1)
                    .checked_sub(*i)
                    .and_then(|j| rows.get(j))
                    .map(|r| r.0.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .draw();
        for (i, (_, segments, text, over)) in rows.iter().enumerate() {
            // plotters counts segments from the bottom; the first row goes on top.
            let row = n - 1 - i;
            let mut x = 0.0;
            for (w, color) in segments {
                let w = if w.is_finite() { w.max(0.0) } else { 0.0 };
                let w = w.min(x_max - x);
                if w <= 0.0 {
                    continue;
                }
                let mut rect = Rectangle::new(
                    [
                        (x, SegmentValue::Exact(row)),
                        (x + w, SegmentValue::Exact(row + 1)),
                    ],
                    color.filled(),
                );
                rect.set_margin(6, 6, 0, 0);
                let _ = chart.draw_series(std::iter::once(rect));
                x += w;
            }
            let style = ("sans-serif", 15)
                .into_font()
                .color(if *over { &OVER } else { &INK });
            let tx = match text_at {
                Some(m) if m < x_max * 0.6 => m + x_max * 0.015,
                _ => (x + x_max * 0.01).min(x_max * 0.6),
            };
            let _ = chart.draw_series(std::iter::once(Text::new(
                text.clone(),
                (tx, SegmentValue::CenterOf(row)),
                style,
            )));
        }
        if let Some(m) = mark.filter(|m| m.is_finite() && *m <= x_max) {
            let _ = chart.draw_series(std::iter::once(PathElement::new(
                vec![(m, SegmentValue::Exact(0)), (m, SegmentValue::Exact(n))],
                CAPACITY.stroke_width(2),
            )));
        }
        let _ = root.present();
    }
    finish(svg, label)
}

/// A chart with only a sentence, for a plan without the service.
fn empty(width: u32, text: &str, label: &str) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 60)).into_drawing_area();
        let _ = root.draw(&Text::new(
            text.to_string(),
            (12, 24),
            ("sans-serif", 16).into_font().color(&INK),
        ));
        let _ = root.present();
    }
    finish(svg, label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    fn report(changes: &[(&str, &str)]) -> Report {
        Report::new(&Plan::default().with_texts(changes).unwrap())
    }

    #[test]
    fn charts_are_svg_with_theme_colour_and_label() {
        for r in [
            report(&[]),
            report(&[("hosts.coturn.count", "0"), ("hosts.livekit.count", "0")]),
            report(&[("hosts.minio.count", "1"), ("minio.drives-per-node", "1")]),
            report(&[("hosts.minio.count", "17"), ("minio.drives-per-node", "1")]),
            report(&[("hosts.minio.count", "64"), ("minio.drives-per-node", "64")]),
        ] {
            for svg in [calls_chart(&r, 640), object_storage_chart(&r, 640)] {
                assert!(svg.starts_with("<svg role=\"img\" aria-label="), "{svg}");
                assert!(svg.contains("currentColor"));
                assert!(!svg.contains("#010203") && !svg.contains("NaN"));
            }
        }
        let r = report(&[]);
        let calls = calls_chart(&r, 640);
        for row in [
            "TURN allocations",
            "TURN Mbit/s each way",
            "LiveKit UDP ports",
            "LiveKit Mbit/s out",
        ] {
            assert!(calls.contains(&format!("\n{row}\n</text>")), "{row}");
        }
        // The seed's LiveKit range: 48 of 101 ports.
        assert!(calls.contains("48 / 101"), "{calls}");
        let objects = object_storage_chart(&r, 640);
        // 16 drives: EC:1 … EC:8, EC:4 in effect.
        assert!(objects.contains("EC:4 ◀"));
        assert!(objects.contains("EC:8\n</text>"));
        assert!(objects.contains("12 TiB; writes survive 1 node(s)"));
    }

    #[test]
    fn overrun_is_drawn_red() {
        let r = report(&[("calls.group-rooms", "20")]);
        assert!(r.calls.livekit.ports_needed_per_node > r.calls.livekit.port_range);
        let svg = calls_chart(&r, 640);
        assert!(svg.contains("#DC2626") || svg.contains("#dc2626"));
    }
}
