//! The storage-over-time chart: each disk's fill, in percent of its capacity, month by
//! month, with the line at which a disk counts as full. One chart with one line per
//! disk reads better than small multiples: the disks share the percent scale, and the
//! one that crosses the line first stands out.

use super::{GRID, INK, OVER, finish};
use crate::report::Report;
use crate::sizing::storage::DiskId;
use plotters::prelude::*;

/// Highest percent drawn; a disk past it is drawn at the top edge.
const Y_CAP: f64 = 200.0;

pub fn disk_color(id: DiskId) -> RGBColor {
    match id {
        DiskId::Patroni => RGBColor(217, 119, 6),
        DiskId::Minio => RGBColor(79, 107, 237),
        DiskId::Backup => RGBColor(147, 51, 234),
        DiskId::Monitoring => RGBColor(14, 159, 110),
        DiskId::Synapse => RGBColor(8, 145, 178),
    }
}

/// Lines of fill (% of capacity) against months from go-live, one per disk; a red line
/// at the full threshold, a faint one at 100 %, and a dot where each disk crosses.
pub fn storage_chart(report: &Report, width: u32) -> String {
    let s = &report.storage;
    let months = s.months.max(1);
    let x_max = months as f64;
    let peak = s
        .disks
        .iter()
        .flat_map(|d| d.series_percent.iter().copied())
        .fold(100.0_f64, f64::max)
        .min(Y_CAP);
    // At least 160 %: the legend sits in the upper left, above the 100 % line, where
    // lines that start at go-live near 0 seldom are.
    let y_max = (((peak * 1.1) / 10.0).ceil() * 10.0).max(160.0);
    let clamp = |p: f64| {
        if p.is_finite() {
            p.clamp(0.0, y_max)
        } else {
            y_max
        }
    };
    let height = 360;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max);
        let Ok(mut chart) = chart else {
            return String::new();
        };
        let _ = chart
            .configure_mesh()
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(INK)
            .label_style(("sans-serif", 15).into_font().color(&INK))
            .x_desc("months from go-live")
            .y_desc("% of capacity")
            .x_labels(13.min(months as usize + 1))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .draw();
        // 100 %, faint; the full line, red and dashed, labelled.
        let _ = chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 100.0), (x_max, 100.0)],
            GRID.stroke_width(1),
        )));
        let full = clamp(s.full_percent);
        let _ = chart.draw_series(DashedLineSeries::new(
            vec![(0.0, full), (x_max, full)],
            8,
            5,
            OVER.stroke_width(2),
        ));
        let _ = chart.draw_series(std::iter::once(Text::new(
            format!("full ({:.0}%)", s.full_percent),
            (x_max * 0.01, full),
            ("sans-serif", 14).into_font().color(&OVER),
        )));
        for (id, d) in DiskId::ALL.iter().zip(&s.disks) {
            let color = disk_color(*id);
            let points: Vec<(f64, f64)> = d
                .series_percent
                .iter()
                .enumerate()
                .map(|(m, p)| (m as f64, clamp(*p)))
                .collect();
            if let Ok(series) =
                chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))
            {
                series
                    .label(format!("{} {}", d.id, month_text(d.month_full)))
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                    });
            }
            if let Some(m) = d.month_full
                && let Some(p) = points.get(m as usize)
            {
                let _ = chart.draw_series(std::iter::once(Circle::new(*p, 5, color.filled())));
            }
        }
        let _ = chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(TRANSPARENT)
            .border_style(GRID)
            .label_font(("sans-serif", 14).into_font().color(&INK))
            .draw();
        let _ = root.present();
    }
    finish(
        svg,
        "Disk fill over time, in percent of each disk's capacity, with the line at which a disk counts as full",
    )
}

fn month_text(month: Option<u64>) -> String {
    match month {
        Some(0) => "(full at go-live)".to_string(),
        Some(m) => format!("(full in month {m})"),
        None => "(does not fill)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    fn chart(changes: &[(&str, &str)]) -> String {
        let p = Plan::default().with_texts(changes).expect("valid");
        storage_chart(&Report::new(&p), 720)
    }

    #[test]
    fn draws_a_line_per_disk_and_the_full_line() {
        let svg = chart(&[]);
        assert!(
            svg.starts_with("<svg role=\"img\" aria-label="),
            "{svg:.80}"
        );
        assert!(svg.contains("currentColor"));
        assert!(!svg.contains("#010203") && !svg.contains("#040506"));
        // Five disk lines (and the legend's five strokes).
        assert!(svg.matches("<polyline").count() >= 5, "{svg}");
        assert!(svg.contains("full (85%)"));
        assert!(svg.contains("minio (full in month 27)"), "{svg}");
        assert!(svg.contains("patroni (does not fill)"));
        // The crossing dots of the disks that fill.
        assert!(svg.matches("<circle").count() >= 2);
    }

    #[test]
    fn extremes_render() {
        for changes in [
            &[("activity.months", "1")][..],
            &[
                ("users.registered", "100000000"),
                ("activity.daily-active-users", "100000000"),
                ("activity.messages-per-user-day", "100000"),
                ("activity.months", "120"),
            ][..],
            &[
                ("activity.daily-active-users", "0"),
                ("hosts.backup.disk-gib", "1"),
            ][..],
        ] {
            let svg = chart(changes);
            assert!(svg.contains("<polyline"), "{changes:?}");
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{changes:?}");
        }
    }
}
