//! Decoding a picture into pixels for the desktop inbox to show. Runs only
//! inside the sandbox helper (`Job::Render`): the inbox never decodes an
//! image itself, nor lets GTK's loaders near a stranger's file.
//!
//! Only what `scrub` keeps as a picture is decoded (PNG, JPEG, GIF's first
//! frame, WebP), by `image`'s pure-Rust decoders, under limits on the
//! picture's size and on what decoding may allocate: a file that claims
//! 60,000 × 60,000 pixels is refused before a byte is allocated for them.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

use crate::sniff::Kind;

/// A picture's pixels, as `Job::Render` sends them back to the parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    /// RGBA, 4 bytes a pixel, `width * 4` bytes a row.
    pub rgba: Vec<u8>,
}

/// The largest picture decoded, a side: larger is refused, not guessed at.
pub const MAX_DECODED_SIDE: u32 = 16_384;
/// The most a decoder may allocate (the helper's address space is 4 GiB).
pub const MAX_DECODE_ALLOCATION: u64 = 1 << 30;

/// Decodes `data` and scales it down (never up) to fit `max_side` pixels a
/// side; why not, in plain words.
pub fn decode(data: &[u8], max_side: u32) -> Result<Pixels, String> {
    let format = match Kind::of(data) {
        Kind::Png => ImageFormat::Png,
        Kind::Jpeg => ImageFormat::Jpeg,
        Kind::Gif => ImageFormat::Gif,
        Kind::WebP => ImageFormat::WebP,
        other => {
            return Err(format!(
                "{} is not a picture the inbox shows (PNG, JPEG, GIF or WebP)",
                other.describe()
            ))
        }
    };
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOCATION);
    reader.limits(limits);
    let picture = reader
        .decode()
        .map_err(|e| format!("the picture could not be decoded: {e}"))?;
    let max_side = max_side.max(1);
    let picture = if picture.width() > max_side || picture.height() > max_side {
        picture.thumbnail(max_side, max_side)
    } else {
        picture
    };
    let rgba = picture.into_rgba8();
    Ok(Pixels {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let picture = image::RgbaImage::from_fn(width, height, |x, y| {
            image::Rgba([x as u8, y as u8, 7, 255])
        });
        picture
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("a PNG is written");
        out
    }

    #[test]
    fn a_png_comes_back_as_its_pixels() {
        let pixels = decode(&png(3, 2), 100).expect("decodes");
        assert_eq!((pixels.width, pixels.height), (3, 2));
        assert_eq!(&pixels.rgba[4..8], &[1, 0, 7, 255]);
    }

    #[test]
    fn a_large_picture_is_scaled_down_to_fit() {
        let pixels = decode(&png(400, 100), 40).expect("decodes");
        assert_eq!((pixels.width, pixels.height), (40, 10));
        assert_eq!(pixels.rgba.len(), 40 * 10 * 4);
    }

    #[test]
    fn a_claimed_size_past_the_limit_is_refused_before_decoding() {
        // A PNG header that claims 60000 × 60000 pixels, and no data.
        let mut data = png(1, 1);
        data[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        data[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let error = decode(&data, 100).expect_err("refused");
        assert!(error.contains("could not be decoded"), "{error}");
    }

    #[test]
    fn what_is_not_a_picture_is_not_decoded() {
        let error = decode(b"%PDF-1.7\n", 100).expect_err("refused");
        assert!(error.contains("not a picture"), "{error}");
    }
}
