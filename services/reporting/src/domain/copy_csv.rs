//! The conversations export's rows: PostgreSQL's binary `COPY` of the
//! stored columns, written as the export's CSV (RPT-4, issue 11).
//!
//! PostgreSQL only reads the rows and sends them as they are stored
//! (`COPY (SELECT <columns>) TO STDOUT WITH (FORMAT binary)`: as cheap for
//! it as the plain CSV `COPY` it is measured against); the cells are made
//! here, on the service's core, while PostgreSQL reads on. Every cell is
//! written exactly as the SQL formatting of the first streamed export
//! wrote it (a test compares the two byte for byte):
//!
//! - timestamps as `to_char(t AT TIME ZONE 'UTC',
//!   'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`: milliseconds truncated, a year
//!   before 1 AD written as its BC number, an infinite one empty;
//! - seconds as `round(x::numeric, 3)`: the float's 15 significant digits
//!   (`float8_numeric`), rounded half away from zero to three decimals;
//! - text through the formula rule ([`formula_start`]), an empty cell
//!   unquoted; several values joined with `|`, every `|`-separated part
//!   made safe; labels checked against their enum (an unknown one fails
//!   the export, [`UnknownLabel`]);
//! - quoting as PostgreSQL's CSV writes it: a cell holding the delimiter,
//!   `"`, CR or LF is quoted with `"` doubled; row ends are RFC 4180's
//!   CRLF.
//!
//! Rows arrive in pieces of any size (one per row from the driver, but
//! nothing here depends on it): an incomplete row waits for the next
//! piece.
use std::fmt::Write as _;

use livedesk_proto::common::v1::Channel;
use livedesk_proto::conversations::v1::{ConversationStatus, EndedBy};

use super::csv_out::formula_start;
use super::{CsvOptions, StoredEnum, UnknownLabel, parse_label};

/// What starts a binary `COPY`: the signature, the flags and the length
/// of the header extension (read, then skipped).
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// The columns of [`SELECT_COLUMNS`].
const COLUMNS: i16 = 16;

/// The stored columns the conversations export reads, in the CSV's order
/// (`grpc::cells::header`).
pub const SELECT_COLUMNS: &str = "conversation_id, created_at, ended_at, queue_id, channel, agent_ids, tags, reason, \
     status, ended_by, wait_seconds, handle_seconds, first_response_seconds, message_count, wrap_up_code, blocked";

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400_000_000;

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

/// Why the rows could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CopyRowsError {
    /// A stored label no enum has: the export fails (fail closed).
    #[error(transparent)]
    Label(#[from] UnknownLabel),
    /// Bytes that are not the binary `COPY` of [`SELECT_COLUMNS`].
    #[error("binary COPY data: {0}")]
    Malformed(&'static str),
}

/// Where reading a row stopped short.
enum Stop {
    /// The row goes on in the next piece.
    Incomplete,
    Failed(CopyRowsError),
}

impl From<UnknownLabel> for Stop {
    fn from(e: UnknownLabel) -> Self {
        Stop::Failed(e.into())
    }
}

fn malformed(what: &'static str) -> Stop {
    Stop::Failed(CopyRowsError::Malformed(what))
}

/// Where the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Header,
    Rows,
    /// The trailer was read: nothing may follow.
    Done,
}

/// Writes a binary `COPY` of [`SELECT_COLUMNS`] as the export's CSV rows,
/// piece by piece.
#[derive(Debug)]
pub struct ConversationCsv {
    delimiter: u8,
    part: Part,
    /// The start of a row whose end has not arrived yet.
    pending: Vec<u8>,
    /// A list cell being joined.
    list: Vec<u8>,
    /// A float's digits.
    digits: String,
    rows: u64,
}

impl ConversationCsv {
    /// A writer with `options`' delimiter (the BOM and header are the
    /// caller's).
    pub fn new(options: CsvOptions) -> Self {
        Self {
            delimiter: if options.semicolon { b';' } else { b',' },
            part: Part::Header,
            pending: Vec::new(),
            list: Vec::with_capacity(256),
            digits: String::with_capacity(32),
            rows: 0,
        }
    }

