//! Several events in one transaction: the checks of [`super::apply`], set
//! at a time.
//!
//! A lane hands over what is already queued behind the event it received
//! (up to [`EventHandler::BATCH`]). One transaction claims every event id
//! in `processed_events` with one statement, locks the positions of their
//! aggregates with another (in aggregate order, so two batches never wait
//! on each other in a cycle), walks the events in arrival order to give
//! each its verdict as [`super::apply`] would one at a time, hands the
//! events to apply to the handler together, moves the positions with one
//! statement and commits once. With a backlog, the commits (and their
//! waits on rows every event touches) are shared by the batch; with none,
//! a batch is one event and nothing waits for a batch to fill.
use std::collections::{BTreeMap, HashMap, HashSet};

use livedesk_platform::db::{bigint_array, stmt, text_array, uuid_array};
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use super::{ConsumerContext, EventHandler, HandlerError, sequence_of};
use crate::{ReceivedEvent, Staged};

/// What becomes of one event of a committed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Applied in the batch: acknowledge after commit.
    Done,
    /// Applied before (a redelivery, or a second copy in this batch).
    Duplicate,
    /// An earlier event of its aggregate has not been applied: park it.
    Early,
    /// Its aggregate moved past it over a gap: dead-letter it.
    Late { last: i64 },
}

/// The verdicts of events whose ids were `fresh` (newly claimed) and whose
/// aggregates stood at `positions`: the rule of [`super::apply`], with each
/// event applied in the batch moving its aggregate for the ones after it.
/// Returns the verdicts, in order, and the positions the batch moved.
pub(super) fn judge(
    events: &[(Uuid, &str, i64)],
    mut fresh: HashSet<Uuid>,
    mut positions: HashMap<String, i64>,
) -> (Vec<Verdict>, BTreeMap<String, i64>) {
    let mut verdicts = Vec::with_capacity(events.len());
    let mut moved = BTreeMap::new();
    for &(id, aggregate, sequence) in events {
        // A second copy of an id finds it claimed by the first.
        if !fresh.remove(&id) {
            verdicts.push(Verdict::Duplicate);
            continue;
        }
        if sequence > 0 {
            let last = positions.get(aggregate).copied().unwrap_or(0);
            if sequence <= last {
                verdicts.push(Verdict::Late { last });
                continue;
            }
            if sequence > last + 1 {
                verdicts.push(Verdict::Early);
                continue;
            }
            positions.insert(aggregate.to_owned(), sequence);
            moved.insert(aggregate.to_owned(), sequence);
        }
        verdicts.push(Verdict::Done);
    }
    (verdicts, moved)
}

