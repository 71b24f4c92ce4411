//! Queries on `feeds` and `notifications`: appending to a principal's
//! feed and reading it back in sequence order (NTF-1).
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use livedesk_platform::db::{bigint_array, stmt, text_array, uuid_array};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// One stored notification.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FeedRow {
    pub seq: i64,
    pub created_at: DateTime<Utc>,
    /// The encoded `Notification`, without sequence and time (set on read).
    pub body: Vec<u8>,
}

/// Feed queries; every one is scoped by org and recipient.
pub struct Feed;

/// A notification to append to one recipient's feed.
#[derive(Debug, Clone)]
pub struct Append {
    pub org: Uuid,
    pub recipient: String,
    /// The event that caused it: a recipient is told one kind of thing
    /// once per event.
    pub event: Uuid,
    pub conversation_id: String,
    /// The `kind` column: the oneof field's name.
    pub kind: &'static str,
    /// The encoded `Notification`, without sequence and time (set on read).
    pub body: Vec<u8>,
}

/// The key columns of `rows`, as arrays.
fn columns(rows: &[Append]) -> (Vec<Uuid>, Vec<String>, Vec<Uuid>, Vec<String>) {
    let mut out = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        out.0.push(r.org);
        out.1.push(r.recipient.clone());
        out.2.push(r.event);
        out.3.push(r.kind.to_owned());
    }
    out
}