    /// Appends to `out` the CSV of every row completed by `piece`.
    pub fn push(&mut self, piece: &[u8], out: &mut Vec<u8>) -> Result<(), CopyRowsError> {
        if self.pending.is_empty() {
            let used = self.write_rows(piece, out)?;
            self.pending.extend_from_slice(&piece[used..]);
        } else {
            let mut pending = std::mem::take(&mut self.pending);
            pending.extend_from_slice(piece);
            let used = self.write_rows(&pending, out)?;
            pending.drain(..used);
            self.pending = pending;
        }
        Ok(())
    }

    /// The rows written, once the stream has ended with its trailer.
    pub fn finish(&self) -> Result<u64, CopyRowsError> {
        if self.part != Part::Done || !self.pending.is_empty() {
            return Err(CopyRowsError::Malformed(
                "the data ended before its trailer",
            ));
        }
        Ok(self.rows)
    }

    /// Writes the whole rows at the start of `buf`; returns the bytes used.
    fn write_rows(&mut self, buf: &[u8], out: &mut Vec<u8>) -> Result<usize, CopyRowsError> {
        let mut at = 0;
        while at < buf.len() {
            let mut fields = Fields { buf, at };
            let mark = out.len();
            let step = match self.part {
                Part::Header => fields.header().map(|()| Part::Rows),
                Part::Rows => self.row(&mut fields, out),
                Part::Done => Err(malformed("data after the trailer")),
            };
            match step {
                Ok(part) => {
                    self.part = part;
                    at = fields.at;
                }
                Err(Stop::Incomplete) => {
                    out.truncate(mark);
                    break;
                }
                Err(Stop::Failed(e)) => return Err(e),
            }
        }
        Ok(at)
    }

    /// One row (or the trailer).
    fn row(&mut self, f: &mut Fields<'_>, out: &mut Vec<u8>) -> Result<Part, Stop> {
        let count = f.i16()?;
        if count == -1 {
            return Ok(Part::Done);
        }
        if count != COLUMNS {
            return Err(malformed("a row of another number of columns"));
        }
        let d = self.delimiter;
        uuid(f.field()?, out)?;
        out.push(d);
        time(f.field()?, out)?;
        out.push(d);
        time(f.field()?, out)?;
        out.push(d);
        text(f.field()?, d, out);
        out.push(d);
        label::<Channel>("conversation_facts.channel", f.field()?, out)?;
        out.push(d);
        self.list(f.field()?, out)?;
        out.push(d);
        self.list(f.field()?, out)?;
        out.push(d);
        text(f.field()?, d, out);
        out.push(d);
        label::<ConversationStatus>("conversation_facts.status", f.field()?, out)?;
        out.push(d);
        label::<EndedBy>("conversation_facts.ended_by", f.field()?, out)?;
        out.push(d);
        self.seconds(f.field()?, out)?;
        out.push(d);
        self.seconds(f.field()?, out)?;
        out.push(d);
        self.seconds(f.field()?, out)?;
        out.push(d);
        int4(f.field()?, out)?;
        out.push(d);
        text(f.field()?, d, out);
        out.push(d);
        boolean(f.field()?, out)?;
        out.extend_from_slice(b"\r\n");
        self.rows += 1;
        Ok(Part::Rows)
    }

