//! Embedded font for plot text. Users' machines have no guaranteed system fonts (and
//! fontconfig may be missing), so plots use plotters' `ab_glyph` backend with DejaVu Sans
//! embedded in the binary (Bitstream Vera licence, a permissive licence: see
//! `assets/DejaVuSans-LICENSE.txt` next to the font). The font is registered for the
//! `sans-serif`, `serif` and `monospace` families, so any plotters default resolves to it.
use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use crate::error::{AnalysisError, Result};

/// DejaVu Sans (from Debian's fonts-dejavu-core), embedded.
pub const DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The family name used for all plot text.
pub const FAMILY: &str = "sans-serif";

static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Registers the embedded font with plotters (idempotent, thread-safe). Every plotting entry
/// point calls this before drawing.
pub fn ensure_registered() -> Result<()> {
    REGISTERED
        .get_or_init(|| {
            for family in ["sans-serif", "serif", "monospace"] {
                for style in [FontStyle::Normal, FontStyle::Bold] {
                    register_font(family, style, DEJAVU_SANS)
                        .map_err(|_| "embedded DejaVu Sans could not be parsed".to_string())?;
                }
            }
            Ok(())
        })
        .clone()
        .map_err(AnalysisError::Plot)
}