impl Feed {
    /// Appends `rows` to their recipients' feeds, in order, and returns
    /// whether each was appended: not when its event already told that
    /// recipient that kind of thing (a replayed event changes nothing,
    /// EVT-3), nor a second copy of a row in `rows`.
    ///
    /// Must run inside the caller's transaction. Each recipient's `feeds`
    /// row is moved once for all its rows, and stays locked until commit,
    /// so a recipient's sequences commit in order and a reader that saw `n`
    /// never misses a later-committed `< n`. The rows are locked in one
    /// global order (org, then recipient), so two transactions appending
    /// for the same recipients never wait on each other in a cycle: what
    /// lets a consumer append a whole batch of events' notifications in
    /// one transaction, one commit per batch instead of one per event.
    pub async fn append_all<C: ConnectionTrait>(
        db: &C,
        rows: &[Append],
    ) -> Result<Vec<bool>, DbErr> {
        let mut keep = vec![false; rows.len()];
        if rows.is_empty() {
            return Ok(keep);
        }
        let (orgs, recipients, events, kinds) = columns(rows);
        let seen: HashSet<(Uuid, String, Uuid, String)> = db
            .query_all_raw(stmt(
                "SELECT n.org_id, n.recipient, n.event_id, n.kind FROM notifications n \
                 JOIN unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[]) AS q(o, r, e, k) \
                   ON n.org_id = q.o AND n.recipient = q.r AND n.event_id = q.e AND n.kind = q.k",
                [
                    uuid_array(&orgs),
                    text_array(&recipients),
                    uuid_array(&events),
                    text_array(&kinds),
                ],
            ))
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("", "org_id")?,
                    r.try_get("", "recipient")?,
                    r.try_get("", "event_id")?,
                    r.try_get("", "kind")?,
                ))
            })
            .collect::<Result<_, DbErr>>()?;
        let mut once = HashSet::new();
        let mut counts: BTreeMap<(Uuid, &str), i64> = BTreeMap::new();
        for (i, row) in rows.iter().enumerate() {
            let key = (
                row.org,
                row.recipient.clone(),
                row.event,
                row.kind.to_owned(),
            );
            if !seen.contains(&key) && once.insert(key) {
                keep[i] = true;
                *counts.entry((row.org, row.recipient.as_str())).or_default() += 1;
            }
        }
        if counts.is_empty() {
            return Ok(keep);
        }
        let (feed_orgs, feed_recipients, feed_counts) = counts.iter().fold(
            (Vec::new(), Vec::new(), Vec::new()),
            |(mut o, mut r, mut n), ((org, recipient), count)| {
                o.push(*org);
                r.push((*recipient).to_owned());
                n.push(*count);
                (o, r, n)
            },
        );
        // Sorted by (org, recipient): the lock order of the doc above.
        let mut next: HashMap<(Uuid, String), i64> = db
            .query_all_raw(stmt(
                "INSERT INTO feeds (org_id, recipient, last_seq) \
                 SELECT o, r, n FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS t(o, r, n) ORDER BY o, r \
                 ON CONFLICT (org_id, recipient) DO UPDATE SET last_seq = feeds.last_seq + EXCLUDED.last_seq \
                 RETURNING org_id, recipient, last_seq",
                [uuid_array(&feed_orgs), text_array(&feed_recipients), bigint_array(&feed_counts)],
            ))
            .await?
            .iter()
            .map(|r| {
                let (org, recipient, last): (Uuid, String, i64) = (
                    r.try_get("", "org_id")?,
                    r.try_get("", "recipient")?,
                    r.try_get("", "last_seq")?,
                );
                let count = counts.get(&(org, recipient.as_str())).copied().unwrap_or(0);
                Ok(((org, recipient), last - count + 1))
            })
            .collect::<Result<_, DbErr>>()?;
        let mut sql = String::from(
            "INSERT INTO notifications (org_id, recipient, seq, event_id, conversation_id, kind, body) VALUES ",
        );
        let mut values: Vec<sea_orm::Value> = Vec::new();
        for (row, _) in rows.iter().zip(&keep).filter(|(_, k)| **k) {
            let seq = next
                .get_mut(&(row.org, row.recipient.clone()))
                .ok_or_else(|| DbErr::Custom("feed sequence not returned".into()))?;
            if !values.is_empty() {
                sql.push(',');
            }
            let n = values.len();
            let _ = write!(
                sql,
                "(${},${},${},${},${},${},${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7
            );
            values.extend([
                row.org.into(),
                row.recipient.clone().into(),
                (*seq).into(),
                row.event.into(),
                row.conversation_id.clone().into(),
                row.kind.to_owned().into(),
                row.body.clone().into(),
            ]);
            *seq += 1;
        }
        db.execute_raw(stmt(&sql, values)).await?;
        Ok(keep)
    }

    /// Rows after `after_seq`, oldest first, at most `limit`.
    pub async fn after<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        recipient: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<FeedRow>, DbErr> {
        FeedRow::find_by_statement(stmt(
            "SELECT seq, created_at, body FROM notifications \
             WHERE org_id = $1 AND recipient = $2 AND seq > $3 ORDER BY seq LIMIT $4",
            [
                org.into(),
                recipient.to_owned().into(),
                after_seq.into(),
                limit.into(),
            ],
        ))
        .all(db)
        .await
    }

    /// The last sequence allocated to `recipient` (0 for a new feed).
    pub async fn last_seq<C: ConnectionTrait>(
        db: &C,
        org: Uuid,
        recipient: &str,
    ) -> Result<i64, DbErr> {
        let row = db
            .query_one_raw(stmt(
                "SELECT last_seq FROM feeds WHERE org_id = $1 AND recipient = $2",
                [org.into(), recipient.to_owned().into()],
            ))
            .await?;
        row.map_or(Ok(0), |r| r.try_get("", "last_seq"))
    }

    /// Deletes up to `batch` rows older than `days` days; returns how many.
    /// Idempotent, so any number of replicas may run it at once. The
    /// `feeds` rows stay, so numbering never restarts.
    pub async fn sweep<C: ConnectionTrait>(db: &C, days: u32, batch: i64) -> Result<u64, DbErr> {
        Ok(db
            .execute_raw(stmt(
                "DELETE FROM notifications WHERE ctid IN ( \
                   SELECT ctid FROM notifications WHERE created_at < now() - make_interval(days => $1) LIMIT $2)",
                [(days as i32).into(), batch.into()],
            ))
            .await?
            .rows_affected())
    }
}
