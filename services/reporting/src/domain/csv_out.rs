//! CSV output (RPT-4): RFC 4180 quoting (done by the csv crate), UTF-8,
//! optional `;` delimiter and BOM, formula-injection protection, and a
//! writer that hands out ~64 KiB chunks so an export never holds more.
use std::borrow::Cow;

/// Size at which a chunk is handed out.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// The UTF-8 byte-order mark some spreadsheet locales need to read UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Characters a spreadsheet reads as the start of a formula (OWASP CSV
/// injection): `=`, `+`, `-`, `@`, and tab / carriage return, which some
/// spreadsheets strip before evaluating what follows.
const DANGEROUS_FIRST: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Makes a text cell safe to open in a spreadsheet: a cell starting with
/// a formula character is prefixed with a single quote, so it is shown as
/// text and never evaluated. Other cells are returned unchanged.
pub fn safe_cell(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some(c) if DANGEROUS_FIRST.contains(&c) => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// Whether a cell starting with the byte `first` would be read as a
/// formula: [`safe_cell`]'s rule on bytes (the characters are ASCII, and
/// in UTF-8 no byte of another character is ASCII), for cells written
/// from bytes (`copy_csv`).
pub(crate) fn formula_start(first: u8) -> bool {
    DANGEROUS_FIRST
        .iter()
        .any(|&c| u32::from(first) == c as u32)
}

/// How the caller wants the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvOptions {
    /// `;` instead of `,` (spreadsheets in locales with a decimal comma).
    pub semicolon: bool,
    /// Start the file with a UTF-8 byte-order mark.
    pub bom: bool,
}

/// A CSV writer over an in-memory buffer that is drained in chunks.
pub struct ChunkedCsv {
    builder: csv::WriterBuilder,
    writer: csv::Writer<Vec<u8>>,
}

impl std::fmt::Debug for ChunkedCsv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedCsv").finish_non_exhaustive()
    }
}

impl ChunkedCsv {
    /// Starts a file: BOM (when asked) and the header row.
    pub fn new(options: CsvOptions, header: &[&str]) -> Result<Self, csv::Error> {
        let mut buffer = Vec::with_capacity(CHUNK_BYTES + 4096);
        if options.bom {
            buffer.extend_from_slice(BOM);
        }
        let mut builder = csv::WriterBuilder::new();
        builder
            .delimiter(if options.semicolon { b';' } else { b',' })
            .quote_style(csv::QuoteStyle::Necessary)
            .terminator(csv::Terminator::CRLF);
        let writer = builder.from_writer(buffer);
        let mut out = Self { builder, writer };
        out.writer.write_record(header)?;
        Ok(out)
    }

    /// Writes one row. Text cells must already have passed [`safe_cell`];
    /// numbers and timestamps produced by the service need not.
    pub fn row<I, S>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        self.writer.write_record(cells)
    }

    /// Hands out the buffered bytes once they reach [`CHUNK_BYTES`].
    pub fn take_full_chunk(&mut self) -> Result<Option<Vec<u8>>, csv::Error> {
        self.writer.flush()?;
        if self.writer.get_ref().len() < CHUNK_BYTES {
            return Ok(None);
        }
        // The writer owns its buffer: swap in a fresh writer (same
        // settings, header already written) and take the old one's bytes.
        let fresh = self
            .builder
            .from_writer(Vec::with_capacity(CHUNK_BYTES + 4096));
        let full = std::mem::replace(&mut self.writer, fresh);
        Ok(Some(full.into_inner().map_err(|e| e.into_error())?))
    }

    /// Hands out whatever is left (the last chunk; may be short).
    pub fn finish(self) -> Result<Vec<u8>, csv::Error> {
        Ok(self.writer.into_inner().map_err(|e| e.into_error())?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_quoted_and_others_untouched() {
        assert_eq!(safe_cell("=cmd()"), "'=cmd()");
        assert_eq!(safe_cell("+1"), "'+1");
        assert_eq!(safe_cell("-1"), "'-1");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("\t=x"), "'\t=x");
        assert_eq!(safe_cell("\r=x"), "'\r=x");
        assert_eq!(safe_cell("after-sales"), "after-sales");
        assert_eq!(safe_cell(""), "");
        assert!(matches!(safe_cell("plain"), Cow::Borrowed(_)));
    }

    /// The byte rule and the text rule agree on every first character.
    #[test]
    fn the_byte_rule_is_the_text_rule() {
        for b in 0..=255u8 {
            let text = if b.is_ascii() {
                format!("{}x", b as char)
            } else {
                "éx".to_owned()
            };
            let first = text.as_bytes()[0];
            assert_eq!(
                formula_start(first),
                matches!(safe_cell(&text), Cow::Owned(_)),
                "{text:?}"
            );
        }
        assert!(DANGEROUS_FIRST.iter().all(char::is_ascii));
    }

    #[test]
    fn header_bom_and_delimiter_follow_the_options() {
        let mut out = ChunkedCsv::new(
            CsvOptions {
                semicolon: true,
                bom: true,
            },
            &["a", "b"],
        )
        .unwrap();
        out.row(["x;y", "z"]).unwrap();
        let bytes = out.finish().unwrap();
        assert!(bytes.starts_with(BOM));
        assert_eq!(&bytes[3..], b"a;b\r\n\"x;y\";z\r\n");
    }

    #[test]
    fn quotes_newlines_and_delimiters_are_quoted_per_rfc_4180() {
        let mut out = ChunkedCsv::new(CsvOptions::default(), &["v"]).unwrap();
        out.row(["say \"hi\",\nbye"]).unwrap();
        assert_eq!(out.finish().unwrap(), b"v\r\n\"say \"\"hi\"\",\nbye\"\r\n");
    }

    #[test]
    fn chunks_are_handed_out_at_the_threshold() {
        let mut out = ChunkedCsv::new(CsvOptions::default(), &["v"]).unwrap();
        let cell = "x".repeat(1000);
        let mut chunks = Vec::new();
        for _ in 0..200 {
            out.row([cell.as_str()]).unwrap();
            if let Some(c) = out.take_full_chunk().unwrap() {
                chunks.push(c);
            }
        }
        chunks.push(out.finish().unwrap());
        assert!(chunks.len() >= 3);
        assert!(
            chunks[..chunks.len() - 1]
                .iter()
                .all(|c| c.len() >= CHUNK_BYTES && c.len() < CHUNK_BYTES + 2048)
        );
        assert_eq!(chunks.iter().map(Vec::len).sum::<usize>(), 3 + 200 * 1002);
    }
}
