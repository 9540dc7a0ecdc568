//! Signing timestamps: `yyyyMMdd'T'HHmmss'Z'` (V4) and RFC 1123 (`Date` header).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::{Date, Month, PrimitiveDateTime, Time};

use crate::Error;

const V4_FORMAT: &str = "yyyyMMdd'T'HHmmss'Z'";

/// Latest supported instant: 9999-12-31T23:59:59Z.
const MAX_UNIX: u64 = 253_402_300_799;

/// The signing instant rendered in both formats, on the stack.
#[derive(Clone, Copy)]
pub(crate) struct Stamp {
    datetime: [u8; 16],
    http_date: [u8; 29],
}

impl Stamp {
    /// Renders `t`.
    ///
    /// # Errors
    ///
    /// [`Error::TimeOutOfRange`] before 1970 or after 9999.
    pub(crate) fn new(t: SystemTime) -> Result<Self, Error> {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::TimeOutOfRange)?
            .as_secs();
        if secs > MAX_UNIX {
            return Err(Error::TimeOutOfRange);
        }
        let days = secs / 86_400;
        let of_day = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        // All values are bounded (year <= 9999, of_day < 86400), so the casts cannot truncate.
        let (hour, minute, second) = (
            (of_day / 3600) as u32,
            (of_day / 60 % 60) as u32,
            (of_day % 60) as u32,
        );

        let mut datetime = *b"00000000T000000Z";
        put_digits(&mut datetime[0..4], year);
        put_digits(&mut datetime[4..6], month);
        put_digits(&mut datetime[6..8], day);
        put_digits(&mut datetime[9..11], hour);
        put_digits(&mut datetime[11..13], minute);
        put_digits(&mut datetime[13..15], second);

        let mut http_date = *b"Xxx, 00 Xxx 0000 00:00:00 GMT";
        // 1970-01-01 was a Thursday.
        http_date[0..3].copy_from_slice(&WEEKDAYS[((days + 4) % 7) as usize]);
        put_digits(&mut http_date[5..7], day);
        http_date[8..11].copy_from_slice(&MONTHS[(month as usize).saturating_sub(1) % 12]);
        put_digits(&mut http_date[12..16], year);
        put_digits(&mut http_date[17..19], hour);
        put_digits(&mut http_date[20..22], minute);
        put_digits(&mut http_date[23..25], second);
        Ok(Self {
            datetime,
            http_date,
        })
    }

    /// Renders `t` clamped into 1970..=9999 (infallible).
    pub(crate) fn clamped(t: SystemTime) -> Self {
        Self::new(clamp(t)).unwrap_or(Self {
            datetime: *b"19700101T000000Z",
            http_date: *b"Thu, 01 Jan 1970 00:00:00 GMT",
        })
    }

    /// `yyyyMMdd'T'HHmmss'Z'`.
    pub(crate) fn datetime(&self) -> &str {
        // Only ASCII digits and letters were written.
        std::str::from_utf8(&self.datetime).unwrap_or_default()
    }

    /// `yyyyMMdd`.
    pub(crate) fn date(&self) -> &str {
        std::str::from_utf8(&self.datetime[..8]).unwrap_or_default()
    }

    /// RFC 1123, e.g. `Sat, 16 Dec 2023 16:20:57 GMT`.
    pub(crate) fn http_date(&self) -> &str {
        std::str::from_utf8(&self.http_date).unwrap_or_default()
    }
}

/// Writes `value` as zero-padded decimal filling `out`.
fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        // `value % 10` is below 10, so the cast cannot truncate.
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

const WEEKDAYS: [[u8; 3]; 7] = [
    *b"Sun", *b"Mon", *b"Tue", *b"Wed", *b"Thu", *b"Fri", *b"Sat",
];
const MONTHS: [[u8; 3]; 12] = [
    *b"Jan", *b"Feb", *b"Mar", *b"Apr", *b"May", *b"Jun", *b"Jul", *b"Aug", *b"Sep", *b"Oct",
    *b"Nov", *b"Dec",
];

/// Proleptic Gregorian (year, month 1..=12, day 1..=31) of `days` since 1970-01-01
/// (H. Hinnant's `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    // Bounded by MAX_UNIX: year <= 9999.
    (year as u32, month as u32, day as u32)
}

/// Clamps `t` into 1970..=9999 so the infallible formatters always have something to print.
fn clamp(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Err(_) => UNIX_EPOCH,
        Ok(d) if d.as_secs() > MAX_UNIX => UNIX_EPOCH + Duration::from_secs(MAX_UNIX),
        Ok(_) => t,
    }
}

/// Formats `t` as the V4 timestamp `yyyyMMdd'T'HHmmss'Z'` (UTC), e.g. `20231216T162057Z`.
///
/// Sub-second parts are dropped. Instants before 1970 or after 9999 are clamped to that range
/// (the signer itself rejects them with [`Error::TimeOutOfRange`]).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(1_702_743_657);
/// assert_eq!(oss_sign::format_datetime(t), "20231216T162057Z");
/// ```
pub fn format_datetime(t: SystemTime) -> String {
    Stamp::clamped(t).datetime().to_owned()
}