/// Applies `events` in one transaction. On any error the transaction is
/// rolled back whole (nothing of the batch stays) and the error returned.
pub(super) async fn apply<H: EventHandler>(
    ctx: &ConsumerContext,
    handler: &H,
    name: &str,
    events: &[&ReceivedEvent],
) -> Result<(Vec<Verdict>, Vec<Staged>), HandlerError> {
    let keys = events
        .iter()
        .map(|e| {
            Ok((
                e.event_id,
                e.envelope.aggregate_id.as_str(),
                sequence_of(e)?,
            ))
        })
        .collect::<Result<Vec<_>, HandlerError>>()?;
    let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
    let txn = ctx.db.begin().await?;
    let fresh = txn
        .query_all_raw(stmt(
            "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[]) \
             ON CONFLICT DO NOTHING RETURNING event_id",
            [name.to_owned().into(), uuid_array(&ids)],
        ))
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "event_id"))
        .collect::<Result<HashSet<_>, _>>()?;
    let mut aggregates: Vec<String> = keys
        .iter()
        .filter(|k| k.2 > 0)
        .map(|k| k.1.to_owned())
        .collect();
    aggregates.sort();
    aggregates.dedup();
    let positions = if aggregates.is_empty() {
        HashMap::new()
    } else {
        // Locked until commit, in one order: see the module docs.
        txn.query_all_raw(stmt(
            "SELECT aggregate_id, last_sequence FROM event_consumer_positions \
             WHERE consumer = $1 AND aggregate_id = ANY($2) ORDER BY aggregate_id FOR UPDATE",
            [name.to_owned().into(), text_array(&aggregates)],
        ))
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get::<String>("", "aggregate_id")?,
                row.try_get::<i64>("", "last_sequence")?,
            ))
        })
        .collect::<Result<HashMap<_, _>, sea_orm::DbErr>>()?
    };
    let (verdicts, moved) = judge(&keys, fresh, positions);
    // Events not applied give their claim back, as a rolled-back single
    // event would: they are applied (or dead-lettered) later.
    let unclaimed: Vec<Uuid> = keys
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| matches!(v, Verdict::Early | Verdict::Late { .. }))
        .map(|(k, _)| k.0)
        .collect();
    if !unclaimed.is_empty() {
        txn.execute_raw(stmt(
            "DELETE FROM processed_events WHERE consumer = $1 AND event_id = ANY($2)",
            [name.to_owned().into(), uuid_array(&unclaimed)],
        ))
        .await?;
    }
    let applied: Vec<&ReceivedEvent> = events
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| **v == Verdict::Done)
        .map(|(e, _)| *e)
        .collect();
    let staged = if applied.is_empty() {
        Vec::new()
    } else {
        handler.handle_batch(&txn, &applied).await?
    };
    if !moved.is_empty() {
        let (aggregates, sequences): (Vec<String>, Vec<i64>) = moved.into_iter().unzip();
        txn.execute_raw(stmt(
            "INSERT INTO event_consumer_positions (consumer, aggregate_id, last_sequence) \
             SELECT $1, a, s FROM unnest($2::text[], $3::bigint[]) AS t(a, s) \
             ON CONFLICT (consumer, aggregate_id) DO UPDATE \
             SET last_sequence = GREATEST(event_consumer_positions.last_sequence, EXCLUDED.last_sequence)",
            [
                name.to_owned().into(),
                text_array(&aggregates),
                bigint_array(&sequences),
            ],
        ))
        .await?;
    }
    txn.commit().await?;
    Ok((verdicts, staged))
}

#[cfg(test)]
mod tests {
    use super::{Verdict, judge};
    use std::collections::{HashMap, HashSet};
    use uuid::Uuid;

    fn ids(n: usize) -> Vec<Uuid> {
        (0..n).map(|_| Uuid::now_v7()).collect()
    }

    #[test]
    fn each_event_applied_in_the_batch_moves_its_aggregate_for_the_next() {
        let id = ids(4);
        let events = [
            (id[0], "a", 3),
            (id[1], "a", 4),
            (id[2], "b", 1),
            (id[3], "a", 5),
        ];
        let positions = HashMap::from([("a".to_owned(), 2)]);
        let (verdicts, moved) = judge(&events, id.iter().copied().collect(), positions);
        assert_eq!(verdicts, vec![Verdict::Done; 4]);
        assert_eq!(moved.get("a"), Some(&5));
        assert_eq!(moved.get("b"), Some(&1));
    }

    #[test]
    fn an_early_event_waits_even_when_its_predecessor_comes_later_in_the_batch() {
        let id = ids(3);
        // 2 before 1: 2 is early (parked, retried once 1 is applied).
        let events = [(id[0], "a", 2), (id[1], "a", 1), (id[2], "a", 3)];
        let (verdicts, moved) = judge(&events, id.iter().copied().collect(), HashMap::new());
        assert_eq!(
            verdicts,
            vec![Verdict::Early, Verdict::Done, Verdict::Early]
        );
        assert_eq!(moved.get("a"), Some(&1));
    }

    #[test]
    fn duplicates_late_events_and_unsequenced_ones_are_told_apart() {
        let id = ids(4);
        let events = [
            (id[0], "a", 1), // applied before: not fresh
            (id[1], "a", 2), // the aggregate is at 5: late
            (id[2], "b", 0), // not sequenced: always applied
            (id[2], "b", 0), // the same id again in the batch
        ];
        let fresh: HashSet<Uuid> = [id[1], id[2]].into_iter().collect();
        let positions = HashMap::from([("a".to_owned(), 5)]);
        let (verdicts, moved) = judge(&events, fresh, positions);
        assert_eq!(
            verdicts,
            vec![
                Verdict::Duplicate,
                Verdict::Late { last: 5 },
                Verdict::Done,
                Verdict::Duplicate
            ]
        );
        assert!(moved.is_empty());
    }
}
