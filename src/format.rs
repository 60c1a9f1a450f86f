//! Number and text formatting shared by every layer: the bottom of the crate (std only),
//! so sizing, findings, the report and the bundle format numbers alike without importing
//! each other.

/// Thousands separators: `65535` → `65,535`.
pub fn group(x: u64) -> String {
    let s = x.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `x` with at most two decimals and no trailing zeros: 6.5, 130, 0.25.
pub fn two_decimals(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A plain number as people write it: `64` rather than `64.0`, `0.00001` rather than
/// `1e-5`, grouped thousands for whole numbers (`65,535`), a real minus sign.
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let sign = if x < 0.0 { "−" } else { "" };
        format!("{sign}{}", group(x.abs() as u64))
    } else {
        format!("{x}")
    }
}

/// "1 process", "2 processes".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for (x, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (65535, "65,535"),
            (1234567, "1,234,567"),
        ] {
            assert_eq!(group(x), want);
        }
        for (x, want) in [
            (6.5, "6.5"),
            (130.0, "130"),
            (0.25, "0.25"),
            (1.0 / 3.0, "0.33"),
        ] {
            assert_eq!(two_decimals(x), want);
        }
        for (x, want) in [
            (64.0, "64"),
            (65535.0, "65,535"),
            (-2.0, "−2"),
            (0.00001, "0.00001"),
            (2.5, "2.5"),
        ] {
            assert_eq!(number(x), want);
        }
        assert_eq!(plural(1, "process", "processes"), "1 process");
        assert_eq!(plural(2, "process", "processes"), "2 processes");
    }
}
