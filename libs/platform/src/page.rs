//! Keyset cursor pagination (CNV-15): the token encodes the sort key of the
//! last row returned, so pages stay stable while rows are inserted.
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::errors::FieldViolation;

/// Default and maximum page sizes.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

/// A decoded page request: size and the `(time, id)` after which to continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub size: u64,
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

impl Page {
    /// Parses the common `PageRequest` (absent = first page, default size).
    pub fn parse(
        req: Option<&livedesk_proto::common::v1::PageRequest>,
    ) -> Result<Self, FieldViolation> {
        let Some(req) = req else {
            return Ok(Self {
                size: DEFAULT_PAGE_SIZE,
                after: None,
            });
        };
        let size = match req.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if u64::from(n) > MAX_PAGE_SIZE => {
                return Err(FieldViolation::new(
                    "page.page_size",
                    format!("at most {MAX_PAGE_SIZE}"),
                ));
            }
            n => u64::from(n),
        };
        let after = if req.page_token.is_empty() {
            None
        } else {
            Some(decode(&req.page_token)?)
        };
        Ok(Self { size, after })
    }

    /// The response page: a token when the page was full.
    pub fn response(
        &self,
        returned: usize,
        last: Option<(DateTime<Utc>, Uuid)>,
    ) -> livedesk_proto::common::v1::PageResponse {
        let next_page_token = match last {
            Some((at, id)) if returned as u64 == self.size => encode(at, id),
            _ => String::new(),
        };
        livedesk_proto::common::v1::PageResponse { next_page_token }
    }
}

fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}.{}", at.timestamp_micros(), id.simple())
}

fn decode(token: &str) -> Result<(DateTime<Utc>, Uuid), FieldViolation> {
    let bad = || FieldViolation::new("page.page_token", "invalid page token");
    let (micros, id) = token.split_once('.').ok_or_else(bad)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // spec: CNV-15
    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
        let id = Uuid::now_v7();
        let page = Page {
            size: 2,
            after: None,
        };
        let token = page.response(2, Some((now, id))).next_page_token;
        let req = livedesk_proto::common::v1::PageRequest {
            page_size: 2,
            page_token: token,
        };
        assert_eq!(Page::parse(Some(&req)).unwrap().after, Some((now, id)));
        assert!(
            page.response(1, Some((now, id))).next_page_token.is_empty(),
            "short page = last page"
        );
        let bad = livedesk_proto::common::v1::PageRequest {
            page_size: 0,
            page_token: "zz".into(),
        };
        assert!(Page::parse(Some(&bad)).is_err());
    }
}
