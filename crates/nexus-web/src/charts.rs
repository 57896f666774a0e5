//! Server-drawn SVG bar charts. The geometry is computed here in integers and plain floats;
//! the SVG itself is an askama template (`partials/bar_chart.html`) fed with coordinates, so
//! nothing is escaped by hand and no inline style is needed (the CSP forbids it).

use askama::Template;
use nexus_domain::Currency;

use crate::format::Money;

/// The drawing's own coordinate system; CSS scales it to the box. Wide enough that 31 days fit
/// with readable labels; on a phone the chart scrolls inside its box instead of shrinking text.
const VIEW_WIDTH: f64 = 640.0;
const VIEW_HEIGHT: f64 = 280.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 40.0;
const RIGHT: f64 = 12.0;
/// Rough width of one digit at the 14-unit font the template uses.
const CHAR_WIDTH: f64 = 8.5;
/// About how many intervals the value axis is cut into.
const TARGET_INTERVALS: i128 = 4;
/// At most this many labels under the bars; the others are still in the data table.
const MAX_X_LABELS: usize = 10;

/// One bar: what it is called and how much it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    /// Axis label, short: "1 Dec", "Week of 30 Nov", "Dec 2026".
    pub label: String,
    /// The label for the data table and the bar's tooltip; may be longer than `label`.
    pub long_label: String,
    pub minor: i64,
}

impl Point {
    pub fn new(label: impl Into<String>, minor: i64) -> Self {
        let label = label.into();
        Self {
            long_label: label.clone(),
            label,
            minor,
        }
    }

    pub fn with_long_label(mut self, long_label: impl Into<String>) -> Self {
        self.long_label = long_label.into();
        self
    }
}

/// A bar chart ready to draw, with its data-table fallback.
#[derive(Clone, Debug, Template)]
#[template(path = "partials/bar_chart.html")]
pub struct BarChart {
    /// Prefix of the element ids, unique on the page ("sales-chart").
    pub id: String,
    pub title: String,
    pub description: String,
    /// Column headings of the fallback table ("Day", "Total sales").
    pub label_heading: String,
    pub value_heading: String,
    pub currency: Currency,
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub plot_right: f64,
    pub plot_top: f64,
    pub plot_bottom: f64,
    pub zero_y: f64,
    pub ticks: Vec<Tick>,
    pub bars: Vec<Bar>,
    pub is_empty: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub y: f64,
    pub minor: i64,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The middle of the bar, where its label is centred.
    pub center_x: f64,
    pub negative: bool,
    pub label: String,
    pub long_label: String,
    pub value: Money,
    /// Whether the axis shows this bar's label (every one when there are few bars).
    pub show_label: bool,
}

/// The value axis: from `min` to `max` (both multiples of `step`, `min <= 0 <= max`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis {
    pub min: i64,
    pub max: i64,
    pub step: i64,
}

impl Axis {
    /// Round steps (1, 2 or 5 times a power of ten) that cover every value and zero, so the
    /// zero line is always drawn and a refund-heavy day hangs below it.
    pub fn nice(values: impl IntoIterator<Item = i64>, unit: i64) -> Self {
        let (mut low, mut high) = (0_i128, 0_i128);
        for value in values {
            low = low.min(i128::from(value));
            high = high.max(i128::from(value));
        }
        if low == high {
            // Nothing sold: still draw an axis one currency unit tall rather than dividing by 0.
            high = i128::from(unit.max(1));
        }
        let raw_step = ((high - low) + TARGET_INTERVALS - 1) / TARGET_INTERVALS;
        let step = nice_step(raw_step.max(1));
        let min = floor_to(low, step);
        let max = ceil_to(high, step);
        let clamp = |value: i128| {
            i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
        };
        Self {
            min: clamp(min),
            max: clamp(max),
            step: clamp(step),
        }
    }

    pub fn ticks(&self) -> impl Iterator<Item = i64> + '_ {
        let count = (i128::from(self.max) - i128::from(self.min)) / i128::from(self.step.max(1));
        (0..=count).map(move |index| {
            i64::try_from(i128::from(self.min) + index * i128::from(self.step)).unwrap_or(self.max)
        })
    }
}

fn nice_step(raw: i128) -> i128 {
    let mut magnitude: i128 = 1;
    while magnitude.saturating_mul(10) <= raw {
        magnitude *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|factor| factor * magnitude)
        .find(|candidate| *candidate >= raw)
        .unwrap_or(10 * magnitude)
}

fn floor_to(value: i128, step: i128) -> i128 {
    value.div_euclid(step) * step
}

