//! Attachment metadata rules (CNV-6): a safe file name, an allowed content
//! type, a declared size within the limit and a well-formed SHA-256.
use livedesk_platform::errors::FieldViolation;

/// Content types accepted: images, PDF, plain text and office documents.
pub const ALLOWED_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// Valid metadata of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentMeta {
    pub file_name: String,
    /// Lowercased, without parameters (`text/plain; charset=utf-8` → `text/plain`).
    pub content_type: String,
    /// Declared size; 0 when the client did not say.
    pub size_bytes: u64,
    /// Declared lowercase hex SHA-256; empty when the client did not say.
    pub sha256: String,
}

impl AttachmentMeta {
    /// Checks every field at once against the size limit `max`.
    pub fn parse(
        file_name: &str,
        content_type: &str,
        size_bytes: u64,
        sha256: &str,
        max: u64,
    ) -> Result<Self, Vec<FieldViolation>> {
        let mut v = Vec::new();
        let name = file_name.trim();
        if name.is_empty()
            || name.chars().count() > 255
            || name
                .chars()
                .any(|c| c.is_control() || matches!(c, '/' | '\\'))
            || name == "."
            || name == ".."
        {
            v.push(FieldViolation::new(
                "metadata.file_name",
                "1 to 255 characters, no path separators or control characters",
            ));
        }
        let ct = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !ALLOWED_TYPES.contains(&ct.as_str()) {
            v.push(FieldViolation::new(
                "metadata.content_type",
                "not an allowed type (images, PDF, text, office documents)",
            ));
        }
        if size_bytes > max {
            v.push(FieldViolation::new(
                "metadata.size_bytes",
                format!("at most {max} bytes"),
            ));
        }
        let sha = sha256.trim().to_ascii_lowercase();
        if !sha.is_empty() && (sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit())) {
            v.push(FieldViolation::new(
                "metadata.sha256",
                "64 hexadecimal digits",
            ));
        }
        if v.is_empty() {
            Ok(Self {
                file_name: name.to_owned(),
                content_type: ct,
                size_bytes,
                sha256: sha,
            })
        } else {
            Err(v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // spec: CNV-6
    #[test]
    fn type_size_name_and_checksum_are_checked() {
        let ok = AttachmentMeta::parse("receipt.pdf", "Application/PDF", 10, "", 100);
        assert_eq!(
            ok.map(|m| m.content_type),
            Ok("application/pdf".to_string())
        );
        assert!(AttachmentMeta::parse("a.txt", "text/plain; charset=utf-8", 1, "", 100).is_ok());
        assert!(AttachmentMeta::parse("a.exe", "application/x-msdownload", 1, "", 100).is_err());
        assert!(AttachmentMeta::parse("a.png", "image/png", 101, "", 100).is_err());
        assert!(AttachmentMeta::parse("../etc/passwd", "text/plain", 1, "", 100).is_err());
        assert!(AttachmentMeta::parse("a.png", "image/png", 1, "xyz", 100).is_err());
        let all = AttachmentMeta::parse("", "x/y", 200, "zz", 100);
        assert_eq!(all.map_err(|v| v.len()), Err(4), "every field at once");
    }
}
