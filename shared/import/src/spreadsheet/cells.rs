//! Worksheet cells → the text the rest of the crate reads (as if the sheet had been a CSV): integers without `.0`,
//! other numbers as the shortest decimal that reads back to the same float, booleans `true`/`false`, dates
//! `YYYY-MM-DD`, date-times `YYYY-MM-DDTHH:MM:SS`, times of day and durations `HH:MM:SS`, strings trimmed.

use calamine::{Data, DataRef, ExcelDateTime};
use chrono::Timelike;

/// A converted cell.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    Empty,
    Text(String),
    /// An Excel error value (`#DIV/0!`), reported on its row.
    Error(String),
}

pub(super) fn from_data_ref(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => text(s),
        DataRef::SharedString(s) => text(s),
        DataRef::Int(i) => Cell::Text(i.to_string()),
        DataRef::Float(f) => Cell::Text(float(*f)),
        DataRef::Bool(b) => Cell::Text(b.to_string()),
        DataRef::DateTime(dt) => datetime(dt),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text(s),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

pub(super) fn from_data(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => text(s),
        Data::Int(i) => Cell::Text(i.to_string()),
        Data::Float(f) => Cell::Text(float(*f)),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(dt) => datetime(dt),
        Data::DateTimeIso(s) | Data::DurationIso(s) => text(s),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

fn text(s: &str) -> Cell {
    match crate::table::cell(s) {
        Some(t) => Cell::Text(t),
        None => Cell::Empty,
    }
}

/// Excel stores every number as a float; whole ones are shown as integers, as the sheet shows them. Rust's `Display`
/// for `f64` is the shortest text that parses back to the same value, never in exponent notation.
pub(super) fn float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 { (f as i64).to_string() } else { f.to_string() }
}

/// Dates and date-times to the second (Excel keeps milliseconds; imports want what the sheet shows). A serial below
/// 1 is a time of day without a date; durations (`[h]:mm:ss`) may exceed 24 hours.
fn datetime(dt: &ExcelDateTime) -> Cell {
    let serial = dt.as_f64();
    if dt.is_duration() || (0.0..1.0).contains(&serial) {
        let secs = (serial.abs() * 86_400.0).round() as u64;
        let sign = if serial < 0.0 { "-" } else { "" };
        return Cell::Text(format!("{sign}{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60));
    }
    let rounded = dt
        .as_datetime()
        .and_then(|t| t.checked_add_signed(chrono::TimeDelta::milliseconds(500)))
        .and_then(|t| t.with_nanosecond(0));
    match rounded {
        Some(t) if t.time() == chrono::NaiveTime::MIN => Cell::Text(t.format("%Y-%m-%d").to_string()),
        Some(t) => Cell::Text(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
        // Out of chrono's range: the serial number is all there is.
        None => Cell::Text(float(serial)),
    }
}

#[cfg(test)]
mod tests {
    use calamine::{CellErrorType, ExcelDateTimeType};

    use super::*;

    fn dt(serial: f64, kind: ExcelDateTimeType) -> Cell {
        from_data(&Data::DateTime(ExcelDateTime::new(serial, kind, false)))
    }

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn numbers_as_the_sheet_shows_them() {
        assert_eq!(from_data(&Data::Float(42.0)), t("42"));
        assert_eq!(from_data(&Data::Float(-0.0)), t("0"));
        assert_eq!(from_data(&Data::Float(0.1 + 0.2)), t("0.30000000000000004"));
        assert_eq!(from_data(&Data::Float(1.5e-7)), t("0.00000015"));
        assert_eq!(from_data(&Data::Float(1e20)), t("100000000000000000000"));
        assert_eq!(from_data(&Data::Int(-7)), t("-7"));
        assert_eq!(from_data(&Data::Bool(true)), t("true"));
    }

    #[test]
    fn dates_times_and_durations() {
        use ExcelDateTimeType::{DateTime, TimeDelta};
        assert_eq!(dt(45_322.0, DateTime), t("2024-01-31"));
        assert_eq!(dt(45_322.5, DateTime), t("2024-01-31T12:00:00"));
        assert_eq!(dt(45_322.999_999_9, DateTime), t("2024-02-01"), "rounded to the second");
        assert_eq!(dt(0.75, DateTime), t("18:00:00"));
        assert_eq!(dt(1.5, TimeDelta), t("36:00:00"));
        assert_eq!(from_data(&Data::DateTimeIso("2024-01-31T10:00:00".into())), t("2024-01-31T10:00:00"));
    }

    #[test]
    fn strings_errors_and_blanks() {
        assert_eq!(from_data(&Data::String("  Ann  ".into())), t("  Ann  "), "spaces around text are data");
        assert_eq!(from_data(&Data::String(" \n ".into())), Cell::Empty);
        assert_eq!(from_data(&Data::Error(CellErrorType::Div0)), Cell::Error("#DIV/0!".into()));
        assert_eq!(from_data_ref(&DataRef::SharedString("x")), t("x"));
        assert_eq!(from_data_ref(&DataRef::Empty), Cell::Empty);
    }
}
