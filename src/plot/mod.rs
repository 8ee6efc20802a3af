//! Figures with [plotters], as PNG or SVG, drawn with a bundled font (DejaVu Sans, through
//! plotters' `ab_glyph` support): no system library, no fontconfig.
//!
//! * [`beta_sweep`] — Fig. 1 style: certainty equivalents and posterior dynamics against β.
//! * [`gridworld`] — Fig. 2 style: dynamics as arrows on a grid, greedy paths.
//! * [`curves`] — Figs. 3 and 6 style: line charts with bands side by side (learning curves).
//!
//! The output format follows the file extension (`.png` or `.svg`). Every figure is drawn in
//! memory first and written atomically (a temporary file renamed into place): a failure never
//! leaves a partial file behind.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};

pub mod beta_sweep;
pub mod curves;
pub mod gridworld;

/// The bundled font (DejaVu Sans; licence in `assets/fonts/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The font family every figure uses; the bundled font is registered under this name.
pub(crate) const FAMILY: &str = "sans-serif";

/// What a figure's drawing code returns: plotters' errors, boxed.
pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// An image format, chosen by the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Portable Network Graphics (a bitmap).
    Png,
    /// Scalable Vector Graphics.
    Svg,
}

impl Format {
    /// The format of a path: `.png` or `.svg` (any case).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for any other extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(Error::InvalidParameter {
                name: "plot".into(),
                message: format!("{}: the file name must end in .png or .svg", path.display()),
            }),
        }
    }
}

fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::Plot { path: String::new(), message: "the bundled font could not be loaded".into() })
    }
}

/// Something that draws itself on any plotters backend.
pub(crate) trait Figure {
    /// Size in pixels (width, height).
    fn size(&self) -> (u32, u32);
    /// Draw on the whole area.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, plotters::coord::Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Draw `figure` in memory and write it to `path` (PNG or SVG by extension), atomically.
pub(crate) fn save(figure: &impl Figure, path: &Path) -> Result<()> {
    let format = Format::from_path(path)?;
    register_font()?;
    let plot_error =
        |e: Box<dyn std::error::Error>| Error::Plot { path: path.display().to_string(), message: e.to_string() };
    let (w, h) = figure.size();
    let bytes = match format {
        Format::Svg => {
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, (w, h)).into_drawing_area();
                figure.draw(&root).map_err(plot_error)?;
                root.present().map_err(|e| plot_error(e.into()))?;
            }
            text.into_bytes()
        }
        Format::Png => {
            let mut rgb = vec![0u8; (w as usize) * (h as usize) * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                figure.draw(&root).map_err(plot_error)?;
                root.present().map_err(|e| plot_error(e.into()))?;
            }
            encode_png(&rgb, (w, h)).map_err(|e| plot_error(e.into()))?
        }
    };
    crate::io::write_atomic(path, &bytes)
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> std::result::Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

/// A text style in the bundled font.
pub(crate) fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// Line colours for series (a colour-blind-friendly palette without red and green, which
/// mark risk-seeking and risk-neutral regions).
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];
/// Shading of a risk-seeking (risky choice) region, and the colour of a risky path.
pub(crate) const RISKY: RGBColor = RGBColor(214, 39, 40);
/// Shading of a risk-neutral region, and the colour of a safe path.
pub(crate) const SAFE: RGBColor = RGBColor(44, 160, 44);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(Format::from_path(Path::new("a/b.PNG")).ok(), Some(Format::Png));
        assert_eq!(Format::from_path(Path::new("b.svg")).ok(), Some(Format::Svg));
        assert!(matches!(Format::from_path(Path::new("b.pdf")), Err(Error::InvalidParameter { .. })));
        assert!(matches!(Format::from_path(Path::new("b")), Err(Error::InvalidParameter { .. })));
    }

    #[test]
    fn the_bundled_font_loads() {
        assert!(register_font().is_ok());
    }
}