    /// A `text[]` as `array_to_string(v, '|')` (NULL elements left out),
    /// every `|`-separated part made safe; empty as an empty cell.
    fn list(&mut self, field: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), Stop> {
        let Some(array) = field else {
            return Ok(());
        };
        let mut a = Fields { buf: array, at: 0 };
        let incomplete = |_| malformed("a truncated array");
        let dims = a.i32().map_err(incomplete)?;
        let _has_nulls = a.i32().map_err(incomplete)?;
        let _element_type = a.i32().map_err(incomplete)?;
        let mut elements: i64 = if dims == 0 { 0 } else { 1 };
        for _ in 0..dims.max(0) {
            elements *= i64::from(a.i32().map_err(incomplete)?.max(0));
            let _lower_bound = a.i32().map_err(incomplete)?;
        }
        self.list.clear();
        let mut first = true;
        for _ in 0..elements {
            let Some(element) = a.field().map_err(incomplete)? else {
                continue;
            };
            if !first {
                self.list.push(b'|');
            }
            first = false;
            let part_start = self.list.len();
            self.list.extend_from_slice(element);
            // A part starts the cell or follows a `|`, inside an element
            // too: the rule is over the joined text.
            let mut i = part_start;
            while i < self.list.len() {
                let starts_part = i == 0 || self.list[i - 1] == b'|';
                if starts_part && formula_start(self.list[i]) {
                    self.list.insert(i, b'\'');
                    i += 1;
                }
                i += 1;
            }
        }
        if a.at != array.len() {
            return Err(malformed("bytes after an array's elements"));
        }
        if !self.list.is_empty() {
            quoted(&self.list, self.delimiter, out);
        }
        Ok(())
    }

    /// A `float8` as `round(x::numeric, 3)`.
    fn seconds(&mut self, field: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), Stop> {
        let Some(bytes) = field else {
            return Ok(());
        };
        let x = f64::from_be_bytes(
            bytes
                .try_into()
                .map_err(|_| malformed("a float8 of another size"))?,
        );
        round3(x, &mut self.digits, out);
        Ok(())
    }
}

/// The fields of one row, read from `buf` at `at`.
struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.at.checked_add(n).ok_or(Stop::Incomplete)?;
        let bytes = self.buf.get(self.at..end).ok_or(Stop::Incomplete)?;
        self.at = end;
        Ok(bytes)
    }

    fn i16(&mut self) -> Result<i16, Stop> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, Stop> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A field's bytes; `None` for NULL.
    fn field(&mut self) -> Result<Option<&'a [u8]>, Stop> {
        let len = self.i32()?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| malformed("a negative field length"))?;
        self.take(len).map(Some)
    }

    /// The signature, flags and header extension.
    fn header(&mut self) -> Result<(), Stop> {
        if self.take(SIGNATURE.len())? != SIGNATURE {
            return Err(malformed("no binary COPY signature"));
        }
        let _flags = self.i32()?;
        let extension = self.i32()?;
        let extension =
            usize::try_from(extension).map_err(|_| malformed("a negative header extension"))?;
        self.take(extension)?;
        Ok(())
    }
}

/// A `uuid` in its hyphenated lowercase form.
fn uuid(field: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), Stop> {
    let Some(bytes) = field else {
        return Ok(());
    };
    let id = uuid::Uuid::from_slice(bytes).map_err(|_| malformed("a uuid of another size"))?;
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.extend_from_slice(id.hyphenated().encode_lower(&mut buf).as_bytes());
    Ok(())
}

/// A `timestamptz` as `to_char(t AT TIME ZONE 'UTC',
/// 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.
fn time(field: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), Stop> {
    let Some(bytes) = field else {
        return Ok(());
    };
    let micros = i64::from_be_bytes(
        bytes
            .try_into()
            .map_err(|_| malformed("a timestamptz of another size"))?,
    );
    // ±infinity: `to_char` gives NULL.
    if micros == i64::MAX || micros == i64::MIN {
        return Ok(());
    }
    let (days, in_day) = (micros.div_euclid(DAY_MICROS), micros.rem_euclid(DAY_MICROS));
    let (year, month, day) = civil_from_days(days + PG_EPOCH_DAYS);
    // `YYYY`: a year before 1 AD is written as its BC number, no sign.
    let shown = if year <= 0 { 1 - year } else { year };
    let secs = in_day / 1_000_000;
    let millis = (in_day % 1_000_000) / 1_000;
    let mut width = 4;
    while shown >= 10i64.pow(width) {
        width += 1;
    }
    digits(shown, width, out);
    out.push(b'-');
    digits(month, 2, out);
    out.push(b'-');
    digits(day, 2, out);
    out.push(b'T');
    digits(secs / 3600, 2, out);
    out.push(b':');
    digits(secs / 60 % 60, 2, out);
    out.push(b':');
    digits(secs % 60, 2, out);
    out.push(b'.');
    digits(millis, 3, out);
    out.push(b'Z');
    Ok(())
}