fn ceil_to(value: i128, step: i128) -> i128 {
    -((-value).div_euclid(step) * step)
}

/// Rounded to a tenth of a unit: plenty for a drawing, and short in the markup.
fn tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The words of a chart: its element id prefix, its accessible title and description, and
/// the headings of its data-table fallback.
pub struct ChartText<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub label_heading: &'a str,
    pub value_heading: &'a str,
}

impl BarChart {
    pub fn build(text: ChartText<'_>, currency: Currency, points: &[Point]) -> Self {
        let unit = 10_i64.pow(currency.exponent());
        let axis = Axis::nice(points.iter().map(|point| point.minor), unit);
        let ticks_minor: Vec<i64> = axis.ticks().collect();
        let tick_labels: Vec<String> = ticks_minor
            .iter()
            .map(|minor| Money::new(*minor, currency).short())
            .collect();
        let widest = tick_labels
            .iter()
            .map(|label| label.chars().count())
            .max()
            .unwrap_or(1);
        let plot_left = tenth(12.0 + CHAR_WIDTH * widest as f64);
        let plot_right = VIEW_WIDTH - RIGHT;
        let plot_top = TOP;
        let plot_bottom = VIEW_HEIGHT - BOTTOM;
        let span = (axis.max as f64) - (axis.min as f64);
        let y_of = |minor: i64| {
            let share = ((axis.max as f64) - (minor as f64)) / span;
            tenth(plot_top + share * (plot_bottom - plot_top))
        };
        let zero_y = y_of(0);
        let ticks = ticks_minor
            .iter()
            .zip(tick_labels)
            .map(|(minor, label)| Tick {
                y: y_of(*minor),
                minor: *minor,
                label,
            })
            .collect();
        let count = points.len().max(1);
        let slot = (plot_right - plot_left) / count as f64;
        let label_every = points.len().div_ceil(MAX_X_LABELS).max(1);
        let bars = points
            .iter()
            .enumerate()
            .map(|(index, point)| {
                let value_y = y_of(point.minor);
                let (y, height) = if point.minor >= 0 {
                    (value_y, tenth(zero_y - value_y))
                } else {
                    (zero_y, tenth(value_y - zero_y))
                };
                let x = plot_left + slot * index as f64;
                let gap = (slot * 0.2).min(12.0);
                Bar {
                    x: tenth(x + gap / 2.0),
                    y,
                    width: tenth(slot - gap),
                    height,
                    center_x: tenth(x + slot / 2.0),
                    negative: point.minor < 0,
                    label: point.label.clone(),
                    long_label: point.long_label.clone(),
                    value: Money::new(point.minor, currency),
                    show_label: index % label_every == 0,
                }
            })
            .collect();
        Self {
            id: text.id.to_owned(),
            title: text.title.to_owned(),
            description: text.description.to_owned(),
            label_heading: text.label_heading.to_owned(),
            value_heading: text.value_heading.to_owned(),
            currency,
            width: VIEW_WIDTH,
            height: VIEW_HEIGHT,
            plot_left,
            plot_right,
            plot_top,
            plot_bottom,
            zero_y,
            ticks,
            bars,
            is_empty: points.is_empty(),
        }
    }

    /// Where the axis labels sit: just left of the plot, right-aligned.
    pub fn tick_label_x(&self) -> f64 {
        tenth(self.plot_left - 6.0)
    }

