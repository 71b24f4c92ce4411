//! PostgreSQL storage of routing: migrations and queries. Every query is
//! scoped by org (TEN-2); concurrency rules live in the SQL (RTG-6).

mod agents;
mod backlog;
mod entries;
mod legs;
mod memberships;
mod migrator;
mod offers;
mod orgs;
mod positions;
mod privacy;
mod queues;
mod transfers;

pub use agents::{AgentRow, Agents, NewAgent};
pub use backlog::Backlog;
pub use entries::{Entries, EntryRow, NewEntry, WaitingCursor};
pub use legs::{LegRow, Legs};
pub use memberships::Memberships;
pub use migrator::Migrator;
pub use offers::{NewOffer, OfferRow, Offers};
pub use orgs::Orgs;
pub use positions::Positions;
pub use privacy::SubjectData;
pub use queues::{QueueRow, Queues};
pub use transfers::Transfers;

pub(crate) use livedesk_platform::db::{int_array, text_array, uuid_array};

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};

use crate::domain::UnknownLabel;

/// The one row of `st`, read as `S` (columns as stored) and checked into
/// `T` (enums parsed): a row with an unknown stored value is an error.
pub(crate) async fn one_checked<S, T, C>(db: &C, st: Statement) -> Result<Option<T>, DbErr>
where
    C: ConnectionTrait,
    S: FromQueryResult,
    T: TryFrom<S, Error = UnknownLabel>,
{
    Ok(S::find_by_statement(st)
        .one(db)
        .await?
        .map(T::try_from)
        .transpose()?)
}

/// Every row of `st`, checked like [`one_checked`].
pub(crate) async fn all_checked<S, T, C>(db: &C, st: Statement) -> Result<Vec<T>, DbErr>
where
    C: ConnectionTrait,
    S: FromQueryResult,
    T: TryFrom<S, Error = UnknownLabel>,
{
    let rows = S::find_by_statement(st).all(db).await?;
    Ok(rows
        .into_iter()
        .map(T::try_from)
        .collect::<Result<_, _>>()?)
}

/// Runs a statement and tells whether it changed exactly one row (the
/// conditional updates and deletes of one keyed row).
pub(crate) async fn changed_one<C: ConnectionTrait>(db: &C, st: Statement) -> Result<bool, DbErr> {
    Ok(db.execute_raw(st).await?.rows_affected() == 1)
}

/// The single UUID column `column` of every row of `st`.
pub(crate) async fn uuids<C: ConnectionTrait>(
    db: &C,
    st: Statement,
    column: &str,
) -> Result<Vec<uuid::Uuid>, DbErr> {
    let rows = db.query_all_raw(st).await?;
    rows.iter()
        .map(|r| r.try_get::<uuid::Uuid>("", column))
        .collect()
}
