//! Sizes as people write them in flags and config files ("500MiB", "2GB") and
//! read them in terminal output ("1.5 MiB").

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;
pub const GIB: u64 = 1024 * MIB;

/// A number of bytes, parsed from "500MiB", "1 GiB", "64k" or "1048576"
/// (binary units; KB, MB, GB and TB are decimal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "SizeInput")]
pub struct ByteSize(pub u64);

/// A size in a TOML file: a string with a unit, or a plain number of bytes.
#[derive(Deserialize)]
#[serde(untagged)]
enum SizeInput {
    Bytes(u64),
    Text(String),
}

impl TryFrom<SizeInput> for ByteSize {
    type Error = String;

    fn try_from(input: SizeInput) -> Result<Self, String> {
        match input {
            SizeInput::Bytes(n) => Ok(ByteSize(n)),
            SizeInput::Text(s) => s.parse(),
        }
    }
}

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("{s:?} is not a size (examples: 500MiB, 2GiB, 65536)"))?;
        let mult = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kib" => KIB,
            "m" | "mib" => MIB,
            "g" | "gib" => GIB,
            "t" | "tib" => 1024 * GIB,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => {
                return Err(format!(
                    "{s:?}: unknown size unit (use B, KiB, MiB, GiB, TiB)"
                ))
            }
        };
        n.checked_mul(mult)
            .map(ByteSize)
            .ok_or_else(|| format!("{s:?} is too large"))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human(self.0))
    }
}

/// "1.5 MiB"-style size for people.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        let parse = |s: &str| s.parse::<ByteSize>().map(|b| b.0);
        assert_eq!(parse("500MiB").unwrap(), 500 * MIB);
        assert_eq!(parse("1 GiB").unwrap(), 1 << 30);
        assert_eq!(parse("65536").unwrap(), 65536);
        assert_eq!(parse("2MB").unwrap(), 2_000_000);
        assert!(parse("lots").is_err());
        assert!(parse("5 parsecs").is_err());
        assert!(parse("99999999999TiB").is_err());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(500 * MIB), "500.0 MiB");
    }
}