    pub fn label_y(&self) -> f64 {
        tenth(self.plot_bottom + 22.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> ChartText<'static> {
        ChartText {
            id: "chart",
            title: "Sales per day",
            description: "Total sales each day",
            label_heading: "Day",
            value_heading: "Total",
        }
    }

    #[test]
    fn ticks_are_round_numbers_that_cover_the_values() {
        // GHS 1,234.50 at most: steps of GHS 500.
        let axis = Axis::nice([10_000, 123_450, 56_000], 100);
        assert_eq!(
            axis,
            Axis {
                min: 0,
                max: 150_000,
                step: 50_000
            }
        );
        assert_eq!(
            axis.ticks().collect::<Vec<_>>(),
            [0, 50_000, 100_000, 150_000]
        );
        assert_eq!(
            Axis::nice([100], 100),
            Axis {
                min: 0,
                max: 100,
                step: 50
            }
        );
        assert_eq!(
            Axis::nice([999], 1),
            Axis {
                min: 0,
                max: 1_000,
                step: 500
            }
        );
        assert_eq!(
            Axis::nice([7], 1),
            Axis {
                min: 0,
                max: 8,
                step: 2
            }
        );
        assert_eq!(
            Axis::nice([0], 100),
            Axis {
                min: 0,
                max: 100,
                step: 50
            },
            "nothing sold"
        );
        assert_eq!(
            Axis::nice([-30_000, 90_000], 100),
            Axis {
                min: -50_000,
                max: 100_000,
                step: 50_000
            }
        );
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        for value in [
            1_i64, 3, 9, 11, 49, 51, 99, 101, 777, 12_345, 999_999, 5_000_001,
        ] {
            let axis = Axis::nice([value], 100);
            let mut step = axis.step;
            while step % 10 == 0 {
                step /= 10;
            }
            assert!([1, 2, 5].contains(&step), "{value}: step {}", axis.step);
            assert!(axis.max >= value && axis.min <= 0, "{value}: {axis:?}");
            assert_eq!(axis.max % axis.step, 0);
            let intervals = (axis.max - axis.min) / axis.step;
            assert!(
                (1..=8).contains(&intervals),
                "{value}: {intervals} intervals"
            );
        }
    }

    #[test]
    fn negative_values_put_the_zero_line_inside_the_plot() {
        let axis = Axis::nice([-30_000, 90_000], 100);
        assert!(axis.min < 0 && axis.max > 0, "{axis:?}");
        assert!(axis.ticks().any(|tick| tick == 0), "zero is a tick");
        let chart = BarChart::build(
            text(),
            Currency::Ghs,
            &[Point::new("Mon", 90_000), Point::new("Tue", -30_000)],
        );
        assert!(chart.zero_y > chart.plot_top && chart.zero_y < chart.plot_bottom);
        let (up, down) = (&chart.bars[0], &chart.bars[1]);
        assert!(!up.negative && down.negative);
        assert!(
            (up.y + up.height - chart.zero_y).abs() < 0.2,
            "positive bars stand on zero"
        );
        assert!(
            (down.y - chart.zero_y).abs() < 0.2,
            "negative bars hang from zero"
        );
        assert!(down.y + down.height <= chart.plot_bottom + 0.1);
        // Heights are proportional: 90,000 is three times 30,000.
        assert!(
            (up.height - 3.0 * down.height).abs() < 0.5,
            "{} vs {}",
            up.height,
            down.height
        );
        assert!(chart.ticks.iter().any(|tick| tick.label == "0"));
        assert!(chart.ticks.iter().any(|tick| tick.label.starts_with('-')));
    }

    #[test]
    fn all_negative_and_all_zero_series_still_draw() {
        let chart = BarChart::build(text(), Currency::Ghs, &[Point::new("Mon", -5_000)]);
        assert!(
            (chart.zero_y - chart.plot_top).abs() < 0.1,
            "zero at the top"
        );
        assert!(chart.bars[0].height > 0.0);
        let flat = BarChart::build(
            text(),
            Currency::Xof,
            &[Point::new("Mon", 0), Point::new("Tue", 0)],
        );
        assert!((flat.zero_y - flat.plot_bottom).abs() < 0.1);
        assert!(flat.bars.iter().all(|bar| bar.height == 0.0));
        assert!(flat.ticks.len() >= 2);
        let empty = BarChart::build(text(), Currency::Ghs, &[]);
        assert!(empty.is_empty && empty.bars.is_empty());
    }

    #[test]
    fn bars_fill_the_plot_left_to_right_without_overlapping() {
        let points: Vec<Point> = (1..=31)
            .map(|day| Point::new(format!("{day} Dec"), i64::from(day) * 1_000))
            .collect();
        let chart = BarChart::build(text(), Currency::Ghs, &points);
        assert_eq!(chart.bars.len(), 31);
        for pair in chart.bars.windows(2) {
            assert!(pair[0].x + pair[0].width <= pair[1].x + 0.01, "{:?}", pair);
        }
        let last = &chart.bars[30];
        assert!(last.x + last.width <= chart.plot_right + 0.1);
        assert!(chart.bars[0].x >= chart.plot_left);
        let shown = chart.bars.iter().filter(|bar| bar.show_label).count();
        assert!((5..=MAX_X_LABELS).contains(&shown), "{shown} labels");
        assert!(chart.bars[0].show_label, "the first bar is always labelled");
    }

    #[test]
    fn the_left_margin_fits_the_widest_tick_label() {
        let small = BarChart::build(text(), Currency::Ghs, &[Point::new("a", 500)]);
        let large = BarChart::build(text(), Currency::Ghs, &[Point::new("a", 500_000_000)]);
        assert!(large.plot_left > small.plot_left);
        assert!(large.ticks.iter().any(|tick| tick.label == "6,000,000"));
    }
}
