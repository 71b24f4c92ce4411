//! The streaming side of `ExportCsv` (RPT-4): a task reads the cursor a
//! batch at a time, writes CSV into a buffer and sends ~64 KiB chunks
//! through a small bounded channel. A slow client slows the reader
//! (back-pressure), so memory stays constant whatever the export's size.
use livedesk_proto::reporting::v1::CsvChunk;
use sea_orm::DatabaseConnection;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use uuid::Uuid;

use super::cells::{cells, header};
use tokio_stream::StreamExt;

use crate::domain::{
    CHUNK_BYTES, ChunkedCsv, ConversationCsv, CsvOptions, ExportKind, Range, Scope,
};
use crate::error::Error;
use crate::store::{CursorKind, ExportCursor, conversations_copy, copy_connection, sqlx_err};

/// Chunks in flight between the reader and the client.
const CHANNEL_CHUNKS: usize = 2;

/// Opens the cursor (so errors opening it answer the RPC itself) and
/// spawns the writer.
pub async fn start(
    db: DatabaseConnection,
    org_id: Uuid,
    scope: Scope,
    kind: ExportKind,
    range: Range,
    options: CsvOptions,
) -> Result<ReceiverStream<Result<CsvChunk, Status>>, Error> {
    let Some(cursor_kind) = CursorKind::of(kind) else {
        return copy(db, org_id, scope, range, options).await;
    };
    let cursor = ExportCursor::open(&db, cursor_kind, org_id, range, &scope).await?;
    let csv = ChunkedCsv::new(options, header(kind))?;
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    tokio::spawn(async move {
        let rows = match write_all(cursor, csv, &tx).await {
            Ok(rows) => rows,
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        tracing::info!(%org_id, ?kind, rows, "csv export done");
    });
    Ok(ReceiverStream::new(rx))
}

/// The conversations export: `COPY` out of PostgreSQL on a connection of
/// its own (taken before the RPC answers, so a database that is down
/// answers the RPC itself), the BOM and header first, then the rows,
/// written by [`ConversationCsv`] as they arrive, in ~64 KiB chunks. The
/// same bounded channel gives the same back-pressure: a slow client stops
/// the reading, and PostgreSQL's sending with it.
async fn copy(
    db: DatabaseConnection,
    org_id: Uuid,
    scope: Scope,
    range: Range,
    options: CsvOptions,
) -> Result<ReceiverStream<Result<CsvChunk, Status>>, Error> {
    let statement = conversations_copy(org_id, &range, &scope);
    let mut conn = copy_connection(&db).await?;
    let head = ChunkedCsv::new(options, header(ExportKind::Conversations))?.finish()?;
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    tokio::spawn(async move {
        let csv = ConversationCsv::new(options);
        let outcome = copy_rows(&mut conn, &statement, csv, head, &tx).await;
        match outcome {
            Ok(Copied::Done(rows)) => tracing::info!(%org_id, rows, "csv export done"),
            Ok(Copied::Abandoned) => {
                tracing::info!(%org_id, "csv export abandoned by the client");
                conn.close_on_drop();
            }
            Err(e) => {
                // The `COPY` may still be sending (a row with an unknown
                // label stopped the writing): the connection goes.
                conn.close_on_drop();
                let _ = tx.send(Err(e.into())).await;
            }
        }
    });
    Ok(ReceiverStream::new(rx))
}

/// How a `COPY` ended.
enum Copied {
    /// Every row sent (how many).
    Done(u64),
    /// The client went away: the `COPY` was left unread.
    Abandoned,
}

/// Runs `statement` on `conn` and sends its rows, written by `csv`, after
/// `head`.
async fn copy_rows(
    conn: &mut sea_orm::sqlx::PgConnection,
    statement: &str,
    mut csv: ConversationCsv,
    mut chunk: Vec<u8>,
    tx: &mpsc::Sender<Result<CsvChunk, Status>>,
) -> Result<Copied, Error> {
    let mut rows = conn
        .copy_out_raw(statement)
        .await
        .map_err(|e| Error::from(sqlx_err(e)))?;
    chunk.reserve(CHUNK_BYTES + 4096);
    while let Some(piece) = rows.next().await {
        let piece = piece.map_err(|e| Error::from(sqlx_err(e)))?;
        csv.push(&piece, &mut chunk)?;
        if chunk.len() >= CHUNK_BYTES {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_BYTES + 4096));
            if tx.send(Ok(CsvChunk { data: full })).await.is_err() {
                return Ok(Copied::Abandoned);
            }
        }
    }
    let done = csv.finish()?;
    if !chunk.is_empty() && tx.send(Ok(CsvChunk { data: chunk })).await.is_err() {
        return Ok(Copied::Abandoned);
    }
    Ok(Copied::Done(done))
}

/// Writes every row; returns how many, or stops early (Ok) when the
/// client went away.
async fn write_all(
    cursor: ExportCursor,
    mut csv: ChunkedCsv,
    tx: &mpsc::Sender<Result<CsvChunk, Status>>,
) -> Result<u64, Error> {
    let mut rows = 0u64;
    loop {
        let batch = cursor.next_batch().await?;
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            csv.row(cells(row))?;
            rows += 1;
            if let Some(data) = csv.take_full_chunk()?
                && tx.send(Ok(CsvChunk { data })).await.is_err()
            {
                tracing::info!(rows, "csv export abandoned by the client");
                cursor.close().await?;
                return Ok(rows);
            }
        }
    }
    cursor.close().await?;
    let last = csv.finish()?;
    if !last.is_empty() {
        let _ = tx.send(Ok(CsvChunk { data: last })).await;
    }
    Ok(rows)
}
