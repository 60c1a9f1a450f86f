//! Charts as SVG text, drawn with plotters from a [`Report`]. Pure functions: the UI
//! only inserts the string.
//!
//! Text and axes are drawn in a sentinel colour that is then replaced by
//! `currentColor`, so the chart follows the page's light or dark theme.

pub mod capacity;
pub mod storage;

use crate::report::Report;
use crate::sizing::Category;
use plotters::prelude::*;

/// Drawn, then rewritten to `currentColor`.
const INK: RGBColor = RGBColor(1, 2, 3);
const GRID: RGBColor = RGBColor(4, 5, 6);

pub fn category_color(c: Category) -> RGBColor {
    match c {
        Category::Synapse => RGBColor(79, 107, 237),
        Category::Database => RGBColor(217, 119, 6),
        Category::Service => RGBColor(14, 159, 110),
        Category::System => RGBColor(139, 139, 154),
    }
}

const DEMAND: RGBColor = RGBColor(79, 107, 237);
const CAPACITY: RGBColor = RGBColor(139, 139, 154);
const OVER: RGBColor = RGBColor(220, 38, 38);

fn finish(svg: String, label: &str) -> String {
    let label = label
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    svg.replace("#010203", "currentColor")
        .replace("#040506", "currentColor\" stroke-opacity=\"0.25")
        .replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{label}\" class=\"chart\" "),
            1,
        )
}

/// Stacked horizontal bars: for each deployed role, what share of one host's RAM each
/// category of item takes; a line marks 100 %.
pub fn ram_chart(report: &Report, width: u32) -> String {
    let hosts: Vec<_> = report.hosts.iter().filter(|h| h.count > 0).collect();
    let rows = hosts.len().max(1);
    let height = 60 + 34 * rows as u32;
    let max_pct = hosts
        .iter()
        .map(|h| h.ram_used_percent as f64)
        .fold(100.0_f64, f64::max)
        .min(400.0);
    let x_max = (max_pct * 1.1 / 10.0).ceil() * 10.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let labels: Vec<String> = hosts.iter().map(|h| h.role.key().to_string()).collect();
        let chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(90)
            .build_cartesian_2d(0.0..x_max, (0..rows).into_segmented());
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
            .x_desc("% of one host's RAM")
            .x_label_formatter(&|v| format!("{v:.0}%"))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => (rows - 1)
                    .checked_sub(*i)
                    .and_then(|j| labels.get(j))
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .draw();
        for (i, h) in hosts.iter().enumerate() {
            // plotters counts segments from the bottom; the first role goes on top.
            let row = rows - 1 - i;
            let ram = h.ram_gib as f64;
            let mut x = 0.0;
            for cat in Category::ALL {
                let gib: f64 = h
                    .items
                    .iter()
                    .filter(|i| i.category == cat)
                    .map(|i| i.gib.as_f64())
                    .sum();
                if gib <= 0.0 || ram <= 0.0 {
                    continue;
                }
                let w = (gib / ram * 100.0).min(x_max - x);
                let mut rect = Rectangle::new(
                    [
                        (x, SegmentValue::Exact(row)),
                        (x + w, SegmentValue::Exact(row + 1)),
                    ],
                    category_color(cat).filled(),
                );
                rect.set_margin(6, 6, 0, 0);
                let _ = chart.draw_series(std::iter::once(rect));
                x += w;
            }
            let text = format!("{} / {} GiB", h.ram_needed_gib, h.ram_gib);
            let style = ("sans-serif", 15)
                .into_font()
                .color(if h.ram_used_percent > 100 {
                    &OVER
                } else {
                    &INK
                });
            let tx = (x + 1.0).min(x_max * 0.7);
            let _ = chart.draw_series(std::iter::once(Text::new(
                text,
                (tx, SegmentValue::CenterOf(row)),
                style,
            )));
        }
        let _ = chart.draw_series(std::iter::once(PathElement::new(
            vec![
                (100.0, SegmentValue::Exact(0)),
                (100.0, SegmentValue::Exact(rows)),
            ],
            OVER.stroke_width(2),
        )));
        let _ = root.present();
    }
    finish(
        svg,
        "RAM budget per host role, as a share of one host's RAM",
    )
}

/// The connection chain as bars: each demand next to the capacity that must hold it.
pub fn connections_chart(report: &Report, width: u32) -> String {
    let c = &report.connections;
    let available = c.postgres_available.max(0) as u64;
    let bars: [(&str, u64, bool); 4] = [
        (
            "Synapse pools",
            c.synapse_pool_total,
            c.synapse_pool_total > c.pgbouncer_max_client_conn,
        ),
        ("PgBouncer clients", c.pgbouncer_max_client_conn, false),
        (
            "PgBouncer servers",
            c.pgbouncer_server_connections,
            c.pgbouncer_server_connections > available,
        ),
        ("PostgreSQL free", available, false),
    ];
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64;
    let height = 60 + 34 * bars.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(130)
            .build_cartesian_2d(0.0..max * 1.25, (0..bars.len()).into_segmented());
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
            .x_desc("connections")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => (bars.len() - 1)
                    .checked_sub(*i)
                    .and_then(|j| bars.get(j))
                    .map(|b| b.0.to_string())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .draw();
        for (i, (_, value, over)) in bars.iter().enumerate() {
            let row = bars.len() - 1 - i;
            let color = if *over {
                OVER
            } else if i % 2 == 0 {
                DEMAND
            } else {
                CAPACITY
            };
            let mut rect = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (*value as f64, SegmentValue::Exact(row + 1)),
                ],
                color.filled(),
            );
            rect.set_margin(6, 6, 0, 0);
            let _ = chart.draw_series(std::iter::once(rect));
            let _ = chart.draw_series(std::iter::once(Text::new(
                value.to_string(),
                (*value as f64 + max * 0.01, SegmentValue::CenterOf(row)),
                ("sans-serif", 15).into_font().color(&INK),
            )));
        }
        let _ = root.present();
    }
    finish(
        svg,
        "Database connection chain: each demand next to the capacity that must hold it",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    #[test]
    fn charts_are_svg_with_theme_colour_and_label() {
        let r = Report::new(&Plan::default());
        for svg in [ram_chart(&r, 640), connections_chart(&r, 640)] {
            assert!(
                svg.starts_with("<svg role=\"img\" aria-label="),
                "{}",
                &svg[..80.min(svg.len())]
            );
            assert!(svg.contains("currentColor"));
            assert!(!svg.contains("#010203"));
            assert!(svg.contains("<rect"));
        }
        assert!(ram_chart(&r, 640).contains("\nsynapse\n</text>"));
        assert!(connections_chart(&r, 640).contains("\nSynapse pools\n</text>"));
    }

    #[test]
    fn over_budget_is_drawn_red() {
        let p = Plan::default()
            .with_text("hosts.synapse.ram-gib", "64")
            .unwrap();
        let svg = ram_chart(&Report::new(&p), 640);
        assert!(
            svg.contains("#DC2626") || svg.contains("#dc2626"),
            "red label for the over-budget role"
        );
    }
}