/// Formats `t` as an RFC 1123 HTTP date (`Sat, 16 Dec 2023 16:20:57 GMT`), clamped like
/// [`format_datetime`].
pub fn format_http_date(t: SystemTime) -> String {
    Stamp::clamped(t).http_date().to_owned()
}

/// Parses a V4 timestamp `yyyyMMdd'T'HHmmss'Z'`.
///
/// # Errors
///
/// [`Error::InvalidDateTime`] when the text is not exactly that shape or names no real instant.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = oss_sign::parse_datetime("20231216T162057Z")?;
/// assert_eq!(t, UNIX_EPOCH + Duration::from_secs(1_702_743_657));
/// assert!(oss_sign::parse_datetime("2023-12-16T16:20:57Z").is_err());
/// # Ok::<(), oss_sign::Error>(())
/// ```
pub fn parse_datetime(s: &str) -> Result<SystemTime, Error> {
    let invalid = || Error::InvalidDateTime {
        value: s.chars().take(64).collect(),
        expected: V4_FORMAT,
    };
    let b = s.as_bytes();
    let shape_ok = b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[9..15].iter().all(u8::is_ascii_digit);
    if !shape_ok {
        return Err(invalid());
    }
    let num = |range: std::ops::Range<usize>| -> u32 {
        b[range]
            .iter()
            .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let year = i32::try_from(num(0..4)).map_err(|_| invalid())?;
    let month = u8::try_from(num(4..6))
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(invalid)?;
    let day = u8::try_from(num(6..8)).map_err(|_| invalid())?;
    let date = Date::from_calendar_date(year, month, day).map_err(|_| invalid())?;
    let hms = |r| u8::try_from(num(r)).map_err(|_| invalid());
    let time = Time::from_hms(hms(9..11)?, hms(11..13)?, hms(13..15)?).map_err(|_| invalid())?;
    let unix = PrimitiveDateTime::new(date, time)
        .assume_utc()
        .unix_timestamp();
    let unix = u64::try_from(unix).map_err(|_| invalid())?;
    Ok(UNIX_EPOCH + Duration::from_secs(unix))
}

/// Parses an HTTP date (RFC 1123, also RFC 850 and asctime), as found in the `Date` header.
///
/// # Errors
///
/// [`Error::InvalidDateTime`] when the text is not an HTTP date.
pub fn parse_http_date(s: &str) -> Result<SystemTime, Error> {
    httpdate::parse_http_date(s).map_err(|_| Error::InvalidDateTime {
        value: s.chars().take(64).collect(),
        expected: "an RFC 1123 HTTP date",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn formats_vector_times() {
        let s = Stamp::new(at(1_702_743_657)).expect("in range");
        assert_eq!(s.datetime(), "20231216T162057Z");
        assert_eq!(s.date(), "20231216");
        assert_eq!(s.http_date(), "Sat, 16 Dec 2023 16:20:57 GMT");
        assert_eq!(
            format_http_date(at(1_665_893_239)),
            "Sun, 16 Oct 2022 04:07:19 GMT"
        );
    }

    #[test]
    fn http_date_matches_httpdate_crate() {
        for secs in [0u64, 1, 86_399, 951_782_400, 1_702_743_657, 4_102_444_800] {
            assert_eq!(
                format_http_date(at(secs)),
                httpdate::fmt_http_date(at(secs))
            );
        }
    }

    #[test]
    fn out_of_range_is_error_not_panic() {
        assert!(matches!(
            Stamp::new(UNIX_EPOCH - Duration::from_secs(1)),
            Err(Error::TimeOutOfRange)
        ));
        assert!(matches!(
            Stamp::new(at(MAX_UNIX + 1)),
            Err(Error::TimeOutOfRange)
        ));
        assert_eq!(format_datetime(at(MAX_UNIX + 10)), "99991231T235959Z");
        assert_eq!(
            format_datetime(UNIX_EPOCH - Duration::from_secs(5)),
            "19700101T000000Z"
        );
    }

    #[test]
    fn parse_rejects_bad_calendar_values() {
        for bad in [
            "20231301T000000Z",
            "20230230T000000Z",
            "20231216T246000Z",
            "20231216T162057",
            "2023121GT162057Z",
            "",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_datetime("20231216T162057Z").ok(),
            Some(at(1_702_743_657))
        );
        assert!(parse_http_date("Sat, 16 Dec 2023 16:20:57 GMT").is_ok());
        assert!(parse_http_date("20231216T162057Z").is_err());
    }

    proptest::proptest! {
        #[test]
        fn matches_time_crate_calendar(secs in 0u64..=MAX_UNIX) {
            let dt = time::OffsetDateTime::from_unix_timestamp(secs as i64).expect("in range");
            let want = format!(
                "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
                dt.year(), u8::from(dt.month()), dt.day(), dt.hour(), dt.minute(), dt.second()
            );
            let stamp = Stamp::new(at(secs)).expect("in range");
            proptest::prop_assert_eq!(stamp.datetime(), want);
            let weekday = &stamp.http_date()[..3];
            proptest::prop_assert_eq!(weekday, &format!("{:?}", dt.weekday())[..3]);
        }

        #[test]
        fn roundtrip(secs in 0u64..=MAX_UNIX) {
            let t = at(secs);
            proptest::prop_assert_eq!(parse_datetime(&format_datetime(t)).ok(), Some(t));
        }
    }
}