/// `n` (non-negative, below 10^width) in exactly `width` digits.
fn digits(n: i64, width: u32, out: &mut Vec<u8>) {
    let mut p = 10i64.pow(width - 1);
    while p > 0 {
        out.push(b'0' + (n / p % 10) as u8);
        p /= 10;
    }
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`); the year is astronomical (0 is 1 BC).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A text cell made safe; empty as an empty cell.
fn text(field: Option<&[u8]>, delimiter: u8, out: &mut Vec<u8>) {
    let Some(value) = field else {
        return;
    };
    let Some(&first) = value.first() else {
        return;
    };
    if formula_start(first) {
        let mut safe = Vec::with_capacity(value.len() + 1);
        safe.push(b'\'');
        safe.extend_from_slice(value);
        quoted(&safe, delimiter, out);
    } else {
        quoted(value, delimiter, out);
    }
}

/// A non-empty cell as PostgreSQL's CSV writes it: quoted when it holds
/// the delimiter, `"`, CR or LF, with `"` doubled.
fn quoted(value: &[u8], delimiter: u8, out: &mut Vec<u8>) {
    let needs = value
        .iter()
        .any(|&b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r');
    if !needs {
        out.extend_from_slice(value);
        return;
    }
    out.push(b'"');
    for part in value.split_inclusive(|&b| b == b'"') {
        out.extend_from_slice(part);
        if part.last() == Some(&b'"') {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

/// A stored label, which must be one of `E`'s (a NULL is none).
fn label<E: StoredEnum>(
    column: &'static str,
    field: Option<&[u8]>,
    out: &mut Vec<u8>,
) -> Result<(), Stop> {
    let stored = match field {
        Some(bytes) => std::str::from_utf8(bytes).map_err(|_| malformed("a label not in UTF-8"))?,
        None => {
            return Err(UnknownLabel {
                column,
                value: "NULL".into(),
            }
            .into());
        }
    };
    let known = parse_label::<E>(column, stored)?;
    // Labels are lowercase words: nothing to quote.
    out.extend_from_slice(known.label().as_bytes());
    Ok(())
}

/// An `int4`.
fn int4(field: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), Stop> {
    let Some(bytes) = field else {
        return Ok(());
    };
    let n = i32::from_be_bytes(
        bytes
            .try_into()
            .map_err(|_| malformed("an int4 of another size"))?,
    );
    let mut buf = [0u8; 11];
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    out.extend_from_slice(&buf[i..]);
    Ok(())
}

/// A `bool` as `true`/`false`.
fn boolean(field: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), Stop> {
    match field {
        None => {}
        Some([0]) => out.extend_from_slice(b"false"),
        Some([_]) => out.extend_from_slice(b"true"),
        Some(_) => return Err(malformed("a bool of another size")),
    }
    Ok(())
}

/// `round(x::numeric, 3)` as PostgreSQL writes it: `float8_numeric` keeps
/// the float's 15 significant digits (`%.15g`, rounded to nearest, ties
/// to even), `round` rounds that decimal half away from zero to three
/// decimals; zero has no sign; NaN and the infinities by name.
pub fn round3(x: f64, scratch: &mut String, out: &mut Vec<u8>) {
    if x.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if x.is_infinite() {
        out.extend_from_slice(if x < 0.0 { b"-Infinity" } else { b"Infinity" });
        return;
    }
    scratch.clear();
    let _ = write!(scratch, "{:.14e}", x.abs());
    let Some((mantissa, exponent)) = scratch.split_once('e') else {
        return;
    };
    let exponent: i64 = exponent.parse().unwrap_or_default();
    // The 15 significant digits d0 d1 …: digit i weighs 10^(exponent - i).
    let mut sig = [0u8; 15];
    for (d, b) in sig
        .iter_mut()
        .zip(mantissa.bytes().filter(u8::is_ascii_digit))
    {
        *d = b - b'0';
    }
    let digit = |i: i64| -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| sig.get(i).copied())
            .unwrap_or(0)
    };
    // Digits weighing 10^top … 10^-3 (at most 309 + 3, and one more for a
    // carry), then the rounding digit (10^-4).
    let top = exponent.max(0);
    let mut buf = [0u8; 320];
    let mut len = 1;
    for w in (-3..=top).rev() {
        buf[len] = digit(exponent - w);
        len += 1;
    }
    let mut start = 1;
    if digit(exponent + 4) >= 5 {
        let mut i = len;
        loop {
            i -= 1;
            if buf[i] == 9 {
                buf[i] = 0;
            } else {
                buf[i] += 1;
                break;
            }
        }
        if i == 0 {
            start = 0;
        }
    }
    let kept = &buf[start..len];
    let zero = kept.iter().all(|&d| d == 0);
    if x.is_sign_negative() && !zero {
        out.push(b'-');
    }
    let (int, frac) = kept.split_at(kept.len() - 3);
    let lead = int.iter().position(|&d| d != 0).unwrap_or(int.len() - 1);
    out.extend(int[lead..].iter().map(|d| b'0' + d));
    out.push(b'.');
    out.extend(frac.iter().map(|d| b'0' + d));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A binary COPY of `rows` (each a row's fields, NULL as `None`).
    fn copy(rows: &[Vec<Option<Vec<u8>>>]) -> Vec<u8> {
        let mut b = SIGNATURE.to_vec();
        b.extend_from_slice(&0i32.to_be_bytes());
        b.extend_from_slice(&0i32.to_be_bytes());
        for row in rows {
            b.extend_from_slice(&(row.len() as i16).to_be_bytes());
            for field in row {
                match field {
                    None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(f) => {
                        b.extend_from_slice(&(f.len() as i32).to_be_bytes());
                        b.extend_from_slice(f);
                    }
                }
            }
        }
        b.extend_from_slice(&(-1i16).to_be_bytes());
        b
    }

    fn text_array(elements: &[Option<&str>]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&1i32.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes());
        b.extend_from_slice(&25i32.to_be_bytes());
        b.extend_from_slice(&(elements.len() as i32).to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes());
        for e in elements {
            match e {
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(s) => {
                    b.extend_from_slice(&(s.len() as i32).to_be_bytes());
                    b.extend_from_slice(s.as_bytes());
                }
            }
        }
        b
    }

    fn row(reason: &str, channel: &str, tags: &[Option<&str>]) -> Vec<Option<Vec<u8>>> {
        let t = |micros: i64| Some(micros.to_be_bytes().to_vec());
        let s = |x: &str| Some(x.as_bytes().to_vec());
        vec![
            Some(vec![0xab; 16]),
            t(0),
            t(-1),
            s("q1"),
            s(channel),
            Some(text_array(&[Some("a1")])),
            Some(text_array(tags)),
            s(reason),
            s("ended"),
            s("agent"),
            Some(42.857_142_857_142_854f64.to_be_bytes().to_vec()),
            None,
            Some((-0.0f64).to_be_bytes().to_vec()),
            Some(12i32.to_be_bytes().to_vec()),
            None,
            Some(vec![1]),
        ]
    }

    const ROW: &str = "abababab-abab-abab-abab-abababababab,2000-01-01T00:00:00.000Z,1999-12-31T23:59:59.999Z,q1,web_chat,a1,";

    #[test]
    fn rows_are_written_whatever_the_pieces() {
        let data = copy(&[
            row(
                "said \"hi\", then\nleft",
                "web_chat",
                &[Some("=x"), None, Some("b|-c")],
            ),
            row("", "web_chat", &[]),
        ]);
        let want = format!(
            "{ROW}'=x|b|'-c,\"said \"\"hi\"\", then\nleft\",ended,agent,42.857,,0.000,12,,true\r\n\
             {ROW},,ended,agent,42.857,,0.000,12,,true\r\n"
        );
        for size in [1, 2, 7, 64, data.len()] {
            let mut csv = ConversationCsv::new(CsvOptions::default());
            let mut out = Vec::new();
            for piece in data.chunks(size) {
                csv.push(piece, &mut out).unwrap();
            }
            assert_eq!(csv.finish().unwrap(), 2, "pieces of {size}");
            assert_eq!(String::from_utf8(out).unwrap(), want, "pieces of {size}");
        }
    }

    #[test]
    fn an_unknown_label_fails_and_a_cut_stream_is_an_error() {
        let data = copy(&[row("r", "carrier_pigeon", &[])]);
        let mut csv = ConversationCsv::new(CsvOptions::default());
        let err = csv.push(&data, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(&err, CopyRowsError::Label(l) if l.column == "conversation_facts.channel"),
            "{err}"
        );
        let data = copy(&[row("r", "web_chat", &[])]);
        let mut csv = ConversationCsv::new(CsvOptions::default());
        csv.push(&data[..data.len() - 2], &mut Vec::new()).unwrap();
        assert!(csv.finish().is_err());
    }

    #[test]
    fn the_semicolon_delimiter_is_quoted_instead_of_the_comma() {
        let data = copy(&[row("a;b,c", "web_chat", &[])]);
        let mut csv = ConversationCsv::new(CsvOptions {
            semicolon: true,
            bom: false,
        });
        let mut out = Vec::new();
        csv.push(&data, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(";\"a;b,c\";"), "{out}");
    }

    #[test]
    fn dates_and_years_as_to_char_writes_them() {
        let day = DAY_MICROS;
        let cases = [
            (0, "2000-01-01T00:00:00.000Z"),
            // Milliseconds truncated, not rounded.
            (999, "2000-01-01T00:00:00.000Z"),
            (1_999_999, "2000-01-01T00:00:01.999Z"),
            (59 * day, "2000-02-29T00:00:00.000Z"),
            (-730_119 * day, "0001-01-01T00:00:00.000Z"),
            // 1 BC (astronomical year 0, a leap year) and 2 BC.
            (-730_120 * day, "0001-12-31T00:00:00.000Z"),
            (-730_485 * day, "0001-01-01T00:00:00.000Z"),
            (-730_486 * day, "0002-12-31T00:00:00.000Z"),
            (2_921_940 * day, "10000-01-01T00:00:00.000Z"),
        ];
        for (micros, want) in cases {
            let mut out = Vec::new();
            time(Some(&i64::to_be_bytes(micros)), &mut out).ok();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{micros}");
        }
        let mut out = Vec::new();
        time(Some(&i64::MAX.to_be_bytes()), &mut out).ok();
        assert!(out.is_empty());
    }

    #[test]
    fn seconds_are_rounded_as_numeric_rounds_them() {
        let cases = [
            (0.0, "0.000"),
            (-0.0, "0.000"),
            (-0.0004, "0.000"),
            (0.0005, "0.001"),
            (-0.0005, "-0.001"),
            (2.0005, "2.001"),
            (9.9995, "10.000"),
            (540.333_333_333_333_3, "540.333"),
            (1e20, "100000000000000000000.000"),
            (1.5e-7, "0.000"),
            // The double 0.1235 is 0.12349999999999999867…: 0.1235 to
            // 15 digits, so 0.124 (`{:.3}` of the double writes 0.123).
            (0.1235, "0.124"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        let mut scratch = String::new();
        for (x, want) in cases {
            let mut out = Vec::new();
            round3(x, &mut scratch, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{x}");
        }
    }

    #[test]
    fn labels_need_no_quoting() {
        let plain = |l: &str| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                && !formula_start(l.as_bytes()[0])
        };
        assert!(Channel::ALL.iter().all(|v| plain(v.label())));
        assert!(ConversationStatus::ALL.iter().all(|v| plain(v.label())));
        assert!(EndedBy::ALL.iter().all(|v| plain(v.label())));
    }
}
