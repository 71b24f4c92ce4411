//! Tags and their recommendation (CNV-11): admins define tags (category,
//! keyword rules); staff list them and get them ranked for a conversation.
use livedesk_auth::principal;
use livedesk_platform::errors::{FieldViolation, parse_uuid};
use livedesk_proto::conversations::v1 as pb;
use tonic::Request;

use super::access::visible;
use super::service::ConversationsGrpc;
use crate::domain::{TagRule, TaggedText, recommend};
use crate::error::{Entity, Error};
use crate::store::{TagRow, Tags};

/// Tagged conversations learned from per recommendation.
const HISTORY_SAMPLE: u64 = 500;
/// Most keywords on one tag.
const MAX_KEYWORDS: usize = 50;

fn view(t: &TagRow) -> pb::Tag {
    pb::Tag {
        id: t.id.to_string(),
        name: t.name.clone(),
        category: t.category.clone(),
        keywords: t.keywords.clone(),
    }
}

fn one_line(field: &str, raw: &str, min: usize, v: &mut Vec<FieldViolation>) -> String {
    let t = raw.trim();
    let n = t.chars().count();
    if n < min || n > 50 || t.chars().any(char::is_control) {
        v.push(FieldViolation::new(
            field,
            format!("{min} to 50 characters, one line"),
        ));
    }
    t.to_owned()
}

impl ConversationsGrpc {
    /// The org's tags.
    pub(super) async fn list_tags(
        &self,
        req: Request<pb::ListTagsRequest>,
    ) -> Result<pb::ListTagsResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("list tags")?;
        let tags = Tags::list(&self.db, who.org_id).await?;
        Ok(pb::ListTagsResponse {
            tags: tags.iter().map(view).collect(),
        })
    }

    /// Creates a tag (or updates the one of the same name); with an id,
    /// updates that tag (admins).
    pub(super) async fn upsert_tag(
        &self,
        req: Request<pb::UpsertTagRequest>,
    ) -> Result<pb::Tag, Error> {
        let who = principal(&req)?;
        who.require_admin("change tags")?;
        let org = who.org_id;
        let tag = req.get_ref().tag.clone().unwrap_or_default();
        let mut v = Vec::new();
        let id = match tag.id.trim() {
            "" => None,
            raw => parse_uuid("tag.id", raw).map_err(|e| v.push(e)).ok(),
        };
        let name = one_line("tag.name", &tag.name, 1, &mut v);
        let category = one_line("tag.category", &tag.category, 0, &mut v);
        let mut keywords: Vec<String> = Vec::new();
        for k in &tag.keywords {
            let k = one_line("tag.keywords", &k.to_lowercase(), 1, &mut v);
            if !keywords.contains(&k) {
                keywords.push(k);
            }
        }
        if keywords.len() > MAX_KEYWORDS {
            v.push(FieldViolation::new(
                "tag.keywords",
                format!("at most {MAX_KEYWORDS}"),
            ));
        }
        if !v.is_empty() {
            return Err(Error::Invalid(v));
        }
        let row = match id {
            None => Tags::upsert_by_name(&self.db, org, &name, &category, &keywords).await?,
            Some(id) => {
                if Tags::name_taken(&self.db, org, &name, id).await? {
                    return Err(Error::TagNameTaken);
                }
                // A concurrent rename to the same name loses at the index.
                Tags::update(&self.db, org, id, &name, &category, &keywords)
                    .await
                    .map_err(|e| {
                        if livedesk_platform::db::is_unique_violation_of(&e, "tags_name") {
                            Error::TagNameTaken
                        } else {
                            e.into()
                        }
                    })?
            }
        };
        Ok(view(&row.ok_or(Error::NotFound(Entity::Tag))?))
    }

    /// The org's tags ranked for a conversation's content.
    pub(super) async fn recommend_tags(
        &self,
        req: Request<pb::RecommendTagsRequest>,
    ) -> Result<pb::RecommendTagsResponse, Error> {
        let who = principal(&req)?;
        who.require_staff("recommend tags")?;
        let body = req.get_ref();
        let id = parse_uuid("conversation_id", &body.conversation_id)?;
        let limit = match body.limit {
            0 => 5,
            n @ 1..=50 => n as usize,
            _ => return Err(FieldViolation::new("limit", "at most 50").into()),
        };
        visible(&self.db, &who, id).await?;
        let org = who.org_id;
        let tags = Tags::list(&self.db, org).await?;
        let text = Tags::text_of(&self.db, org, id).await?;
        let history: Vec<TaggedText> = Tags::history(&self.db, org, id, HISTORY_SAMPLE)
            .await?
            .into_iter()
            .map(|h| TaggedText {
                tags: h.qual_tags,
                text: h.text,
            })
            .collect();
        let rules: Vec<TagRule> = tags
            .iter()
            .map(|t| TagRule {
                name: t.name.clone(),
                keywords: t.keywords.clone(),
            })
            .collect();
        let ranked = recommend(&rules, &history, &text);
        Ok(pb::RecommendTagsResponse {
            tags: ranked
                .into_iter()
                .take(limit)
                .map(|(i, score)| pb::TagScore {
                    tag: tags.get(i).map(view),
                    score,
                })
                .collect(),
        })
    }
}
