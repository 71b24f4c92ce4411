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

use crate::domain::{CHUNK_BYTES, ChunkedCsv, CsvOptions, ExportKind, Range, Scope};
use crate::error::Error;
use crate::store::{Crlf, CursorKind, ExportCursor, conversations_copy, copy_connection, sqlx_err};

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
/// answers the RPC itself), the BOM and header first, the rows in ~64 KiB chunks with RFC 4180
/// line ends. The same bounded channel gives the same back-pressure: a
/// slow client stops the reading, and PostgreSQL's sending with it.
async fn copy(
    db: DatabaseConnection,
    org_id: Uuid,
    scope: Scope,
    range: Range,
    options: CsvOptions,
) -> Result<ReceiverStream<Result<CsvChunk, Status>>, Error> {
    let statement = conversations_copy(org_id, &range, &scope, options);
    let mut conn = copy_connection(&db).await?;
    let head = ChunkedCsv::new(options, header(ExportKind::Conversations))?.finish()?;
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    tokio::spawn(async move {
        let outcome = copy_rows(&mut conn, &statement, head, &tx).await;
        match outcome {
            Ok(Copied::Done(bytes)) => tracing::info!(%org_id, bytes, "csv export done"),
            Ok(Copied::Abandoned(bytes)) => {
                tracing::info!(%org_id, bytes, "csv export abandoned by the client");
                conn.close_on_drop();
            }
            Err(e) => {
                conn.close_on_drop();
                let _ = tx.send(Err(Error::from(sqlx_err(e)).into())).await;
            }
        }
    });
    Ok(ReceiverStream::new(rx))
}

/// How a `COPY` ended (bytes sent).
enum Copied {
    Done(u64),
    /// The client went away: the `COPY` was left unread.
    Abandoned(u64),
}

/// Runs `statement` on `conn` and sends its rows after `head`.
async fn copy_rows(
    conn: &mut sea_orm::sqlx::PgConnection,
    statement: &str,
    mut chunk: Vec<u8>,
    tx: &mpsc::Sender<Result<CsvChunk, Status>>,
) -> Result<Copied, sea_orm::sqlx::Error> {
    let mut rows = conn.copy_out_raw(statement).await?;
    let mut crlf = Crlf::default();
    let mut bytes = 0u64;
    while let Some(piece) = rows.next().await {
        crlf.push(&piece?, &mut chunk);
        if chunk.len() >= CHUNK_BYTES {
            bytes += chunk.len() as u64;
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_BYTES + 4096));
            if tx.send(Ok(CsvChunk { data: full })).await.is_err() {
                return Ok(Copied::Abandoned(bytes));
            }
        }
    }
    bytes += chunk.len() as u64;
    if !chunk.is_empty() && tx.send(Ok(CsvChunk { data: chunk })).await.is_err() {
        return Ok(Copied::Abandoned(bytes));
    }
    Ok(Copied::Done(bytes))
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
