//! QR codes as SVG, drawn by a template from the `qrcode` crate's modules. One `<rect>` per run
//! of dark modules in a row keeps the markup small (a 24-hour enrolment code is a version 2-3
//! code: a few hundred rects at most).

use askama::Template;
use qrcode::{Color, EcLevel, QrCode};

/// The white margin a reader needs around the code, in modules (ISO/IEC 18004 asks for 4).
const QUIET_ZONE: usize = 4;

#[derive(Clone, Debug, Template)]
#[template(path = "partials/qr.html")]
pub struct QrSvg {
    /// Modules across, quiet zone included: the SVG's view box is `size` by `size`.
    pub size: usize,
    pub runs: Vec<Run>,
    /// What a screen reader says instead of the picture.
    pub label: String,
}

/// `width` dark modules in row `y` starting at column `x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub x: usize,
    pub y: usize,
    pub width: usize,
}

impl QrSvg {
    /// `None` only when the text is too long for any QR code (never for an enrolment code).
    pub fn encode(text: &str, label: impl Into<String>) -> Option<Self> {
        // Medium correction: survives a smudged or glare-struck phone screen at a small size.
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
        let width = code.width();
        let colors = code.to_colors();
        let mut runs = Vec::new();
        for (row, modules) in colors.chunks(width).enumerate() {
            let mut column = 0;
            while column < width {
                if modules[column] == Color::Dark {
                    let start = column;
                    while column < width && modules[column] == Color::Dark {
                        column += 1;
                    }
                    runs.push(Run {
                        x: start + QUIET_ZONE,
                        y: row + QUIET_ZONE,
                        width: column - start,
                    });
                } else {
                    column += 1;
                }
            }
        }
        Some(Self {
            size: width + 2 * QUIET_ZONE,
            runs,
            label: label.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_redraw_exactly_the_dark_modules() {
        let text = "K7QF-29XD-MB4T";
        let svg = QrSvg::encode(text, "QR code").expect("fits");
        let code = QrCode::with_error_correction_level(text, EcLevel::M).expect("fits");
        let width = code.width();
        assert_eq!(svg.size, width + 8);
        let mut drawn = vec![false; width * width];
        for run in &svg.runs {
            for column in run.x..run.x + run.width {
                let index = (run.y - QUIET_ZONE) * width + (column - QUIET_ZONE);
                assert!(!drawn[index], "drawn twice");
                drawn[index] = true;
            }
        }
        let expected: Vec<bool> = code
            .to_colors()
            .iter()
            .map(|color| *color == Color::Dark)
            .collect();
        assert_eq!(drawn, expected);
    }

    #[test]
    fn renders_as_svg_rects_without_style() {
        let html = QrSvg::encode("ABC123", "QR code of the enrolment code ABC123")
            .expect("fits")
            .render()
            .expect("renders");
        assert!(html.starts_with("<svg"), "{html}");
        assert!(html.contains("<rect"));
        assert!(html.contains("aria-label=\"QR code of the enrolment code ABC123\""));
        assert!(!html.contains("style"));
    }
}
