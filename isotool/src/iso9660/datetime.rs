//! The two timestamp encodings of ISO 9660: the 7-byte binary "recording date and time" of
//! directory records (ECMA-119 9.1.5) and the 17-byte digit string of volume descriptors
//! (8.4.26.1), plus the conversion from Unix time the builder needs for `SOURCE_DATE_EPOCH`.

use super::bytes::u8_at;

/// A calendar time as ISO 9660 stores it: local time plus an offset from GMT in 15-minute units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Hundredths of a second (only the 17-byte form has them).
    pub centiseconds: u8,
    /// Offset from GMT in 15-minute intervals, −48 (west) … +52 (east).
    pub gmt_offset: i8,
}

impl DateTime {
    /// The calendar time of `unix` seconds since 1970-01-01T00:00:00Z, in GMT.
    pub fn from_unix(unix: i64) -> DateTime {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        DateTime {
            year: year.clamp(0, 9999) as u16,
            month,
            day,
            hour: (secs / 3600) as u8,
            minute: (secs / 60 % 60) as u8,
            second: (secs % 60) as u8,
            centiseconds: 0,
            gmt_offset: 0,
        }
    }

    /// Seconds since the Unix epoch, the GMT offset applied; `None` for the all-zero
    /// "not specified" value or a date outside the calendar.
    pub fn to_unix(&self) -> Option<i64> {
        if !(1..=12).contains(&self.month) || !(1..=31).contains(&self.day) {
            return None;
        }
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        let local = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        Some(local - i64::from(self.gmt_offset) * 15 * 60)
    }

    /// Parses the 7-byte directory-record form (years since 1900).
    pub fn parse_record(field: &[u8]) -> Option<DateTime> {
        Some(DateTime {
            year: 1900 + u16::from(u8_at(field, 0)?),
            month: u8_at(field, 1)?,
            day: u8_at(field, 2)?,
            hour: u8_at(field, 3)?,
            minute: u8_at(field, 4)?,
            second: u8_at(field, 5)?,
            centiseconds: 0,
            gmt_offset: u8_at(field, 6)? as i8,
        })
    }

    /// The 7-byte directory-record form. Years outside 1900–2155 are clamped: the field cannot
    /// hold them.
    pub fn to_record(&self) -> [u8; 7] {
        [
            self.year.clamp(1900, 2155).saturating_sub(1900) as u8,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.gmt_offset as u8,
        ]
    }

    /// Parses the 17-byte volume-descriptor form (`YYYYMMDDHHMMSScc` in ASCII digits and an
    /// offset byte). All zeros or all `'0'` means "not specified" and gives `None`; so does a
    /// field that is not digits.
    pub fn parse_volume(field: &[u8]) -> Option<DateTime> {
        let digits = field.get(..16)?;
        if !digits.iter().all(u8::is_ascii_digit) || digits.iter().all(|&d| d == b'0') {
            return None;
        }
        let num = |from: usize, len: usize| -> Option<u16> {
            digits
                .get(from..from + len)?
                .iter()
                .try_fold(0u16, |acc, d| {
                    acc.checked_mul(10)?.checked_add(u16::from(d - b'0'))
                })
        };
        Some(DateTime {
            year: num(0, 4)?,
            month: num(4, 2)? as u8,
            day: num(6, 2)? as u8,
            hour: num(8, 2)? as u8,
            minute: num(10, 2)? as u8,
            second: num(12, 2)? as u8,
            centiseconds: num(14, 2)? as u8,
            gmt_offset: u8_at(field, 16)? as i8,
        })
    }

    /// The 17-byte volume-descriptor form.
    pub fn to_volume(&self) -> [u8; 17] {
        let text = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}{:02}",
            self.year.min(9999),
            self.month.min(99),
            self.day.min(99),
            self.hour.min(99),
            self.minute.min(99),
            self.second.min(99),
            self.centiseconds.min(99)
        );
        let mut out = [0u8; 17];
        out[..16].copy_from_slice(&text.as_bytes()[..16]);
        out[16] = self.gmt_offset as u8;
        out
    }

    /// The 17-byte "not specified" value (digits zero, offset zero), used for the expiration date.
    pub const UNSPECIFIED_VOLUME: [u8; 17] = *b"0000000000000000\0";
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let offset_minutes = i32::from(self.gmt_offset) * 15;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            if offset_minutes < 0 { '-' } else { '+' },
            offset_minutes.abs() / 60,
            offset_minutes.abs() % 60
        )
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_round_trips_through_both_forms() {
        for unix in [0i64, 951_782_400, 1_700_000_000, 4_102_444_799] {
            let dt = DateTime::from_unix(unix);
            assert_eq!(dt.to_unix(), Some(unix));
            assert_eq!(
                DateTime::parse_record(&dt.to_record()).unwrap().to_unix(),
                Some(unix)
            );
            assert_eq!(
                DateTime::parse_volume(&dt.to_volume()).unwrap().to_unix(),
                Some(unix)
            );
        }
        assert_eq!(
            DateTime::from_unix(951_782_400).to_string(),
            "2000-02-29T00:00:00+00:00"
        );
    }

    #[test]
    fn unspecified_and_garbage_volume_dates_are_none() {
        assert_eq!(DateTime::parse_volume(&DateTime::UNSPECIFIED_VOLUME), None);
        assert_eq!(DateTime::parse_volume(&[0; 17]), None);
        assert_eq!(DateTime::parse_volume(b"2024X101000000000"), None);
        assert_eq!(DateTime::parse_volume(b"2024"), None);
    }

    #[test]
    fn gmt_offset_shifts_unix_time() {
        let mut dt = DateTime::from_unix(3600);
        dt.gmt_offset = 4; // +01:00: the same wall clock is one hour earlier in GMT
        assert_eq!(dt.to_unix(), Some(0));
        assert_eq!(dt.to_string(), "1970-01-01T01:00:00+01:00");
    }
}
